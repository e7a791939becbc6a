/**
 * {@linkcode JobService} on Deno KV: idempotent submits, the queue, status, history and cancel.
 * Jobs are run by {@linkcode JobWorker} (`worker.ts`), in this instance or another one sharing the
 * store.
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import {
  JobNotCancellableError,
  JobNotConfirmableError,
  JobNotFoundError,
  OutOfSpaceError,
  ShuttingDownError,
} from "../errors.ts";
import { jobByUserPrefix, jobKey, jobRecentPrefix } from "../kv/keys.ts";
import { type NewJobRequest, type SubmitOptions, trySubmit } from "./submit.ts";
import { isJobId } from "./ids.ts";
import { isFinal, type Job, queueOrder } from "./model.ts";
import { liveLeases, queueDepth, queuePosition, spotifyPausedUntil } from "./queue.ts";
import { CANCELLED_ERROR } from "./errors.ts";
import type {
  JobService,
  JobView,
  LocalJobRunner,
  Requester,
  SubmitRequest,
  SubmitResult,
} from "./service.ts";
import { isStoreFull, retryCas } from "../kv/cas.ts";
import {
  commitFinal,
  isExpired,
  type JobTimings,
  jobWriteOptions,
  parseJobIdValue,
  readJob,
  readJobs,
  updateJob,
} from "./store.ts";

/** Dependencies of {@linkcode KvJobService}. */
export interface KvJobServiceDeps {
  kv: Deno.Kv;
  config: Config;
  /** Retention, dedupe and lease windows (`jobTimings(config)`, computed once by the caller). */
  timings: JobTimings;
  /**
   * This instance's worker: starts new jobs at once, stops local jobs on cancel and reports
   * cancelled queued jobs to the observer. Without it, jobs wait for a worker's next poll.
   */
  worker?: LocalJobRunner;
  now?: () => number;
  /** True while the bot drains for shutdown: submits are refused. */
  isDraining?: () => boolean;
  /** Whether the downloads' disk has room; without it there is always room. */
  hasSpace?: () => Promise<{ ok: boolean; freeBytes?: number }>;
}

const MAX_LIST = 100;
const MAX_ECHOED_ID = 64;

/** The KV-backed job service. */
export class KvJobService implements JobService {
  readonly #kv: Deno.Kv;
  readonly #config: Config;
  readonly #deps: KvJobServiceDeps;
  readonly #timings: JobTimings;
  readonly #now: () => number;

  constructor(deps: KvJobServiceDeps) {
    this.#kv = deps.kv;
    this.#config = deps.config;
    this.#deps = deps;
    this.#timings = deps.timings;
    this.#now = deps.now ?? Date.now;
  }

