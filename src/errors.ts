/**
 * Typed errors. Each one carries a `userMessage` that is safe to show in a chat and keeps
 * technical detail (`message`, `cause`, structured fields) for the logs only.
 *
 * @module
 */
import { formatSeconds } from "./runtime/duration.ts";

/** Base class for errors whose text may be shown to a chat user. */
export class UserFacingError extends Error {
  /** Text for the person in the chat: no internals, no secrets. */
  readonly userMessage: string;
  /** Stable machine-readable code for logs and metrics. */
  readonly code: string;

  constructor(code: string, userMessage: string, logMessage?: string, options?: ErrorOptions) {
    super(logMessage ?? userMessage, options);
    this.name = new.target.name;
    this.code = code;
    this.userMessage = userMessage;
  }
}

/** The text is not a Spotify link the bot can download. */
export class InvalidLinkError extends UserFacingError {
  constructor(userMessage: string, readonly input: string) {
    super("invalid_link", userMessage, `invalid link: ${JSON.stringify(input.slice(0, 200))}`);
  }
}

/** No job with this id exists, or it belongs to someone else (the two are not told apart). */
export class JobNotFoundError extends UserFacingError {
  constructor(readonly jobId: string) {
    super(
      "job_not_found",
      `No job with id ${jobId}. Send /status to see your jobs.`,
      `job not found: ${jobId}`,
    );
  }
}

/** The job already reached a final state and cannot be cancelled. */
export class JobNotCancellableError extends UserFacingError {
  constructor(readonly jobId: string, readonly state: string) {
    super(
      "job_not_cancellable",
      `Job ${jobId} is already ${state}; there is nothing to cancel.`,
      `job ${jobId} not cancellable in state ${state}`,
    );
  }
}

/** The job did not stop for a size confirmation, so there is nothing to confirm. */
export class JobNotConfirmableError extends UserFacingError {
  constructor(readonly jobId: string, readonly state: string) {
    super(
      "job_not_confirmable",
      "This job does not need confirmation.",
      `job ${jobId} does not need confirmation (state ${state})`,
    );
  }
}

/** The user has too many queued or running jobs. */
export class ActiveJobLimitError extends UserFacingError {
  constructor(readonly limit: number) {
    super(
      "active_job_limit",
      `You already have ${limit} downloads queued or running. Wait for one to finish or /cancel one.`,
    );
  }
}

/** The global queue is full. */
export class QueueFullError extends UserFacingError {
  constructor(readonly limit: number) {
    super(
      "queue_full",
      "The bot is busy right now (the download queue is full). Please try again in a few minutes.",
      `queue full (limit ${limit})`,
    );
  }
}

/** The user sent too much too fast. */
export class RateLimitedError extends UserFacingError {
  constructor(readonly retryAfterSeconds: number, readonly bucket: string) {
    super(
      "rate_limited",
      `Slow down a little: try again in ${formatSeconds(retryAfterSeconds)}.`,
      `rate limited on ${bucket} bucket, retry after ${retryAfterSeconds}s`,
    );
  }
}

/** The server's disk is (almost) full: new downloads are refused until space is freed. */
export class OutOfSpaceError extends UserFacingError {
  constructor(readonly freeBytes: number) {
    super(
      "out_of_space",
      "The server is out of space right now, so it takes no new downloads. " +
        "The bot's admin has been told; please try again later.",
      `free space ${freeBytes} bytes is below storage.min_free_mb`,
    );
  }
}

/** The bot is draining for a restart and takes no new downloads. */
export class ShuttingDownError extends UserFacingError {
  constructor() {
    super("shutting_down", "The bot is restarting. Please try again in a minute.");
  }
}
