/**
 * How a run ended, decided from the downloader's outcome and what the worker saw while it ran:
 * pure, so every user-facing ending can be tested without a process.
 *
 * @module
 */
import type { DownloadOutcome } from "../downloader/types.ts";
import {
  CANCELLED_ERROR,
  downloaderFailedError,
  downloaderMissingError,
  internalError,
  needsConfirmationError,
  rateLimitedError,
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
  | "rate_limited"
  | "needs_confirmation";

/** What the worker noticed during the run. */
export interface RunFacts {
  kind: Job["kind"];
  stopReason?: StopReason;
  /** Spotify rate limiting was reported; `retryAfterSeconds` when it said how long. */
  rateLimited: boolean;
  retryAfterSeconds?: number;
  /** Songs announced above the confirmation limit in an unconfirmed job. */
  tooManyTracks?: number;
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
  if (facts.rateLimited) {
    return failed(rateLimitedError(facts.retryAfterSeconds, stderrDetail(outcome.stderrTail)));
  }
  if (outcome.kind === "cancelled") return { state: "cancelled", error: CANCELLED_ERROR };
  if (outcome.kind === "timeout") {
    return failed(timeoutError(settings.timeoutMinutes, stderrDetail(outcome.stderrTail)));
  }
  if (outcome.exitCode !== 0) {
    return failed(downloaderFailedError(outcome.exitCode, stderrDetail(outcome.stderrTail)));
  }
  return { state: "succeeded" };
}