  /**
   * Creates a queued job, or returns the user's existing job for the same canonical link while it
   * is queued or running, or succeeded within `jobs.dedupe_hours`. The dedupe entry, the limits and
   * the new job are checked and written in one atomic operation, so concurrent identical submits
   * create exactly one job. Throws `ShuttingDownError`, `ActiveJobLimitError`, `QueueFullError`.
   */
  async submit(request: SubmitRequest): Promise<SubmitResult> {
    if (this.#deps.isDraining?.()) throw new ShuttingDownError();
    const space = await this.#deps.hasSpace?.();
    if (space && !space.ok) throw new OutOfSpaceError(space.freeBytes ?? 0);
    const result = await outOfSpaceWhenFull(retryCas(
      "submit",
      () =>
        this.#trySubmit({ ...request, confirmed: false }, {
          reuse: (job, now) => this.#reusable(job, now),
        }),
    ));
    if (result.created) this.#deps.worker?.wake();
    return result;
  }

  /**
   * Goes ahead with a job stopped for `needs_confirmation`: a new confirmed job for the same
   * user, chat and link, created through the submit path (same limits, same atomic write), which
   * also records the new job's id on the stopped one (`confirmedAs`), so a second confirmation
   * returns that job. An existing job for the link is reused only when it would not stop again
   * (confirmed, or succeeded within the dedupe window). Throws `JobNotFoundError`,
   * `JobNotConfirmableError`, `ShuttingDownError`, `ActiveJobLimitError`, `QueueFullError`.
   */
  async confirm(requester: Requester, jobId: string): Promise<SubmitResult> {
    const result = await retryCas("confirm", async (): Promise<SubmitResult | undefined> => {
      const entry = await this.#visible(requester, jobId);
      const stopped = entry.job;
      if (stopped.confirmedAs !== undefined) {
        const started = await readJob(this.#kv, stopped.confirmedAs);
        if (started === null) throw new JobNotFoundError(stopped.confirmedAs);
        return {
          job: started.job,
          created: false,
          position: await this.#positionOf(started.job),
        };
      }
      if (stopped.state !== "failed" || stopped.error?.code !== "needs_confirmation") {
        throw new JobNotConfirmableError(stopped.id, stopped.state);
      }
      if (this.#deps.isDraining?.()) throw new ShuttingDownError();
      return await this.#trySubmit(
        {
          userId: stopped.userId,
          chatId: stopped.chatId,
          link: { url: stopped.url, kind: stopped.kind },
          confirmed: true,
          ...(stopped.audio === undefined ? {} : { audio: stopped.audio }),
          ...(stopped.asAudio ? { asAudio: true } : {}),
        },
        {
          reuse: (job, now) =>
            this.#reusable(job, now) && (job.confirmed || job.state === "succeeded"),
          alsoWrite: (op, newJobId, now) =>
            op.check(entry).set(
              jobKey(stopped.id),
              { ...stopped, confirmedAs: newJobId, updatedAt: now },
              jobWriteOptions(stopped, now, this.#timings.retentionMs),
            ),
        },
      );
    });
    if (result.created) this.#deps.worker?.wake();
    return result;
  }

  /** One attempt of {@linkcode trySubmit}, with the queue position of what it returns. */
  async #trySubmit(
    request: NewJobRequest,
    options: SubmitOptions,
  ): Promise<SubmitResult | undefined> {
    const result = await trySubmit(this.#kv, this.#config.jobs, this.#now(), request, options);
    return result && { ...result, position: await this.#positionOf(result.job) };
  }

  /** One job with its queue position; `JobNotFoundError` when missing, expired or not visible. */
  async status(requester: Requester, jobId: string): Promise<JobView> {
    const entry = await this.#visible(requester, jobId);
    return { job: entry.job, position: await this.#positionOf(entry.job) };
  }

  /** The requester's most recent jobs (everybody's for admins), newest first. */
  async list(requester: Requester, limit: number): Promise<JobView[]> {
    const max = Math.max(0, Math.min(MAX_LIST, Math.floor(limit)));
    if (max === 0) return [];
    const prefix = requester.isAdmin ? jobRecentPrefix() : jobByUserPrefix(requester.userId);
    const now = this.#now();
    const jobs: Job[] = [];
    let batch: string[] = [];
    const flush = async () => {
      for (const entry of await readJobs(this.#kv, batch)) {
        if (entry && jobs.length < max && this.#canSee(requester, entry.job, now)) {
          jobs.push(entry.job);
        }
      }
      batch = [];
    };
    for await (const entry of this.#kv.list({ prefix }, { reverse: true })) {
      const id = parseJobIdValue(entry.value);
      if (id !== undefined) batch.push(id);
      if (batch.length >= 10) await flush();
      if (jobs.length >= max) break;
    }
    if (jobs.length < max) await flush();
    const listed = [];
    for (const job of jobs) listed.push({ job, position: await this.#positionOf(job) });
    return listed;
  }

  /**
   * Cancels a job. A queued job is cancelled at once (the worker removes any files and tells the
   * observer). A running job is
   * marked `cancelRequested` and returned still running: the worker running it (this instance's at
   * once, another instance's at its next lease renewal) stops the downloader, removes the partial
   * files and reports the final state through the observer.
   */
  async cancel(requester: Requester, jobId: string): Promise<Job> {
    const kv = this.#kv;
    return await retryCas("cancel", async (): Promise<Job | undefined> => {
      const entry = await this.#visible(requester, jobId);
      const job = entry.job;
      if (isFinal(job.state)) throw new JobNotCancellableError(job.id, job.state);
      const now = this.#now();
      if (job.state === "queued") {
        const final: Job = {
          ...job,
          state: "cancelled",
          cancelRequested: true,
          updatedAt: now,
          finishedAt: now,
          error: CANCELLED_ERROR,
        };
        const ok = await commitFinal(kv, {
          entry,
          final,
          leaseVersionstamp: null,
          deliverer: this.#deps.worker?.instanceId ?? "",
          now,
          timings: this.#timings,
        });
        if (!ok) return undefined;
        await this.#deps.worker?.reportCancelled(final);
        return final;
      }
      if (job.cancelRequested) {
        this.#deps.worker?.abortLocal(job.id);
        return job;
      }
      const requested: Job = { ...job, cancelRequested: true, updatedAt: now };
      const res = await kv.atomic().check(entry).set(jobKey(job.id), requested).commit();
      if (!res.ok) return undefined;
      this.#deps.worker?.abortLocal(job.id);
      return requested;
    });
  }

  /**
   * Remembers the chat message showing the job's progress and returns the job as stored;
   * `JobNotFoundError` for unknown ids.
   */
  async setStatusMessage(jobId: string, messageId: number): Promise<Job> {
    if (!isJobId(jobId)) throw new JobNotFoundError(echo(jobId));
    const updated = await updateJob(
      this.#kv,
      jobId,
      (job) => job.statusMessageId === messageId ? null : { ...job, statusMessageId: messageId },
      this.#now(),
      this.#timings.retentionMs,
    );
    if (updated === null) throw new JobNotFoundError(jobId);
    return updated;
  }

  /** 1-based place of a queued job in the queue; undefined when it is not queued. */
  async positionOf(jobId: string): Promise<number | undefined> {
    const entry = await readJob(this.#kv, jobId);
    return entry === null ? undefined : await this.#positionOf(entry.job);
  }

  /** When Spotify's pause of every job ends (epoch ms); undefined when none is on. */
  spotifyPauseUntil(): Promise<number | undefined> {
    return spotifyPausedUntil(this.#kv, this.#now());
  }

  /** Queued jobs across all instances (for metrics and readiness). */
  queueDepth(): Promise<number> {
    return queueDepth(this.#kv);
  }

  /** Running jobs across all instances: live leases. */
  async runningCount(): Promise<number> {
    return (await liveLeases(this.#kv, this.#now())).length;
  }

  #reusable(job: Job, now: number): boolean {
    if (job.state === "queued" || job.state === "running") return true;
    if (job.state !== "succeeded") return false;
    const window = Math.min(this.#timings.dedupeMs, this.#timings.retentionMs);
    return now - (job.finishedAt ?? job.updatedAt) < window;
  }

  async #positionOf(job: Job): Promise<number | undefined> {
    return job.state === "queued"
      ? await queuePosition(this.#kv, job.id, queueOrder(job))
      : undefined;
  }

  #canSee(requester: Requester, job: Job, now: number): boolean {
    if (!requester.isAdmin && job.userId !== requester.userId) return false;
    return !isExpired(job, now, this.#timings.retentionMs);
  }

  async #visible(requester: Requester, jobId: string) {
    if (!isJobId(jobId)) throw new JobNotFoundError(echo(jobId));
    const entry = await readJob(this.#kv, jobId);
    if (!entry || !this.#canSee(requester, entry.job, this.#now())) {
      throw new JobNotFoundError(jobId);
    }
    return entry;
  }
}

/** User input echoed in an error, shortened. */
function echo(text: string): string {
  return text.length > MAX_ECHOED_ID ? `${text.slice(0, MAX_ECHOED_ID)}…` : text;
}

/** A store whose disk is full is the server being out of space, as the user hears it. */
async function outOfSpaceWhenFull<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (isStoreFull(error)) throw new OutOfSpaceError(0);
    throw error;
  }
}
