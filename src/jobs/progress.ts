/**
 * Turns downloader events into a job's progress. Pure functions: the worker folds every event
 * through {@linkcode applyEvent} and persists the result now and then.
 *
 * @module
 */
import type { DownloaderEvent, TrackStatus } from "../downloader/events.ts";
import { type JobProgress, jobProgressSchema } from "./model.ts";

/** How far along an in-flight song is at each stage, as a fraction of one song. */
const STAGE_FRACTION: Partial<Record<TrackStatus, number>> = {
  downloading: 0.2,
  converting: 0.6,
  embedding: 0.9,
};

/** How each in-flight stage is shown to people. */
const STAGE_LABEL: Partial<Record<TrackStatus, string>> = {
  downloading: "Downloading",
  converting: "Converting",
  embedding: "Embedding metadata",
};

const MAX_FAILED_NAMES = 200;

/** Progress before the downloader said anything. */
export function initialProgress(): JobProgress {
  return jobProgressSchema.parse({});
}

/** Whether an error event is Spotify rate limiting (the worker stops the job; not a song failure). */
export function isRateLimit(event: DownloaderEvent): boolean {
  return event.type === "error" &&
    (event.errorClass === "RateLimit" || event.retryAfterSeconds !== undefined);
}

/**
 * Folds one downloader event into the progress.
 *
 * - `total` (`Found N songs`) sets the song count; it wins over `k/N complete`, whose N is not
 *   trusted (spotDL prints `1/0 complete`) and is only used while no total is known.
 * - Per-song statuses count done, skipped and failed songs.
 * - spotDL usually prints no `Error` status for a failed song: `k/N complete` counts it, and the
 *   exception line (`LookupError: No results found for song: …`) names it afterwards. So a `k`
 *   above the songs accounted for counts the difference as failed, and an exception line naming a
 *   song names such a failure (or counts a new one). Songs are counted by name, never twice.
 *   Exception lines that name no song (network retries and the like) count nothing by themselves.
 * - Percent is (done + skipped + failed + the in-flight song's stage fraction) / total, never above
 *   100 and never going backwards; `percent` events (JSON lines) set it directly.
 */
export function applyEvent(progress: JobProgress, event: DownloaderEvent): JobProgress {
  switch (event.type) {
    case "total":
      return withPercent({
        ...progress,
        total: event.total,
        ...(event.title === undefined ? {} : { title: event.title }),
      });
    case "complete":
      return withPercent(applyComplete(progress, event.completed, event.total));
    case "percent":
      return { ...progress, percent: clampPercent(event.percent) };
    case "track":
      return withPercent(applyTrack(progress, event.name, event.status));
    case "error": {
      if (isRateLimit(event)) return progress;
      const name = event.track ?? failedNameFromMessage(event.message);
      if (name === undefined) return progress;
      return withPercent(recordFailure(progress, name));
    }
    case "downloaded":
    case "skipped":
    case "unknown":
      // spotDL also prints the song's Done/Skipped status for these: counting them would count twice.
      return progress;
  }
}

function applyComplete(progress: JobProgress, completed: number, total: number): JobProgress {
  let next = progress;
  if (next.total === undefined && total > 0 && total >= completed) next = { ...next, total };
  const accounted = next.done + next.skipped + next.failed;
  if (completed > accounted) next = { ...next, failed: next.failed + (completed - accounted) };
  return next;
}

/** Counts a failed song by name, filling in an earlier unnamed failure first. */
function recordFailure(progress: JobProgress, name: string): JobProgress {
  if (progress.failedTracks.includes(name)) return clearCurrent(progress, name);
  const unnamed = progress.failed > progress.failedTracks.length;
  return {
    ...clearCurrent(progress, name),
    failed: unnamed ? progress.failed : progress.failed + 1,
    failedTracks: addName(progress.failedTracks, name),
  };
}

function applyTrack(progress: JobProgress, name: string, status: TrackStatus): JobProgress {
  switch (status) {
    case "downloading":
    case "converting":
    case "embedding":
      return { ...progress, current: name, currentStatus: STAGE_LABEL[status] };
    case "done":
      return { ...clearCurrent(progress, name), done: progress.done + 1 };
    case "skipped":
      return { ...clearCurrent(progress, name), skipped: progress.skipped + 1 };
    case "error":
      return recordFailure(progress, name);
  }
}

function clearCurrent(progress: JobProgress, name: string): JobProgress {
  if (progress.current !== name) return progress;
  return { ...progress, current: undefined, currentStatus: undefined };
}

function addName(names: string[], name: string): string[] {
  if (name === "" || names.includes(name)) return names;
  if (names.length >= MAX_FAILED_NAMES) return names;
  return [...names, name];
}

/** `No results found for song: <name>` and similar messages name the song after "song:". */
function failedNameFromMessage(message: string): string | undefined {
  const match = /\b(?:song|track):\s*(.+)$/i.exec(message);
  return match?.[1]?.trim() || undefined;
}

function stageFraction(progress: JobProgress): number {
  const label = progress.currentStatus;
  for (const [status, text] of Object.entries(STAGE_LABEL)) {
    if (text === label) return STAGE_FRACTION[status as TrackStatus] ?? 0;
  }
  return 0;
}

function withPercent(progress: JobProgress): JobProgress {
  const total = progress.total;
  if (total === undefined || total <= 0) return progress;
  const finished = progress.done + progress.skipped + progress.failed;
  const inFlight = finished < total ? stageFraction(progress) : 0;
  const computed = clampPercent(((finished + inFlight) / total) * 100);
  return { ...progress, percent: Math.max(progress.percent, computed) };
}

function clampPercent(value: number): number {
  if (!Number.isFinite(value)) return 0;
  return Math.min(100, Math.max(0, value));
}
