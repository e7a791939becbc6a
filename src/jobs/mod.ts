/**
 * The job layer: what the composition root and the bot use.
 *
 * - {@linkcode KvJobService}: submit, status, list and cancel (the `JobService` contract).
 * - {@linkcode JobWorker}: runs queued jobs, one per instance; shares a wake-up and cancel path with
 *   the service through {@linkcode LocalJobRunner}.
 * - {@linkcode applyEvent}: downloader events → progress.
 *
 * @module
 */
export type { JobObserver, JobService, JobView, Requester, SubmitResult } from "./service.ts";
export type { Job, JobError, JobFile, JobProgress, JobResult, JobState } from "./model.ts";
export { FINAL_STATES, isFinal, jobSchema } from "./model.ts";
export { KvJobService, type KvJobServiceDeps, type LocalJobRunner } from "./kv_service.ts";
export {
  type InspectedOutput,
  type JobLogger,
  type JobMetricsSink,
  JobWorker,
  type JobWorkerDeps,
} from "./worker.ts";
export { applyEvent, initialProgress } from "./progress.ts";
export { isJobId, JOB_ID_LENGTH, newJobId } from "./ids.ts";
export {
  CANCELLED_ERROR,
  INTERRUPTED_ERROR,
  jobOutputDir,
  recoverInterrupted,
  sweepOutputs,
} from "./recovery.ts";
