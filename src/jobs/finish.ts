/**
 * The end of a run in KV, while its lease is still held: the final state stored with every index
 * in one atomic write, or the job put back in the queue after a shutdown. Both are safe against a
 * worker that took the job over meanwhile (the lease's versionstamp is checked). Also the log
 * line of a run that ended for a reason of the server's.
 *
 * @module
 */
import { retryCas } from "../kv/cas.ts";
import { leaseKey } from "../kv/keys.ts";
import { type Job, type JobProgress, type JobResult, jobSchema } from "./model.ts";
import { requeue, type RequeueOptions } from "./queue.ts";
import { fitJob } from "./fit.ts";
import { commitFinal, type JobTimings, readJob } from "./store.ts";
import type { RunOutcome, Verdict } from "./verdict.ts";
import type { Log } from "../log/logger.ts";
import { DOWNLOADER_MISSING_HINT } from "./errors.ts";

/** What storing a run's end needs. */
export interface FinishDeps {
  kv: Deno.Kv;
  timings: JobTimings;
  now: () => number;
  /** This instance's id: it tells the chat about the jobs it finishes. */
  instanceId: string;
}

/** The run whose end is stored: its job, the lease it holds and its latest progress. */
export interface HeldRun {
  jobId: string;
  leaseVersionstamp: string;
  progress: JobProgress;
}

/** Whether the run's lease is still the one it claimed. */
export async function stillLeased(kv: Deno.Kv, run: HeldRun): Promise<boolean> {
  const lease = await kv.get(leaseKey(run.jobId));
  return lease.versionstamp === run.leaseVersionstamp;
}

/**
 * Stores the final state of a run; returns the stored job, or null when the job is no longer
 * this run's (another worker took it over, or it is not running any more).
 */
export function storeFinal(
  deps: FinishDeps,
  run: HeldRun,
  verdict: Verdict,
  result: JobResult | undefined,
): Promise<Job | null> {
  const { kv } = deps;
  return retryCas(`finishing job ${run.jobId}`, async () => {
    const entry = await readJob(kv, run.jobId);
    if (entry === null || entry.job.state !== "running") return null;
    const now = deps.now();
    const succeeded = verdict.state === "succeeded";
    const job = fitJob(jobSchema.parse({
      ...entry.job,
      state: verdict.state,
      updatedAt: now,
      finishedAt: now,
      progress: {
        ...run.progress,
        percent: succeeded ? 100 : run.progress.percent,
        current: undefined,
        currentStatus: undefined,
      },
      result: succeeded ? result : undefined,
      error: verdict.error,
    }));
    const ok = await commitFinal(kv, {
      entry,
      final: job,
      leaseVersionstamp: run.leaseVersionstamp,
      deliverer: deps.instanceId,
      now,
      timings: deps.timings,
    });
    if (ok) return job;
    return await stillLeased(kv, run) ? undefined : null;
  });
}

/** What {@linkcode requeueStopped} did. */
export type RequeueResult =
  | { kind: "queued"; job: Job }
  | { kind: "cancel_requested" }
  | { kind: "gone" };

/**
 * Puts a run stopped by shutdown back in the queue (same place, attempts unchanged) and
 * releases its lease. A job whose cancel was requested meanwhile is left for the caller to
 * finish as cancelled.
 */
export function requeueStopped(
  deps: FinishDeps,
  run: HeldRun,
  options: RequeueOptions = {},
): Promise<RequeueResult> {
  const { kv } = deps;
  return retryCas(`re-queueing job ${run.jobId}`, async (): Promise<RequeueResult | undefined> => {
    const entry = await readJob(kv, run.jobId);
    if (entry === null || entry.job.state !== "running") return { kind: "gone" };
    if (entry.job.cancelRequested) return { kind: "cancel_requested" };
    const queued = await requeue(kv, entry, run.leaseVersionstamp, deps.now(), options);
    if (queued !== undefined) return { kind: "queued", job: queued };
    return await stillLeased(kv, run) ? undefined : { kind: "gone" };
  });
}

/** Server-side failures of a run go to the log with what the admin should do. */
export function logServerOutcome(logger: Log, jobId: string, outcome: RunOutcome): void {
  if (outcome.kind === "missing") {
    logger.error("the downloader is not installed", {
      job_id: jobId,
      message: outcome.message,
      hint: DOWNLOADER_MISSING_HINT,
    });
  } else if (outcome.kind === "crashed") {
    logger.error("running the downloader failed", { job_id: jobId, error: outcome.message });
  }
}
