/**
 * One running job in this instance: calls the downloader (through the shared songs,
 * `shared_download.ts`), keeps the lease alive and notices a cancel requested elsewhere
 * (`run_record.ts`), folds the downloader's events into progress, and at the end stores the
 * verdict and tells the observer.
 *
 * @module
 */
import type { DownloaderEvent } from "../downloader/events.ts";
import { errorText } from "../runtime/error_text.ts";
import { CANCELLED_ERROR, internalError, isServerFailure, noResultsError } from "./errors.ts";
import { diskFullLine } from "./errors.ts";
import { jobOutputDir, removeJobFiles } from "./files.ts";
import { keepCompleteSongs } from "../downloader/output_files.ts";
import { prepareRunDirectory } from "./run_directory.ts";
import { downloadSharingSongs } from "./shared_download.ts";
import { logServerOutcome, requeueStopped, stillLeased, storeFinal } from "./finish.ts";
import type { Job, JobProgress, JobResult } from "./model.ts";
import { applyEvent, settleProgress } from "./progress.ts";
import { type Claim, pauseForSpotify } from "./queue.ts";
import type { InspectedOutput, RunDeps } from "./run_deps.ts";
import { RunRecord } from "./run_record.ts";
import {
  type RunFacts,
  type RunOutcome,
  type StopReason,
  type Verdict,
  verdictOf,
} from "./verdict.ts";

export type { InspectedOutput, RunDeps, ServerProblems } from "./run_deps.ts";

/** One job running in this instance. */
export class JobRun {
  /** The job as last read from KV (state, cancel flag, status message). */
  job: Job;
  /** Resolves when the run is over (outcome stored, chat told); set by {@linkcode launch}. */
  done: Promise<void> = Promise.resolve();
  /** The outcome is stored; only the chat notification is still under way. */
  finishing = false;
  readonly #deps: RunDeps;
  readonly #controller = new AbortController();
  readonly #facts: RunFacts;
  #progress: JobProgress;
  #title?: string;
  /** The song key of each file by name, when the download identified them. */
  #songKeys = new Map<string, string>();
  readonly #record: RunRecord;
  readonly #started = Promise.withResolvers<void>();

