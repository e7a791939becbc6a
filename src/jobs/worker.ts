/**
 * The job worker: claims queued jobs (at most `jobs.max_concurrent` across every instance sharing
 * the store), runs the downloader for each, keeps the job's lease alive, turns the downloader's
 * events into progress, and stores the outcome. On start and every `lease_seconds` it recovers
 * jobs whose worker died; on stop it lets running jobs finish for a grace period and re-queues
 * the rest.
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import type { DownloaderEvent } from "../downloader/events.ts";
import type { Downloader, DownloadOutcome } from "../downloader/types.ts";
import { formatSeconds } from "../errors.ts";
import { jobKey, leaseKey } from "../kv/keys.ts";
import type { LocalJobRunner } from "./kv_service.ts";
import { type Job, type JobError, type JobFile, type JobProgress, jobSchema } from "./model.ts";
import { applyEvent, isRateLimit } from "./progress.ts";
import { type Claim, claimNext, queueDepth, queuePositions, requeue } from "./queue.ts";
import {
  CANCELLED_ERROR,
  jobOutputDir,
  recoverInterrupted,
  removeOutputDir,
  sweepOutputs,
} from "./recovery.ts";
import type { JobObserver } from "./service.ts";
import { commitFinal, type JobTimings, jobTimings, readJob, retryCas } from "./store.ts";
import type { Log } from "../log/logger.ts";

/** The little the job layer needs from a logger. */
export type JobLogger = Log;

/** Where the worker reports job metrics (the Prometheus registry implements it). */
export interface JobMetricsSink {
  /** A job this instance ran reached a final state after `durationSeconds` of running. */
  jobFinished(state: "succeeded" | "failed" | "cancelled", durationSeconds: number): void;
  /** Queued jobs across all instances. */
  setQueueDepth(n: number): void;
  /** Jobs running in this instance. */
  setRunning(n: number): void;
}

/** What a job's output directory holds, as measured after a successful run. */
export interface InspectedOutput {
  files: JobFile[];
  totalBytes: number;
  totalDurationSeconds?: number;
}

/** Dependencies of {@linkcode JobWorker}. */
export interface JobWorkerDeps {
  kv: Deno.Kv;
  config: Config;
  downloader: Downloader;
  observer: JobObserver;
  /** Lists and measures the files in a finished job's directory. */
  inspectOutput: (dir: string) => Promise<InspectedOutput>;
  /** Each job writes into `<downloadsDir>/<jobId>`. */
  downloadsDir: string;
  logger: JobLogger;
  metrics?: JobMetricsSink;
  now?: () => number;
  /** This instance's id in leases; random by default. */
  instanceId?: string;
  /** How often to look at the queue when not woken; default 500 ms. */
  pollIntervalMs?: number;
  /** How often to remove stale output directories; default one hour. */
  sweepIntervalMs?: number;
}

/** Why the worker stopped a download itself. */
type StopReason = "cancel" | "shutdown" | "lease_lost" | "rate_limited" | "needs_confirmation";

/** A job running in this instance. */
interface ActiveRun {
  /** The job as last read from KV (state, cancel flag, status message). */
  job: Job;
  /** Progress from the downloader's events: this instance's truth while the job runs. */
  progress: JobProgress;
  title?: string;
  /** Spotify rate limiting was reported; `retryAfterSeconds` when it said how long. */
  rateLimited: boolean;
  retryAfterSeconds?: number;
  /** Songs announced above `jobs.confirm_above_tracks` in an unconfirmed job: it stops to ask. */
  tooManyTracks?: number;
  leaseVersionstamp: string;
  controller: AbortController;
  stopReason?: StopReason;
  done: Promise<void>;
  renewTimer?: ReturnType<typeof setInterval>;
  renewing?: Promise<void>;
  persistTimer?: ReturnType<typeof setTimeout>;
  persisting: Promise<void>;
  lastPersistAt: number;
  dirty: boolean;
  /** The outcome is stored; only the chat notification is still under way. */
  finishing?: boolean;
}

/** A final state with its error, decided from the downloader's outcome. */
interface Verdict {
  state: "succeeded" | "failed" | "cancelled";
  error?: JobError;
}

const DEFAULT_POLL_MS = 500;
const DEFAULT_SWEEP_MS = 3_600_000;
const PERSIST_INTERVAL_MS = 1000;
/** Jobs read per KV call when announcing queue positions (getMany takes at most 10 keys). */
const ANNOUNCE_BATCH = 10;
const MISSING_HINT =
  "Install spotDL (for example `pipx install spotdl`) or set downloader.command " +
  "to the executable's full path; `dlbot check-config` verifies it.";

