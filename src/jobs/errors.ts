/**
 * Every way a job can end other than success, with the text its user reads (`userMessage`) kept
 * apart from what only the log gets (`detail`). The worker's verdict, recovery and the service
 * build their errors here and nowhere else.
 *
 * @module
 */
import { formatSeconds } from "../runtime/duration.ts";
import type { DownloaderEvent } from "../downloader/events.ts";
import type { Job, JobError } from "./model.ts";

/** The error stored on a cancelled job. */
export const CANCELLED_ERROR: JobError = { code: "cancelled", userMessage: "Cancelled." };

/** Whether a downloader's error text says the disk is full (ENOSPC, Python's errno 28). */
export function isDiskFull(text: string): boolean {
  return /\[Errno 28\]|No space left on device|ENOSPC/i.test(text);
}

/** The downloader's error line when it says the disk is full; undefined for any other event. */
export function diskFullLine(event: DownloaderEvent): string | undefined {
  if (event.type !== "error" && event.type !== "song_error" && event.type !== "fatal") {
    return undefined;
  }
  const line = `${event.errorClass}: ${event.message}`;
  return isDiskFull(line) ? line : undefined;
}

/** The disk filled up during the run: it was stopped and its files removed. */
export function diskFullError(detail: string): JobError {
  return {
    code: "disk_full",
    userMessage: "The server ran out of disk space during this download, so it was stopped " +
      "and its files removed. The admins have been told; please try again later.",
    detail,
  };
}

/** The error stored on a job that was interrupted too often. */
export const INTERRUPTED_ERROR: JobError = {
  code: "interrupted",
  userMessage: "The bot restarted while this download was running, too often to resume it " +
    "automatically. Send /download again to start over.",
};

/** What the admin is told to do when the downloader cannot be started (logged, never shown). */
export const DOWNLOADER_MISSING_HINT =
  "Install spotDL (for example `pipx install spotdl`) or set downloader.command " +
  "to the executable's full path; `dlbot check-config` verifies it.";

/** The downloader executable could not be started. */
export function downloaderMissingError(detail: string): JobError {
  return {
    code: "downloader_missing",
    userMessage: "The downloader is not installed on the server. The bot admin has been told.",
    detail,
  };
}

/** Something on the server broke (not the downloader's own failure). */
export function internalError(detail: string): JobError {
  return {
    code: "internal",
    userMessage: "Something went wrong on the server while downloading. Please try again later.",
    detail,
  };
}

/** Spotify limited the downloader's requests. */
export function rateLimitedError(retryAfterSeconds: number | undefined, detail: string): JobError {
  return {
    code: "rate_limited",
    userMessage: retryAfterSeconds === undefined
      ? "Spotify is rate-limiting downloads right now. Please try again later."
      : `Spotify is rate-limiting downloads right now (retry in about ${
        formatSeconds(retryAfterSeconds)
      }). Please try again later.`,
    detail: `retry after ${retryAfterSeconds ?? "?"}s; ${detail}`,
  };
}

/** The download ran past `downloader.timeout_minutes`. */
export function timeoutError(minutes: number, detail: string): JobError {
  return {
    code: "timeout",
    userMessage: `The download took longer than ${minutes} ${
      minutes === 1 ? "minute" : "minutes"
    } and was stopped.`,
    detail,
  };
}

/** The downloader exited non-zero. */
export function downloaderFailedError(exitCode: number, detail: string): JobError {
  return {
    code: "downloader_failed",
    userMessage: "The downloader stopped with an error. Please try again later.",
    detail: `exit code ${exitCode}; ${detail}`,
  };
}

/** How a whole run failed, from the last line of the downloader's traceback. */
export function fatalError(errorClass: string, message: string, detail: string): JobError {
  const text = `${errorClass}: ${message}`;
  if (isDiskFull(text)) return diskFullError(detail);
  if (/ffmpeg/i.test(errorClass) && /not installed|not found/i.test(message)) {
    return {
      code: "ffmpeg_missing",
      userMessage: "The server cannot convert audio right now (ffmpeg is missing). " +
        "Please tell the bot's admin.",
      detail,
    };
  }
  if (/blocked by YouTube Music/i.test(message)) {
    return {
      code: "youtube_blocked",
      userMessage: "YouTube Music is blocking the server right now, so nothing can be " +
        "downloaded. Please try again later, or tell the bot's admin if it lasts.",
      detail,
    };
  }
  if (/Spotify/i.test(errorClass) && /\b404\b|404 error responses/.test(message)) {
    return {
      code: "spotify_not_found",
      userMessage: "Spotify does not serve this link: the playlist is private or deleted, or it " +
        "is one of Spotify's own playlists that its API no longer serves. " +
        "A copy saved to your own public playlist works.",
      detail,
    };
  }
  if (/Spotify/i.test(errorClass) && /status:\s*403|\bForbidden\b/.test(message)) {
    return {
      code: "spotify_forbidden",
      userMessage: "Spotify refused the request: the server's spotDL needs an update for " +
        "Spotify's recent API changes. Please tell the bot's admin.",
      detail,
    };
  }
  if (/Spotify/i.test(errorClass) && /\b429\b/.test(message)) {
    return rateLimitedError(undefined, detail);
  }
  if (NETWORK.test(text)) {
    return {
      code: "network",
      userMessage: "The server could not reach Spotify or YouTube (a network problem). " +
        "Please try again in a few minutes.",
      detail,
    };
  }
  return {
    code: "downloader_failed",
    userMessage: "The downloader stopped with an error. Please try again later.",
    detail: `${text}; ${detail}`,
  };
}

/** Errors of an unreachable network, as Python's requests and urllib3 word them. */
const NETWORK =
  /ConnectionError|Max retries exceeded|Failed to establish a new connection|Read timed out|Temporary failure in name resolution|Name or service not known|Network is unreachable/i;

/** The downloader finished but produced no file. */
export function noResultsError(): JobError {
  return {
    code: "no_results",
    userMessage: "Nothing could be downloaded: spotDL found no matching audio for this link. " +
      "Check the link opens in Spotify, or try again later.",
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

/** Whether a job stopped before downloading because its list needs the user's confirmation. */
export function needsConfirmation(job: Job): boolean {
  return job.state === "failed" && job.error?.code === "needs_confirmation";
}

/** The last stderr lines of a run, for an error's log detail. */
export function stderrDetail(lines: readonly string[]): string {
  return lines.length === 0 ? "no stderr output" : `stderr: ${lines.slice(-20).join("\n")}`;
}

/**
 * Whether a failure is the server's (the admin must act: logged at warning or error) rather than
 * the link's or the user's (logged at info).
 */
export function isServerFailure(code: JobError["code"]): boolean {
  return [
    "downloader_missing",
    "downloader_failed",
    "ffmpeg_missing",
    "internal",
    "spotify_forbidden",
    "youtube_blocked",
    "network",
    "disk_full",
    "timeout",
    "interrupted",
  ].includes(code);
}