  constructor(deps: RunDeps, claim: Claim) {
    this.#deps = deps;
    this.job = claim.job;
    this.#progress = claim.job.progress;
    this.#facts = { kind: claim.job.kind };
    this.#record = new RunRecord(deps, claim.job.id, claim.leaseVersionstamp, {
      progress: () => this.#progress,
      stored: (job) => this.#absorb(job),
      lost: () => this.abort("lease_lost"),
    });
  }

  /**
   * Starts the run (once); resolves once the downloader has been called, or setting the run up
   * failed. {@linkcode done} settles when the run is over.
   */
  launch(): Promise<void> {
    this.done = this.#execute().finally(() => this.#started.resolve());
    return this.#started.promise;
  }

  /** Stops the download for `reason`; the first reason wins. */
  abort(reason: StopReason): void {
    if (this.#facts.stopReason !== undefined) return;
    this.#facts.stopReason = reason;
    this.#controller.abort(reason);
  }

  async #execute(): Promise<void> {
    const deps = this.#deps;
    const id = this.job.id;
    const dir = jobOutputDir(deps.downloadsDir, id);
    deps.logger.info("job started", { job_id: id, attempt: this.job.attempts, url: this.job.url });
    this.#record.startRenewals();
    deps.observer.onUpdate(this.job);
    if (this.job.cancelRequested) this.abort("cancel");
    let outcome: RunOutcome;
    try {
      await this.#prepareDirectory(dir);
      const running = downloadSharingSongs(deps, this.job, {
        url: this.job.url,
        outputDir: dir,
        signal: this.#controller.signal,
        onEvent: (event) => this.#onEvent(event),
        ...(this.job.audio === undefined ? {} : { audio: this.job.audio }),
      }, { reused: () => this.#reused(), identified: (keys) => this.#songKeys = keys });
      this.#started.resolve();
      outcome = await running;
    } catch (error) {
      outcome = { kind: "crashed", message: errorText(error) };
    }
    this.#started.resolve();
    await this.#record.quiesce();
    try {
      await this.#conclude(outcome, dir);
    } catch (error) {
      deps.logger.error("could not store a job's outcome; recovery will retry it", {
        job_id: id,
        error: errorText(error),
      });
    }
  }

  /** The run's directory (see `run_directory.ts`); songs found there count as its own. */
  async #prepareDirectory(dir: string): Promise<void> {
    const kept = await prepareRunDirectory(this.#deps, this.job, dir);
    if (kept > 0) this.#reused();
  }

  /** Songs were placed in the directory before the download: the downloader's skips are done. */
  #reused(): void {
    this.#progress = { ...this.#progress, resumed: true };
  }

  #onEvent(event: DownloaderEvent): void {
    if (event.type === "unknown") {
      this.#deps.logger.debug("unrecognised downloader output", {
        job_id: this.job.id,
        line: event.line,
      });
      return;
    }
    if (event.type === "total" && event.title !== undefined) this.#title = event.title;
    if (event.type === "total" && this.#needsConfirmation(event.total)) {
      this.#facts.tooManyTracks ??= event.total;
      this.abort("needs_confirmation");
    }
    if (event.type === "fatal") this.#facts.fatal = event;
    const full = diskFullLine(event);
    if (full !== undefined && this.#facts.diskFull === undefined) {
      this.#facts.diskFull = full;
      this.#deps.logger.warn("the downloads' disk is full; stopping the download", {
        job_id: this.job.id,
        line: full,
      });
      this.abort("disk_full");
    }
    let next = applyEvent(this.#progress, event);
    if (event.type === "rate_limit") next = this.#spotifyWait(next, event.retryAfterSeconds);
    else if (next.waitingUntil !== undefined && event.type !== "complete") {
      next = { ...next, waitingUntil: undefined };
    }
    if (event.type === "downloaded") next = { ...next, lastSongAt: Date.now() };
    if (JSON.stringify(next) === JSON.stringify(this.#progress)) return;
    this.#progress = next;
    this.#notify();
    this.#record.progressChanged();
  }

  /**
   * Spotify asked the downloader to wait. A short wait (up to
   * `downloader.spotify_wait_max_seconds`) is shown while the downloader sits it out; a longer
   * one stops the run, pauses every job in the store until it ends, and this job waits in the
   * queue with what it has. Without a number (spotipy prints `None` for a 404) it is no wait.
   */
  #spotifyWait(progress: JobProgress, seconds: number | undefined): JobProgress {
    if (seconds === undefined) return progress;
    const until = this.#deps.now() + seconds * 1000;
    this.#deps.logger.warn("Spotify asked to wait", {
      job_id: this.job.id,
      retry_after_s: seconds,
    });
    if (seconds <= this.#deps.config.downloader.spotify_wait_max_seconds) {
      this.#deps.metrics?.spotifyWait("short");
      return { ...progress, waitingUntil: until };
    }
    this.#deps.metrics?.spotifyWait("pause");
    this.#deps.problems?.spotifyPaused(until);
    this.#facts.pauseUntil = Math.max(this.#facts.pauseUntil ?? 0, until);
    this.abort("spotify_pause");
    return progress;
  }

  /** Whether an announced song count stops an unconfirmed job to ask the user first. */
  #needsConfirmation(total: number): boolean {
    const limit = this.#deps.config.jobs.confirm_above_tracks;
    return limit > 0 && total > limit && !this.job.confirmed;
  }

  /** Tells the observer the job's current state, with this run's (fresher) progress. */
  #notify(): void {
    this.#deps.observer.onUpdate({
      ...this.job,
      progress: this.#progress,
      updatedAt: this.#deps.now(),
    });
  }

  /**
   * Takes the stored job's fields (cancel flag, status message) and acts on a cancel request; a
   * status message stored meanwhile is brought up to date.
   */
  #absorb(job: Job): void {
    const newMessage = job.statusMessageId !== this.job.statusMessageId;
    this.job = job;
    if (job.cancelRequested) this.abort("cancel");
    else if (newMessage) this.#notify();
  }

  get #held() {
    return {
      jobId: this.job.id,
      leaseVersionstamp: this.#record.leaseVersionstamp,
      progress: this.#progress,
    };
  }

  async #conclude(outcome: RunOutcome, dir: string): Promise<void> {
    const { logger } = this.#deps;
    const id = this.job.id;
    if (this.#facts.stopReason === "lease_lost") {
      logger.warn("abandoned a job whose lease was taken over", { job_id: id });
      return;
    }
    const stop = this.#facts.stopReason;
    if (outcome.kind === "cancelled" && (stop === "shutdown" || stop === "spotify_pause")) {
      await this.#requeueStopped();
      return;
    }
    logServerOutcome(this.#deps.logger, this.job.id, outcome);
    this.#progress = settleProgress(this.#progress);
    const verdict = verdictOf(outcome, this.#facts, {
      timeoutMinutes: this.#deps.config.downloader.timeout_minutes,
      confirmAboveTracks: this.#deps.config.jobs.confirm_above_tracks,
    });
    const result = verdict.state === "succeeded" ? await this.#inspect(dir, verdict) : undefined;
    await this.#finish(verdict, result);
  }

  /** The files of a successful run; on failure `verdict` turns into the failure. */
  async #inspect(dir: string, verdict: Verdict): Promise<JobResult | undefined> {
    try {
      // Tags name a performer best, but only audio messages show one.
      const asAudio = this.job.kind === "track" || this.job.asAudio === true;
      const output = await this.#deps.inspectOutput(dir, { measureListed: asAudio });
      if (output.files.length > 0) return this.#resultOf(output);
      Object.assign(verdict, { state: "failed", error: noResultsError() });
    } catch (error) {
      this.#deps.logger.error("could not inspect a job's files", {
        job_id: this.job.id,
        error: errorText(error),
      });
      Object.assign(verdict, { state: "failed", error: internalError(errorText(error)) });
    }
    return undefined;
  }

  /** A successful run's result: its files with their song keys, and who serves them. */
  #resultOf(output: InspectedOutput): JobResult {
    const files = output.files.map((file) => {
      const songKey = this.#songKeys.get(file.name);
      return songKey === undefined ? file : { ...file, songKey };
    });
    const servedFrom = this.#deps.servedFrom?.();
    const served = servedFrom === undefined ? {} : { servedFrom };
    return { title: this.#title, unlistedFiles: 0, ...output, files, ...served };
  }

  /** Stores the final state (while still holding the lease), cleans up and reports it. */
  async #finish(verdict: Verdict, result: JobResult | undefined): Promise<void> {
    const deps = this.#deps;
    const id = this.job.id;
    // On a full disk the store itself needs the space the partial files take.
    const diskFull = verdict.error?.code === "disk_full";
    if (diskFull) await removeJobFiles(deps.downloadsDir, id, deps.logger);
    const final = await storeFinal(deps, this.#held, verdict, result);
    if (final === null) {
      deps.logger.warn("a job's outcome was not stored: another worker took it over", {
        job_id: id,
      });
      return;
    }
    if (final.state !== "succeeded" && !diskFull) {
      await removeJobFiles(deps.downloadsDir, id, deps.logger);
    }
    const serverFailure = final.error !== undefined && isServerFailure(final.error.code);
    if (serverFailure) deps.problems?.jobFailed(final);
    (serverFailure ? deps.logger.warn : deps.logger.info).call(deps.logger, "job finished", {
      job_id: id,
      state: final.state,
      code: final.error?.code,
      detail: final.error?.detail,
      files: final.result?.files.length,
    });
    deps.metrics?.jobFinished(
      verdict.state,
      Math.max(0, (final.finishedAt ?? 0) - (final.startedAt ?? final.finishedAt ?? 0)) / 1000,
      final.error?.code,
    );
    this.finishing = true;
    deps.onDownloadDone();
    await deps.observer.onFinished(final);
  }

  /**
   * Puts a job stopped by shutdown or a Spotify pause back in the queue, keeping its complete
   * songs (written before its last finished song) for the next attempt; the rest of its files go
   * first, while this worker still holds the lease (once queued, another instance may claim it).
   */
  async #requeueStopped(): Promise<void> {
    const deps = this.#deps;
    const id = this.job.id;
    const completeBefore = this.#progress.lastSongAt ?? this.job.filesCompleteBefore;
    if (await stillLeased(deps.kv, this.#held)) {
      const dir = jobOutputDir(deps.downloadsDir, id);
      if (completeBefore === undefined) await removeJobFiles(deps.downloadsDir, id, deps.logger);
      else await keepCompleteSongs(dir, completeBefore);
    }
    const pausedUntil = this.#facts.pauseUntil;
    if (pausedUntil !== undefined) await pauseForSpotify(deps.kv, pausedUntil, deps.now());
    const outcome = await requeueStopped(deps, this.#held, {
      pausedUntil,
      filesCompleteBefore: completeBefore,
    });
    if (outcome.kind === "cancel_requested") {
      await this.#finish({ state: "cancelled", error: CANCELLED_ERROR }, undefined);
    } else if (outcome.kind === "queued") {
      deps.observer.onUpdate(outcome.job);
      deps.logger.info(
        pausedUntil === undefined
          ? "job put back in the queue for the next start"
          : "job paused until Spotify's limit ends",
        { job_id: id, paused_until: pausedUntil },
      );
    }
  }
}
