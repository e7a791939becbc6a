/**
 * How a run ended, decided from the downloader's outcome and what the worker saw while it ran:
 * pure, so every user-facing ending can be tested without a process.
 *
 * @module
 */
import type { DownloadOutcome } from "../downloader/types.ts";
import {
  CANCELLED_ERROR,
  diskFullError,
  downloaderFailedError,
  downloaderMissingError,
  fatalError,
  internalError,
  needsConfirmationError,
  stderrDetail,
  timeoutError,
} from "./errors.ts";
import type { Job, JobError } from "./model.ts";

/** How the downloader call ended, including a failure to call it at all. */
export type RunOutcome = DownloadOutcome | { kind: "crashed"; message: string };

/** Why the worker stopped a download itself. */
export type StopReason =
  | "cancel"
  | "shutdown"
  | "lease_lost"
  | "spotify_pause"
  | "needs_confirmation"
  /** The downloader said the disk is full: going on only fills it more. */
  | "disk_full";

/** What the worker noticed during the run. */
export interface RunFacts {
  kind: Job["kind"];
  stopReason?: StopReason;
  /** Songs announced above the confirmation limit in an unconfirmed job. */
  tooManyTracks?: number;
  /** Why the whole run failed, as the downloader's traceback ended. */
  fatal?: { errorClass: string; message: string };
  /** Spotify asked for a pause longer than the downloader should sit out: until then (epoch ms). */
  pauseUntil?: number;
  /** The downloader's line saying the disk is full. */
  diskFull?: string;
}

/** The settings a verdict depends on. */
export interface VerdictSettings {
  timeoutMinutes: number;
  confirmAboveTracks: number;
}

/** A final state with its error. */
export interface Verdict {
  state: "succeeded" | "failed" | "cancelled";
  error?: JobError;
}

/** Decides a run's final state (before its files are inspected). */
export function verdictOf(
  outcome: RunOutcome,
  facts: RunFacts,
  settings: VerdictSettings,
): Verdict {
  const failed = (error: JobError): Verdict => ({ state: "failed", error });
  if (outcome.kind === "missing") return failed(downloaderMissingError(outcome.message));
  if (outcome.kind === "crashed") return failed(internalError(outcome.message));
  if (facts.stopReason === "needs_confirmation" && facts.tooManyTracks !== undefined) {
    return failed(
      needsConfirmationError(facts.kind, facts.tooManyTracks, settings.confirmAboveTracks),
    );
  }
  if (facts.stopReason === "disk_full" && facts.diskFull !== undefined) {
    return failed(diskFullError(facts.diskFull));
  }
  if (outcome.kind === "cancelled") return { state: "cancelled", error: CANCELLED_ERROR };
  if (outcome.kind === "timeout") {
    return failed(timeoutError(settings.timeoutMinutes, stderrDetail(outcome.stderrTail)));
  }
  if (outcome.exitCode !== 0) {
    const detail = `exit code ${outcome.exitCode}; ${stderrDetail(outcome.stderrTail)}`;
    if (facts.fatal) return failed(fatalError(facts.fatal.errorClass, facts.fatal.message, detail));
    return failed(downloaderFailedError(outcome.exitCode, stderrDetail(outcome.stderrTail)));
  }
  return { state: "succeeded" };
}