/** Runs queued jobs. One per bot instance. */
export class JobWorker implements LocalJobRunner {
  /** This instance's id, as written in its leases. */
  readonly instanceId: string;
  readonly #deps: JobWorkerDeps;
  readonly #kv: Deno.Kv;
  readonly #timings: JobTimings;
  readonly #now: () => number;
  readonly #pollMs: number;
  readonly #sweepMs: number;
  readonly #runs = new Map<string, ActiveRun>();
  #loop?: Promise<void>;
  #stopping = false;
  #wakeUp?: () => void;
  #wakePending = false;
  #lastRecovery = Number.NEGATIVE_INFINITY;
  #lastSweep = Number.NEGATIVE_INFINITY;

  constructor(deps: JobWorkerDeps) {
    this.#deps = deps;
    this.#kv = deps.kv;
    this.#timings = jobTimings(deps.config);
    this.#now = deps.now ?? Date.now;
    this.#pollMs = deps.pollIntervalMs ?? DEFAULT_POLL_MS;
    this.#sweepMs = deps.sweepIntervalMs ?? DEFAULT_SWEEP_MS;
    this.instanceId = deps.instanceId ?? crypto.randomUUID();
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
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((resolve) => timer = setTimeout(resolve, options.graceMs));
      await Promise.race([Promise.all(pending()), grace]);
      clearTimeout(timer);
    }
    for (const run of this.#runs.values()) this.#abort(run, "shutdown");
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
    for (const run of this.#runs.values()) this.#abort(run, "shutdown");
  }

  /** Local runs whose downloader is still going (not just telling the chat about the result). */
  #downloading(): number {
    let n = 0;
    for (const run of this.#runs.values()) if (!run.finishing) n++;
    return n;
  }

  /** Looks at the queue now (a job was just submitted in this instance). */
  wake(): void {
    if (!this.#stopping) this.#wake();
  }

  /** Stops a job running in this instance (cancel); false when it does not run here. */
  abortLocal(jobId: string): boolean {
    const run = this.#runs.get(jobId);
    if (run === undefined) return false;
    this.#abort(run, "cancel");
    return true;
  }

  /** Shows a job running here in its status message, stored only after the job had started. */
  statusMessageStored(job: Job): void {
    const run = this.#runs.get(job.id);
    if (run === undefined || run.job.statusMessageId === job.statusMessageId) return;
    run.job = { ...run.job, statusMessageId: job.statusMessageId };
    this.#notify({ ...run.job, progress: run.progress, updatedAt: this.#now() });
  }

  /** Removes a cancelled queued job's files (from an earlier attempt) and reports it. */
  async reportCancelled(job: Job): Promise<void> {
    await this.#removeFiles(job.id);
    this.#deps.metrics?.jobFinished("cancelled", 0);
    try {
      await this.#deps.observer.onFinished(job);
    } catch (error) {
      this.#deps.logger.error("observer failed on a finished job", {
        job_id: job.id,
        error: String(error),
      });
    }
  }

  async #run(): Promise<void> {
    await this.#guard("recovering interrupted jobs", () => this.#recover());
    await this.#guard("removing old downloads", () => this.#sweep());
    while (!this.#stopping) {
      await this.#guard("polling the job queue", () => this.#tick());
      if (this.#stopping) break;
      await this.#sleep(this.#pollMs);
    }
  }

  async #tick(): Promise<void> {
    const t = performance.now();
    if (t - this.#lastRecovery >= this.#timings.leaseMs) await this.#recover();
    if (t - this.#lastSweep >= this.#sweepMs) await this.#sweep();
    await this.#fill();
    const metrics = this.#deps.metrics;
    if (metrics !== undefined) {
      metrics.setQueueDepth(await queueDepth(this.#kv));
      metrics.setRunning(this.#downloading());
    }
  }

  async #recover(): Promise<void> {
    this.#lastRecovery = performance.now();
    await recoverInterrupted({
      kv: this.#kv,
      config: this.#deps.config,
      observer: this.#deps.observer,
      logger: this.#deps.logger,
      downloadsDir: this.#deps.downloadsDir,
      now: this.#now(),
      isDeadOwner: (lease) => lease.owner === this.instanceId && !this.#runs.has(lease.jobId),
    });
  }

  async #sweep(): Promise<void> {
    this.#lastSweep = performance.now();
    await sweepOutputs({
      kv: this.#kv,
      downloadsDir: this.#deps.downloadsDir,
      now: this.#now(),
      retentionMs: this.#timings.retentionMs,
      logger: this.#deps.logger,
    });
  }

  /** Claims jobs while slots are free, starting each before claiming the next (FIFO start order). */
  async #fill(): Promise<void> {
    let started = 0;
    while (!this.#stopping) {
      const claim = await claimNext(this.#kv, {
        owner: this.instanceId,
        now: this.#now(),
        leaseMs: this.#timings.leaseMs,
        maxConcurrent: this.#deps.config.jobs.max_concurrent,
      });
      if (claim === null) break;
      await this.#launch(claim);
      started++;
    }
    if (started > 0) await this.#guard("announcing queue positions", () => this.#announceQueue());
  }

