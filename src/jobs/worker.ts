/**
 * The job worker's loop: claims queued jobs (at most `jobs.max_concurrent` across every instance
 * sharing the store) and hands each to a {@linkcode JobRun}; on start and every `lease_seconds`
 * it recovers jobs whose worker died, every hour it removes stale downloads; on stop it lets
 * running jobs finish for a grace period and re-queues the rest.
 *
 * @module
 */
import { jobKey } from "../kv/keys.ts";
import { errorText } from "../runtime/error_text.ts";
import { sleep } from "../runtime/sleep.ts";
import { removeJobFiles } from "./files.ts";
import { jobSchema } from "./model.ts";
import type { Job } from "./model.ts";
import { guardedObserver } from "./observer.ts";
import { claimNext, positionsToAnnounce, queueDepth, spotifyPausedUntil } from "./queue.ts";
import { killAbandonedDownloads, recoverInterrupted, sweepOutputs } from "./recovery.ts";
import { JobRun, type RunDeps } from "./run.ts";
import type { JobObserver, LocalJobRunner } from "./service.ts";

export type { InspectedOutput } from "./run.ts";
export type { JobMetricsSink } from "../metrics/metrics.ts";

/** Dependencies of {@linkcode JobWorker}: what each run needs, plus the loop's own settings. */
export interface JobWorkerDeps extends Omit<RunDeps, "now" | "instanceId" | "onDownloadDone"> {
  now?: () => number;
  /** This instance's id in leases; random by default. */
  instanceId?: string;
  /** How often to look at the queue when not woken; default 500 ms. */
  pollIntervalMs?: number;
  /** How often to remove stale output directories; default one hour. */
  sweepIntervalMs?: number;
  /** Whether the downloads' disk has room: without it, queued jobs wait. */
  hasSpace?: () => Promise<{ ok: boolean }>;
  /**
   * Finished jobs whose messages nobody is sending (their instance died or gave up for now),
   * claimed for this instance; each recovery pass hands them to the observer again.
   */
  undelivered?: () => Promise<Job[]>;
  /** Instance ids known to be gone (an earlier run on this data directory): their leases are dead. */
  deadOwners?: readonly string[];
}

const DEFAULT_POLL_MS = 500;
const DEFAULT_SWEEP_MS = 3_600_000;
/** Jobs read per KV call when announcing queue positions (getMany takes at most 10 keys). */
const ANNOUNCE_BATCH = 10;

/** Runs queued jobs. One per bot instance. */
export class JobWorker implements LocalJobRunner {
  /** Where the next announcement further back in the queue starts (see #announceQueue). */
  #announceAfter: Deno.KvKey | undefined;
  /** This instance's id, as written in its leases. */
  readonly instanceId: string;
  readonly #deps: JobWorkerDeps;
  readonly #runDeps: RunDeps;
  readonly #observer: JobObserver;
  readonly #pollMs: number;
  readonly #sweepMs: number;
  readonly #runs = new Map<string, JobRun>();
  #loop?: Promise<void>;
  #stopping = false;
  #wakeUp = new AbortController();
  #lastRecovery = Number.NEGATIVE_INFINITY;
  #lastSweep = Number.NEGATIVE_INFINITY;

