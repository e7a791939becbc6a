/**
 * Turns downloader events into a job's progress. Pure functions: the worker folds every event
 * through {@linkcode applyEvent} and persists the result now and then, and names what is left
 * with {@linkcode settleProgress} when the run ends.
 *
 * Songs are counted from the lines that end them, never from `k/N complete` (with spotDL's
 * threads two songs can finish together and a k is skipped): `Downloaded …` is a song done,
 * `Skipping …` a song skipped (by kind), a failure line a song failed. A failure line that names
 * no song (`AudioProviderError: YT-DLP download error - <youtube url>`) is named at the end by the
 * songs that started and never finished.
 *
 * @module
 */
import type { DownloaderEvent, TrackStatus } from "../downloader/events.ts";
import { type JobProgress, jobProgressSchema, type SongFailure } from "./model.ts";

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

/** Failures kept by name (the count goes on); keeps the job record well inside KV's limits. */
const MAX_FAILURES = 50;
/** Songs remembered as in flight (spotDL runs 4 at once by default). */
const MAX_IN_FLIGHT = 32;
/** Longest song name kept. */
const MAX_NAME = 200;

/** Why a song failed, for people, from the downloader's error class. */
const REASONS: Readonly<Record<string, string>> = {
  LookupError: "no matching audio found",
  AudioProviderError: "YouTube refused the download",
  FFmpegError: "the audio could not be converted",
  ConversionError: "the audio could not be converted",
  MetadataError: "the tags could not be written",
  MissingFields: "Spotify sent incomplete track data",
};

/** Progress before the downloader said anything. */
export function initialProgress(options: { resumed?: boolean } = {}): JobProgress {
  return jobProgressSchema.parse({ resumed: options.resumed ?? false });
}

/** The people's reason for a failed song. */
export function failureReason(errorClass: string): string {
  return REASONS[errorClass] ?? `failed (${errorClass})`;
}

/** Folds one downloader event into the progress. */
export function applyEvent(progress: JobProgress, event: DownloaderEvent): JobProgress {
  switch (event.type) {
    case "total":
      return withPercent({
        ...progress,
        total: event.total,
        ...(event.title === undefined ? {} : { title: event.title }),
      });
    case "complete":
      // A single track prints no `Found` line: `1/1 complete` is its count.
      if (progress.total !== undefined || event.total <= 0) return progress;
      return withPercent({ ...progress, total: event.total });
    case "percent":
      return { ...progress, percent: clampPercent(event.percent) };
    case "track":
      return withPercent(applyTrack(progress, event.name, event.status));
    case "downloaded":
      return withPercent({ ...finished(progress, event.name), done: progress.done + 1 });
    case "skipped":
      return withPercent(applySkip(progress, event));
    case "unavailable":
      return { ...progress, unavailable: progress.unavailable + 1 };
    case "error":
      return withPercent(recordFailure(progress, event.track, failureReason(event.errorClass)));
    case "song_error":
      return withPercent(listedFailure(progress, event.track, failureReason(event.errorClass)));
    case "rate_limit":
    case "fatal":
    case "unknown":
      return progress;
  }
}

/**
 * The progress at the end of a run: failures that named no song take the names of songs that
 * started and never finished, in order; nothing is in flight any more.
 */
export function settleProgress(progress: JobProgress): JobProgress {
  const named = new Set(progress.failures.map((f) => f.name).filter((n) => n !== undefined));
  const leftover = progress.inFlight.filter((name) => !named.has(name));
  const failures = progress.failures.map((failure) =>
    failure.name === undefined && leftover.length > 0
      ? { ...failure, name: leftover.shift() }
      : failure
  );
  return {
    ...progress,
    failures,
    inFlight: [],
    current: undefined,
    currentStatus: undefined,
    waitingUntil: undefined,
  };
}

function applyTrack(progress: JobProgress, name: string, status: TrackStatus): JobProgress {
  switch (status) {
    case "downloading":
    case "converting":
    case "embedding":
      return {
        ...progress,
        current: name,
        currentStatus: STAGE_LABEL[status],
        inFlight: addName(progress.inFlight, name, MAX_IN_FLIGHT),
      };
    case "done":
    case "skipped":
      // Counted by their `Downloaded`/`Skipping` lines (spotDL prints both).
      return finished(progress, name);
    case "error":
      return recordFailure(progress, name, "failed");
  }
}

function applySkip(
  progress: JobProgress,
  event: DownloaderEvent & { type: "skipped" },
): JobProgress {
  const next = finished(progress, event.name);
  if (event.reason === "explicit") return { ...next, skippedExplicit: next.skippedExplicit + 1 };
  // A resumed job finds the songs of its earlier attempt: they are its own downloads.
  if (progress.resumed && event.reason === "exists") return { ...next, done: next.done + 1 };
  return { ...next, skipped: next.skipped + 1 };
}

/** A song ended: it is no longer current or in flight. */
function finished(progress: JobProgress, name: string): JobProgress {
  const key = comparable(name);
  const inFlight = progress.inFlight.filter((n) => comparable(n) !== key);
  const isCurrent = progress.current !== undefined && comparable(progress.current) === key;
  return {
    ...progress,
    inFlight,
    ...(isCurrent ? { current: undefined, currentStatus: undefined } : {}),
  };
}

/** Counts a failed song once (by name when it has one). */
function recordFailure(progress: JobProgress, name: string | undefined, reason: string) {
  if (name !== undefined && progress.failures.some((f) => sameName(f.name, name))) {
    return progress;
  }
  const failure: SongFailure = name === undefined
    ? { reason }
    : { name: name.slice(0, MAX_NAME), reason };
  const failures = progress.failures.length < MAX_FAILURES
    ? [...progress.failures, failure]
    : progress.failures;
  const next = name === undefined ? progress : finished(progress, name);
  return { ...next, failed: progress.failed + 1, failures };
}

/**
 * A failure in the end-of-run list (`--print-errors`): already counted when its line came,
 * unless that line was lost; then it counts now.
 */
function listedFailure(progress: JobProgress, name: string | undefined, reason: string) {
  if (name !== undefined) return recordFailure(progress, name, reason);
  return progress;
}

function addName(names: string[], name: string, max: number): string[] {
  if (name === "" || names.some((n) => comparable(n) === comparable(name))) return names;
  return names.length >= max ? names : [...names, name.slice(0, MAX_NAME)];
}

/** spotDL's status lines drop combining marks (`Beyonce`), its other lines keep them. */
function comparable(name: string): string {
  return name.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().trim();
}

function sameName(a: string | undefined, b: string): boolean {
  return a !== undefined && comparable(a) === comparable(b);
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
  const finishedSongs = progress.done + progress.skipped + progress.skippedExplicit +
    progress.failed;
  const inFlight = finishedSongs < total ? stageFraction(progress) : 0;
  const computed = clampPercent(((finishedSongs + inFlight) / total) * 100);
  return { ...progress, percent: Math.max(progress.percent, computed) };
}

function clampPercent(value: number): number {
  if (!Number.isFinite(value)) return 0;
  return Math.min(100, Math.max(0, value));
}