  /**
   * Jobs left the queue, so everyone behind them moved up: hand each queued job with a status
   * message to the observer, which shows the new position (and skips unchanged texts).
   */
  async #announceQueue(): Promise<void> {
    const ids = [...(await queuePositions(this.#kv)).keys()];
    for (let i = 0; i < ids.length; i += ANNOUNCE_BATCH) {
      const entries = await this.#kv.getMany(
        ids.slice(i, i + ANNOUNCE_BATCH).map((id) => jobKey(id)),
      );
      for (const entry of entries) {
        const job = jobSchema.safeParse(entry.value);
        if (job.success && job.data.state === "queued" && job.data.statusMessageId !== undefined) {
          this.#deps.observer.onUpdate(job.data);
        }
      }
    }
  }

  /** Registers the run and resolves once the downloader has been called (or setup failed). */
  #launch(claim: Claim): Promise<void> {
    const run: ActiveRun = {
      job: claim.job,
      progress: claim.job.progress,
      leaseVersionstamp: claim.leaseVersionstamp,
      controller: new AbortController(),
      done: Promise.resolve(),
      persisting: Promise.resolve(),
      lastPersistAt: Number.NEGATIVE_INFINITY,
      dirty: false,
      rateLimited: false,
    };
    this.#runs.set(claim.job.id, run);
    this.#deps.metrics?.setRunning(this.#downloading());
    const { promise: started, resolve: markStarted } = Promise.withResolvers<void>();
    run.done = this.#execute(run, markStarted).finally(() => {
      markStarted();
      this.#runs.delete(claim.job.id);
      this.#deps.metrics?.setRunning(this.#downloading());
      this.#wake();
    });
    return started;
  }

  async #execute(run: ActiveRun, markStarted: () => void): Promise<void> {
    const id = run.job.id;
    const dir = jobOutputDir(this.#deps.downloadsDir, id);
    this.#deps.logger.info("job started", {
      job_id: id,
      attempt: run.job.attempts,
      url: run.job.url,
    });
    this.#startRenewals(run);
    this.#notify(run.job);
    if (run.job.cancelRequested) this.#abort(run, "cancel");
    let outcome: DownloadOutcome | { kind: "crashed"; message: string };
    try {
      await removeOutputDir(this.#deps.downloadsDir, id);
      await Deno.mkdir(dir, { recursive: true });
      const running = this.#deps.downloader.run({
        url: run.job.url,
        outputDir: dir,
        signal: run.controller.signal,
        onEvent: (event) => this.#onEvent(run, event),
      });
      markStarted();
      outcome = await running;
    } catch (error) {
      outcome = { kind: "crashed", message: String(error) };
    }
    markStarted();
    await this.#quiesce(run);
    try {
      await this.#conclude(run, outcome, dir);
    } catch (error) {
      this.#deps.logger.error("could not store a job's outcome; recovery will retry it", {
        job_id: id,
        error: String(error),
      });
    }
  }

  #onEvent(run: ActiveRun, event: DownloaderEvent): void {
    if (event.type === "unknown") {
      this.#deps.logger.debug("unrecognised downloader output", {
        job_id: run.job.id,
        line: event.line,
      });
      return;
    }
    if (event.type === "total" && event.title !== undefined) run.title = event.title;
    if (event.type === "total" && this.#needsConfirmation(run, event.total)) {
      run.tooManyTracks ??= event.total;
      this.#abort(run, "needs_confirmation");
    }
    if (event.type === "error" && isRateLimit(event)) {
      run.rateLimited = true;
      run.retryAfterSeconds ??= event.retryAfterSeconds;
      this.#abort(run, "rate_limited");
    }
    const next = applyEvent(run.progress, event);
    if (JSON.stringify(next) === JSON.stringify(run.progress)) return;
    run.progress = next;
    this.#notify({ ...run.job, progress: next, updatedAt: this.#now() });
    this.#schedulePersist(run);
  }

  /** Whether an announced song count stops an unconfirmed job to ask the user first. */
  #needsConfirmation(run: ActiveRun, total: number): boolean {
    const limit = this.#deps.config.jobs.confirm_above_tracks;
    return limit > 0 && total > limit && !run.job.confirmed;
  }

  /** Writes progress at most once per second; the latest progress always gets written. */
  #schedulePersist(run: ActiveRun): void {
    run.dirty = true;
    if (run.persistTimer !== undefined) return;
    const wait = Math.max(0, run.lastPersistAt + PERSIST_INTERVAL_MS - performance.now());
    run.persistTimer = setTimeout(() => {
      run.persistTimer = undefined;
      run.persisting = run.persisting.then(() => this.#persist(run));
    }, wait);
  }

  async #persist(run: ActiveRun): Promise<void> {
    if (!run.dirty) return;
    run.dirty = false;
    run.lastPersistAt = performance.now();
    const progress = run.progress;
    try {
      const entry = await readJob(this.#kv, run.job.id);
      if (entry === null || entry.job.state !== "running") return;
      const job: Job = { ...entry.job, progress, updatedAt: this.#now() };
      const res = await this.#kv.atomic()
        .check(entry)
        .check({ key: leaseKey(job.id), versionstamp: run.leaseVersionstamp })
        .set(jobKey(job.id), job)
        .commit();
      this.#absorb(run, res.ok ? job : entry.job);
      if (!res.ok) run.dirty = true;
    } catch (error) {
      this.#deps.logger.warn("could not save job progress", {
        job_id: run.job.id,
        error: String(error),
      });
    }
  }

  #startRenewals(run: ActiveRun): void {
    const every = Math.max(1, Math.floor(this.#timings.leaseMs / 3));
    run.renewTimer = setInterval(() => {
      if (run.renewing !== undefined) return;
      run.renewing = this.#renew(run).finally(() => run.renewing = undefined);
    }, every);
  }

  /** Extends the lease and re-reads the job, to notice a cancel requested by another instance. */
  async #renew(run: ActiveRun): Promise<void> {
    const id = run.job.id;
    try {
      const now = this.#now();
      const res = await this.#kv.atomic()
        .check({ key: leaseKey(id), versionstamp: run.leaseVersionstamp })
        .set(
          leaseKey(id),
          { jobId: id, owner: this.instanceId, expiresAt: now + this.#timings.leaseMs },
          { expireIn: this.#timings.leaseMs },
        )
        .commit();
      if (!res.ok) {
        this.#deps.logger.warn("lost the lease on a running job; stopping it here", { job_id: id });
        this.#abort(run, "lease_lost");
        return;
      }
      run.leaseVersionstamp = res.versionstamp;
      const entry = await readJob(this.#kv, id);
      if (entry === null || entry.job.state !== "running") {
        this.#abort(run, "lease_lost");
        return;
      }
      this.#absorb(run, entry.job);
    } catch (error) {
      this.#deps.logger.warn("could not renew a job's lease", { job_id: id, error: String(error) });
    }
  }

  /**
   * Takes the stored job's fields (cancel flag, status message) and acts on a cancel request; a
   * status message stored meanwhile (by another instance) is brought up to date.
   */
  #absorb(run: ActiveRun, job: Job): void {
    const newMessage = job.statusMessageId !== run.job.statusMessageId;
    run.job = job;
    if (job.cancelRequested) this.#abort(run, "cancel");
    else if (newMessage) this.#notify({ ...job, progress: run.progress, updatedAt: this.#now() });
  }

  /** Stops renewals and progress writes before the outcome is stored. */
  async #quiesce(run: ActiveRun): Promise<void> {
    clearInterval(run.renewTimer);
    if (run.persistTimer !== undefined) clearTimeout(run.persistTimer);
    run.persistTimer = undefined;
    await run.renewing;
    await run.persisting;
  }

  #abort(run: ActiveRun, reason: StopReason): void {
    if (run.stopReason !== undefined) return;
    run.stopReason = reason;
    run.controller.abort(reason);
  }

  async #conclude(
    run: ActiveRun,
    outcome: DownloadOutcome | { kind: "crashed"; message: string },
    dir: string,
  ): Promise<void> {
    const id = run.job.id;
    if (run.stopReason === "lease_lost") {
      this.#deps.logger.warn("abandoned a job whose lease was taken over", { job_id: id });
      return;
    }
    if (outcome.kind === "cancelled" && run.stopReason === "shutdown") {
      await this.#requeueAfterShutdown(run);
      return;
    }
    const verdict = this.#verdict(run, outcome);
    let result: Job["result"];
    if (verdict.state === "succeeded") {
      try {
        const output = await this.#deps.inspectOutput(dir);
        result = { title: run.title, ...output };
      } catch (error) {
        this.#deps.logger.error("could not inspect a job's files", {
          job_id: id,
          error: String(error),
        });
        Object.assign(verdict, { state: "failed", error: internalError(String(error)) });
      }
      if (result !== undefined && result.files.length === 0) {
        Object.assign(verdict, { state: "failed", error: noResultsError() });
        result = undefined;
      }
    }
    await this.#finish(run, verdict, result);
  }

  #verdict(
    run: ActiveRun,
    outcome: DownloadOutcome | { kind: "crashed"; message: string },
  ): Verdict {
    const config = this.#deps.config;
    if (outcome.kind === "missing") {
      this.#deps.logger.error("the downloader is not installed", {
        job_id: run.job.id,
        message: outcome.message,
        hint: MISSING_HINT,
      });
      return {
        state: "failed",
        error: {
          code: "downloader_missing",
          userMessage:
            "The downloader is not installed on the server. The bot admin has been told.",
          detail: outcome.message,
        },
      };
    }
    if (outcome.kind === "crashed") {
      this.#deps.logger.error("running the downloader failed", {
        job_id: run.job.id,
        error: outcome.message,
      });
      return { state: "failed", error: internalError(outcome.message) };
    }
    if (run.stopReason === "needs_confirmation" && run.tooManyTracks !== undefined) {
      return {
        state: "failed",
        error: needsConfirmationError(
          run.job.kind,
          run.tooManyTracks,
          config.jobs.confirm_above_tracks,
        ),
      };
    }
    if (run.rateLimited) {
      const wait = run.retryAfterSeconds;
      return {
        state: "failed",
        error: {
          code: "rate_limited",
          userMessage: wait === undefined
            ? "Spotify is rate-limiting downloads right now. Please try again later."
            : `Spotify is rate-limiting downloads right now (retry in about ${
              formatSeconds(wait)
            }). Please try again later.`,
          detail: `retry after ${wait ?? "?"}s; ${tail(outcome.stderrTail)}`,
        },
      };
    }
    if (outcome.kind === "cancelled") return { state: "cancelled", error: CANCELLED_ERROR };
    if (outcome.kind === "timeout") {
      const minutes = config.downloader.timeout_minutes;
      return {
        state: "failed",
        error: {
          code: "timeout",
          userMessage: `The download took longer than ${minutes} ${
            minutes === 1 ? "minute" : "minutes"
          } and was stopped.`,
          detail: tail(outcome.stderrTail),
        },
      };
    }
    if (outcome.exitCode !== 0) {
      return {
        state: "failed",
        error: {
          code: "downloader_failed",
          userMessage: "The downloader stopped with an error. " +
            "Please try again later.",
          detail: `exit code ${outcome.exitCode}; ${tail(outcome.stderrTail)}`,
        },
      };
    }
    return { state: "succeeded" };
  }

  /** Stores the final state (while still holding the lease), cleans up and reports it. */
  async #finish(run: ActiveRun, verdict: Verdict, result: Job["result"]): Promise<void> {
    const id = run.job.id;
    const final = await retryCas(`finishing job ${id}`, async () => {
      const entry = await readJob(this.#kv, id);
      if (entry === null || entry.job.state !== "running") return null;
      const now = this.#now();
      const succeeded = verdict.state === "succeeded";
      const job = jobSchema.parse({
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
      });
      const ok = await commitFinal(this.#kv, {
        entry,
        final: job,
        leaseVersionstamp: run.leaseVersionstamp,
        now,
        timings: this.#timings,
      });
      if (ok) return job;
      return await this.#stillLeased(run) ? undefined : null;
    });
    if (final === null) {
      this.#deps.logger.warn("a job's outcome was not stored: another worker took it over", {
        job_id: id,
      });
      return;
    }
    if (final.state !== "succeeded") await this.#removeFiles(id);
    this.#deps.logger.info("job finished", {
      job_id: id,
      state: final.state,
      code: final.error?.code,
      detail: final.error?.detail,
      files: final.result?.files.length,
    });
    this.#deps.metrics?.jobFinished(
      verdict.state,
      Math.max(0, (final.finishedAt ?? 0) - (final.startedAt ?? final.finishedAt ?? 0)) / 1000,
    );
    run.finishing = true;
    this.#deps.metrics?.setRunning(this.#downloading());
    try {
      await this.#deps.observer.onFinished(final);
    } catch (error) {
      this.#deps.logger.error("observer failed on a finished job", {
        job_id: id,
        error: String(error),
      });
    }
  }

  /**
   * Puts a job stopped by shutdown back in the queue. Its partial files go first, while this
   * worker still holds the lease (once queued, another instance may claim it and use the directory).
   */
  async #requeueAfterShutdown(run: ActiveRun): Promise<void> {
    const id = run.job.id;
    if (await this.#stillLeased(run)) await this.#removeFiles(id);
    const outcome = await retryCas(`re-queueing job ${id}`, async () => {
      const entry = await readJob(this.#kv, id);
      if (entry === null || entry.job.state !== "running") return "gone" as const;
      if (entry.job.cancelRequested) return "cancelled" as const;
      const queued = await requeue(this.#kv, entry, run.leaseVersionstamp, this.#now());
      if (queued !== undefined) {
        this.#notify(queued);
        return "queued" as const;
      }
      return await this.#stillLeased(run) ? undefined : "gone" as const;
    });
    if (outcome === "cancelled") {
      await this.#finish(run, { state: "cancelled", error: CANCELLED_ERROR }, undefined);
    } else if (outcome === "queued") {
      this.#deps.logger.info("job put back in the queue for the next start", { job_id: id });
    }
  }

  async #stillLeased(run: ActiveRun): Promise<boolean> {
    const lease = await this.#kv.get(leaseKey(run.job.id));
    return lease.versionstamp === run.leaseVersionstamp;
  }

  async #removeFiles(jobId: string): Promise<void> {
    try {
      await removeOutputDir(this.#deps.downloadsDir, jobId);
    } catch (error) {
      this.#deps.logger.warn("could not remove a job's files", {
        job_id: jobId,
        error: String(error),
      });
    }
  }

  #notify(job: Job): void {
    try {
      this.#deps.observer.onUpdate(job);
    } catch (error) {
      this.#deps.logger.error("observer failed on a job update", {
        job_id: job.id,
        error: String(error),
      });
    }
  }

  async #guard(what: string, task: () => Promise<void>): Promise<void> {
    try {
      await task();
    } catch (error) {
      this.#deps.logger.error(`${what} failed`, { error: String(error) });
    }
  }

  #sleep(ms: number): Promise<void> {
    if (this.#wakePending) {
      this.#wakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(), ms);
      const done = () => {
        clearTimeout(timer);
        this.#wakeUp = undefined;
        resolve();
      };
      this.#wakeUp = done;
    });
  }

  #wake(): void {
    if (this.#wakeUp !== undefined) this.#wakeUp();
    else this.#wakePending = true;
  }
}

function tail(lines: string[]): string {
  return lines.length === 0 ? "no stderr output" : `stderr: ${lines.slice(-20).join("\n")}`;
}

function internalError(detail: string): JobError {
  return {
    code: "internal",
    userMessage: "Something went wrong on the server while downloading. Please try again later.",
    detail,
  };
}

/** How the confirmation question names what the link points at. */
const LIST_PHRASE: Record<Job["kind"], string> = {
  playlist: "This playlist",
  album: "This album",
  artist: "This artist's list",
  track: "This link",
};

/** The error of a job stopped because its list is longer than the limit without confirmation. */
export function needsConfirmationError(kind: Job["kind"], total: number, limit: number): JobError {
  return {
    code: "needs_confirmation",
    userMessage: `${LIST_PHRASE[kind]} has ${total} tracks, more than the limit of ${limit} ` +
      `without confirmation. Press "Download all ${total} tracks" to go ahead.`,
    detail: `${total} songs announced; jobs.confirm_above_tracks = ${limit}`,
  };
}

function noResultsError(): JobError {
  return {
    code: "no_results",
    userMessage: "Nothing could be downloaded: spotDL found no matching audio for this link. " +
      "Check the link opens in Spotify, or try again later.",
  };
}
