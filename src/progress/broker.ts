/**
 * In-process fan-out of job changes: a tiny typed pub/sub for listeners interested in one job
 * (or all jobs), and an observer that forwards to several observers (chat updater, sandbox UI,
 * metrics). A failing listener or observer never affects the others.
 *
 * @module
 */
import type { Job } from "../jobs/model.ts";
import type { JobObserver } from "../jobs/service.ts";

/** Receives a job's latest state. */
export type JobListener = (job: Job) => void;

/** Where listener and observer failures are reported. */
export interface FanoutLogger {
  error(message: string, properties?: Record<string, unknown>): void;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Typed in-process pub/sub of job states, keyed by job id. It is also a {@linkcode JobObserver},
 * so it can be one target of an {@linkcode ObserverFanout}.
 */
export class ProgressBroker implements JobObserver {
  readonly #byJob = new Map<string, Set<JobListener>>();
  readonly #all = new Set<JobListener>();
  readonly #logger?: FanoutLogger;

  constructor(options: { logger?: FanoutLogger } = {}) {
    this.#logger = options.logger;
  }

  /** Calls `listener` with every published state of job `jobId`; returns the unsubscribe. */
  subscribe(jobId: string, listener: JobListener): () => void {
    let listeners = this.#byJob.get(jobId);
    if (!listeners) {
      listeners = new Set();
      this.#byJob.set(jobId, listeners);
    }
    listeners.add(listener);
    return () => {
      const current = this.#byJob.get(jobId);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.#byJob.delete(jobId);
    };
  }

  /** Calls `listener` with every published state of every job; returns the unsubscribe. */
  subscribeAll(listener: JobListener): () => void {
    this.#all.add(listener);
    return () => this.#all.delete(listener);
  }

  /** Number of listeners for one job, or for all jobs when no id is given. */
  listenerCount(jobId?: string): number {
    if (jobId !== undefined) return this.#byJob.get(jobId)?.size ?? 0;
    let count = this.#all.size;
    for (const listeners of this.#byJob.values()) count += listeners.size;
    return count;
  }

  /** Delivers a job state to its listeners, then to the all-jobs listeners. */
  publish(job: Job): void {
    const listeners = [...(this.#byJob.get(job.id) ?? []), ...this.#all];
    for (const listener of listeners) {
      try {
        listener(job);
      } catch (error) {
        this.#logger?.error("progress listener failed", { job_id: job.id, error: describe(error) });
      }
    }
  }

  /** Publishes the change. */
  onUpdate(job: Job): void {
    this.publish(job);
  }

  /** Publishes the final state. */
  onFinished(job: Job): Promise<void> {
    this.publish(job);
    return Promise.resolve();
  }
}

/** Forwards job changes to several observers; one failing observer does not stop the others. */
export class ObserverFanout implements JobObserver {
  readonly #observers: readonly JobObserver[];
  readonly #logger: FanoutLogger;

  constructor(observers: readonly JobObserver[], options: { logger: FanoutLogger }) {
    this.#observers = [...observers];
    this.#logger = options.logger;
  }

  /** Calls every observer's `onUpdate`; never throws. */
  onUpdate(job: Job): void {
    for (const observer of this.#observers) {
      try {
        observer.onUpdate(job);
      } catch (error) {
        this.#logger.error("job observer failed on update", {
          job_id: job.id,
          error: describe(error),
        });
      }
    }
  }

  /** Runs every observer's `onFinished` concurrently; resolves when all settled, never rejects. */
  async onFinished(job: Job): Promise<void> {
    const results = await Promise.allSettled(
      this.#observers.map((observer) => {
        try {
          return observer.onFinished(job);
        } catch (error) {
          return Promise.reject(error);
        }
      }),
    );
    for (const result of results) {
      if (result.status === "rejected") {
        this.#logger.error("job observer failed on finish", {
          job_id: job.id,
          error: describe(result.reason),
        });
      }
    }
  }
}