  constructor(deps: JobWorkerDeps) {
    this.#deps = deps;
    this.#pollMs = deps.pollIntervalMs ?? DEFAULT_POLL_MS;
    this.#sweepMs = deps.sweepIntervalMs ?? DEFAULT_SWEEP_MS;
    this.instanceId = deps.instanceId ?? crypto.randomUUID();
    this.#observer = guardedObserver(deps.observer, deps.logger);
    this.#runDeps = {
      ...deps,
      observer: this.#observer,
      now: deps.now ?? Date.now,
      instanceId: this.instanceId,
      onDownloadDone: () => this.#reportRunning(),
    };
  }

  /** Starts recovering and claiming jobs in the background. A stopped worker cannot restart. */
  start(): void {
    if (this.#loop !== undefined) return;
    this.#loop = this.#run();
  }

  /**
   * Stops claiming, waits up to `graceMs` for running jobs, then stops the rest and puts them back
   * in the queue (same place, attempts unchanged) with their leases released, so the next start
   * (of any instance) resumes them.
   */
  async stop(options: { graceMs: number }): Promise<void> {
    this.#stopping = true;
    this.#wake();
    await this.#loop;
    const pending = () => [...this.#runs.values()].map((run) => run.done);
    if (this.#runs.size > 0 && options.graceMs > 0) {
      const grace = new AbortController();
      await Promise.race([
        Promise.all(pending()).finally(() => grace.abort()),
        sleep(options.graceMs, grace.signal),
      ]);
      grace.abort();
    }
    for (const run of this.#runs.values()) run.abort("shutdown");
    await Promise.all(pending());
    this.#deps.metrics?.setRunning(0);
  }

  /** Jobs running in this instance. */
  runningCount(): number {
    return this.#runs.size;
  }

  /**
   * Signals every local download to stop, synchronously, for an immediate exit (a second
   * SIGTERM): the downloader processes get SIGTERM before the process is gone. Jobs stay
   * `running` in KV and are recovered when their lease expires.
   */
  abortAll(): void {
    this.#stopping = true;
    for (const run of this.#runs.values()) run.abort("shutdown");
  }

  /** Looks at the queue now (a job was just submitted in this instance). */
  wake(): void {
    if (!this.#stopping) this.#wake();
  }

  /** Stops a job running in this instance (cancel); false when it does not run here. */
  abortLocal(jobId: string): boolean {
    const run = this.#runs.get(jobId);
    if (run === undefined) return false;
    run.abort("cancel");
    return true;
  }

  /** Removes a cancelled queued job's files (from an earlier attempt) and reports it. */
  async reportCancelled(job: Job): Promise<void> {
    await removeJobFiles(this.#deps.downloadsDir, job.id, this.#deps.logger);
    this.#deps.metrics?.jobFinished("cancelled", 0);
    await this.#observer.onFinished(job);
  }

  async #run(): Promise<void> {
    await this.#guard("recovering interrupted jobs", () => this.#recover());
    await this.#guard("removing old downloads", () => this.#sweep());
    while (!this.#stopping) {
      await this.#guard("polling the job queue", () => this.#tick());
      if (this.#stopping) break;
      await sleep(this.#pollMs, this.#wakeUp.signal);
      if (this.#wakeUp.signal.aborted) this.#wakeUp = new AbortController();
    }
  }

  async #tick(): Promise<void> {
    const t = performance.now();
    if (t - this.#lastRecovery >= this.#deps.timings.leaseMs) await this.#recover();
    if (t - this.#lastSweep >= this.#sweepMs) await this.#sweep();
    await this.#fill();
    const metrics = this.#deps.metrics;
    if (metrics !== undefined) {
      metrics.setQueueDepth(await queueDepth(this.#deps.kv));
      metrics.setSpotifyPauseUntil(
        await spotifyPausedUntil(this.#deps.kv, this.#runDeps.now()) ?? 0,
      );
      this.#reportRunning();
    }
  }

  async #recover(): Promise<void> {
    const first = this.#lastRecovery === Number.NEGATIVE_INFINITY;
    this.#lastRecovery = performance.now();
    // Processes of an earlier run of the bot on this machine can only be there at start.
    if (first) {
      await killAbandonedDownloads({
        kv: this.#deps.kv,
        downloadsDir: this.#deps.downloadsDir,
        now: this.#runDeps.now(),
        logger: this.#deps.logger,
        runsHere: (jobId) => this.#runs.has(jobId),
      });
    }
    await recoverInterrupted({
      kv: this.#deps.kv,
      config: this.#deps.config,
      timings: this.#deps.timings,
      observer: this.#observer,
      logger: this.#deps.logger,
      downloadsDir: this.#deps.downloadsDir,
      now: this.#runDeps.now(),
      owner: this.instanceId,
      isDeadOwner: (lease) =>
        (lease.owner === this.instanceId && !this.#runs.has(lease.jobId)) ||
        (this.#deps.deadOwners?.includes(lease.owner) ?? false),
    });
    for (const job of await this.#deps.undelivered?.() ?? []) {
      this.#deps.logger.info("sending the messages of a finished job again", { job_id: job.id });
      void this.#observer.onFinished(job);
    }
  }

  async #sweep(): Promise<void> {
    this.#lastSweep = performance.now();
    await sweepOutputs({
      kv: this.#deps.kv,
      downloadsDir: this.#deps.downloadsDir,
      now: this.#runDeps.now(),
      retentionMs: this.#deps.timings.retentionMs,
      logger: this.#deps.logger,
    });
  }

  /** Claims jobs while slots are free, starting each before claiming the next (FIFO start order). */
  async #fill(): Promise<void> {
    if (this.#deps.hasSpace && !(await this.#deps.hasSpace()).ok) return;
    let started = 0;
    while (!this.#stopping) {
      const claim = await claimNext(this.#deps.kv, {
        owner: this.instanceId,
        now: this.#runDeps.now(),
        leaseMs: this.#deps.timings.leaseMs,
        maxConcurrent: this.#deps.config.jobs.max_concurrent,
      });
      if (claim === null) break;
      const run = new JobRun(this.#runDeps, claim);
      this.#runs.set(claim.job.id, run);
      const launched = run.launch();
      this.#reportRunning();
      run.done.finally(() => {
        this.#runs.delete(claim.job.id);
        this.#reportRunning();
        this.#wake();
      });
      await launched;
      started++;
    }
    if (started > 0) await this.#guard("announcing queue positions", () => this.#announceQueue());
  }

  /**
   * Jobs left the queue, so everyone behind them moved up: hand queued jobs with a status message
   * to the observer, which shows the new position (and skips unchanged texts): the head of the
   * queue and, in turn, a window further back (`positionsToAnnounce`).
   */
  async #announceQueue(): Promise<void> {
    const kv = this.#deps.kv;
    const { positions, next } = await positionsToAnnounce(kv, this.#announceAfter);
    this.#announceAfter = next;
    const ids = [...positions.keys()];
    for (let i = 0; i < ids.length; i += ANNOUNCE_BATCH) {
      const entries = await kv.getMany(ids.slice(i, i + ANNOUNCE_BATCH).map((id) => jobKey(id)));
      for (const entry of entries) {
        const job = jobSchema.safeParse(entry.value);
        if (job.success && job.data.state === "queued" && job.data.statusMessageId !== undefined) {
          this.#observer.onUpdate(job.data, positions.get(job.data.id));
        }
      }
    }
  }

  /** Reports the local runs whose downloader is still going (not just telling the chat). */
  #reportRunning(): void {
    let n = 0;
    for (const run of this.#runs.values()) if (!run.finishing) n++;
    this.#deps.metrics?.setRunning(n);
  }

  async #guard(what: string, task: () => Promise<void>): Promise<void> {
    try {
      await task();
    } catch (error) {
      this.#deps.logger.error(`${what} failed`, { error: errorText(error) });
    }
  }

  #wake(): void {
    this.#wakeUp.abort();
  }
}
