/**
 * A running job's record in KV while this instance runs it: the lease renewed every third of
 * `lease_seconds` (re-reading the job, so a cancel requested elsewhere is noticed), and progress
 * written at most every five seconds, always ending with the latest. Every write checks the lease.
 * The status message does not wait for these writes (the run tells the chat updater directly);
 * they serve `/status`, other processes and recovery, and at one a second 200 running downloads
 * made the store the bottleneck of every command (`scripts/bench/running.ts`).
 *
 * @module
 */
import { jobKey, leaseKey } from "../kv/keys.ts";
import type { Log } from "../log/logger.ts";
import { errorText } from "../runtime/error_text.ts";
import type { Job, JobProgress } from "./model.ts";
import { type JobTimings, readJob } from "./store.ts";
import { fitJob } from "./fit.ts";

/** Progress is written to KV at most this often. */
const PERSIST_INTERVAL_MS = 5000;

/** What {@linkcode RunRecord} needs. */
export interface RunRecordDeps {
  kv: Deno.Kv;
  timings: JobTimings;
  now: () => number;
  /** This instance's id, as written in leases. */
  instanceId: string;
  logger: Log;
}

/** What the record tells its run. */
export interface RunRecordEvents {
  /** The run's latest progress, to write. */
  progress(): JobProgress;
  /** The job as stored now (cancel flag, status message). */
  stored(job: Job): void;
  /** The lease is gone, or the job is no longer running: the run must stop here. */
  lost(): void;
}

/** Keeps one running job's lease and progress in KV. */
export class RunRecord {
  readonly #deps: RunRecordDeps;
  readonly #jobId: string;
  readonly #events: RunRecordEvents;
  #leaseVersionstamp: string;
  #renewTimer?: ReturnType<typeof setInterval>;
  #renewing?: Promise<void>;
  #persistTimer?: ReturnType<typeof setTimeout>;
  #persisting: Promise<void> = Promise.resolve();
  #lastPersistAt = Number.NEGATIVE_INFINITY;
  #dirty = false;

  constructor(
    deps: RunRecordDeps,
    jobId: string,
    leaseVersionstamp: string,
    events: RunRecordEvents,
  ) {
    this.#deps = deps;
    this.#jobId = jobId;
    this.#leaseVersionstamp = leaseVersionstamp;
    this.#events = events;
  }

  /** The versionstamp of the lease this run holds (checked by every write). */
  get leaseVersionstamp(): string {
    return this.#leaseVersionstamp;
  }

  /** Starts renewing the lease. */
  startRenewals(): void {
    const every = Math.max(1, Math.floor(this.#deps.timings.leaseMs / 3));
    this.#renewTimer = setInterval(() => {
      if (this.#renewing !== undefined) return;
      this.#renewing = this.#renew().finally(() => this.#renewing = undefined);
    }, every);
  }

  /** Progress changed: it is written within {@linkcode PERSIST_INTERVAL_MS}. */
  progressChanged(): void {
    this.#dirty = true;
    if (this.#persistTimer !== undefined) return;
    const wait = Math.max(0, this.#lastPersistAt + PERSIST_INTERVAL_MS - performance.now());
    this.#persistTimer = setTimeout(() => {
      this.#persistTimer = undefined;
      this.#persisting = this.#persisting.then(() => this.#persist());
    }, wait);
  }

  /** Stops renewals and progress writes, and waits for those under way. */
  async quiesce(): Promise<void> {
    clearInterval(this.#renewTimer);
    if (this.#persistTimer !== undefined) clearTimeout(this.#persistTimer);
    this.#persistTimer = undefined;
    await this.#renewing;
    await this.#persisting;
  }

  async #persist(): Promise<void> {
    if (!this.#dirty) return;
    this.#dirty = false;
    this.#lastPersistAt = performance.now();
    const { kv } = this.#deps;
    try {
      const entry = await readJob(kv, this.#jobId);
      if (entry === null || entry.job.state !== "running") return;
      const job: Job = fitJob({
        ...entry.job,
        progress: this.#events.progress(),
        updatedAt: this.#deps.now(),
      });
      const res = await kv.atomic()
        .check(entry)
        .check({ key: leaseKey(job.id), versionstamp: this.#leaseVersionstamp })
        .set(jobKey(job.id), job)
        .commit();
      this.#events.stored(res.ok ? job : entry.job);
      if (!res.ok) this.#dirty = true;
    } catch (error) {
      this.#deps.logger.warn("could not save job progress", {
        job_id: this.#jobId,
        error: errorText(error),
      });
    }
  }

  /** Extends the lease and re-reads the job, to notice a cancel requested by another instance. */
  async #renew(): Promise<void> {
    const { kv, timings, logger } = this.#deps;
    const id = this.#jobId;
    try {
      const now = this.#deps.now();
      const res = await kv.atomic()
        .check({ key: leaseKey(id), versionstamp: this.#leaseVersionstamp })
        .set(
          leaseKey(id),
          { jobId: id, owner: this.#deps.instanceId, expiresAt: now + timings.leaseMs },
          { expireIn: timings.leaseMs },
        )
        .commit();
      if (!res.ok) {
        logger.warn("lost the lease on a running job; stopping it here", { job_id: id });
        this.#events.lost();
        return;
      }
      this.#leaseVersionstamp = res.versionstamp;
      const entry = await readJob(kv, id);
      if (entry === null || entry.job.state !== "running") {
        this.#events.lost();
        return;
      }
      this.#events.stored(entry.job);
    } catch (error) {
      logger.warn("could not renew a job's lease", { job_id: id, error: errorText(error) });
    }
  }
}
