/**
 * The one guard around the job observer: a failing observer (the chat updater, a test fake) is
 * logged and never breaks the worker, recovery or a cancel.
 *
 * @module
 */
import type { Log } from "../log/logger.ts";
import { errorText } from "../runtime/error_text.ts";
import type { Job } from "./model.ts";
import type { JobObserver } from "./service.ts";

/** An observer whose calls never throw or reject; failures go to `logger`. */
export function guardedObserver(observer: JobObserver, logger: Log): JobObserver {
  return {
    onUpdate(job: Job, position?: number): void {
      try {
        observer.onUpdate(job, position);
      } catch (error) {
        logger.error("observer failed on a job update", {
          job_id: job.id,
          error: errorText(error),
        });
      }
    },
    async onFinished(job: Job): Promise<void> {
      try {
        await observer.onFinished(job);
      } catch (error) {
        logger.error("observer failed on a finished job", {
          job_id: job.id,
          error: errorText(error),
        });
      }
    },
  };
}
