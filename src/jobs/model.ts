/**
 * The job record as stored in Deno KV. Every stored value is parsed with this schema on read.
 *
 * @module
 */
import { z } from "zod";
import { JOB_ID_PATTERN } from "./ids.ts";

/** Lifecycle: queued → running → succeeded | failed | cancelled. */
export const jobStateSchema = z.enum(["queued", "running", "succeeded", "failed", "cancelled"]);
/** A job's state. */
export type JobState = z.infer<typeof jobStateSchema>;

/** States after which a job never changes again. */
export const FINAL_STATES: readonly JobState[] = ["succeeded", "failed", "cancelled"];

/** Whether a state is final. */
export function isFinal(state: JobState): boolean {
  return FINAL_STATES.includes(state);
}

/** A song that failed, with why, as far as the downloader said. */
export const songFailureSchema = z.object({
  /** The song ("Artist - Title"), when the downloader named it. */
  name: z.string().max(200).optional(),
  /** Why, for people ("no matching audio found"). */
  reason: z.string().max(200),
});
/** A failed song. */
export type SongFailure = z.infer<typeof songFailureSchema>;

/** Live progress, derived from downloader events. */
export const jobProgressSchema = z.object({
  /** Songs announced by the downloader (`Found N songs`), when known. */
  total: z.number().int().min(0).optional(),
  /** Playlist/album/track name from `Found N songs in <name>`, when known (shown while running). */
  title: z.string().optional(),
  /** Songs finished (`Downloaded …`), including files kept from an earlier attempt. */
  done: z.number().int().min(0).default(0),
  /** Songs whose file was already there (from another job or download). */
  skipped: z.number().int().min(0).default(0),
  /** Explicit songs the downloader was told to skip. */
  skippedExplicit: z.number().int().min(0).default(0),
  /** List items that cannot be downloaded at all (local files, podcast episodes); not in `total`. */
  unavailable: z.number().int().min(0).default(0),
  failed: z.number().int().min(0).default(0),
  /** 0-100. */
  percent: z.number().min(0).max(100).default(0),
  /** Song being worked on and what is happening to it ("Downloading", "Converting", …). */
  current: z.string().optional(),
  currentStatus: z.string().optional(),
  /** Songs started and not finished yet, oldest first (a failure that names no song is one). */
  inFlight: z.array(z.string()).default([]),
  /** Failed songs, in the order they failed, for the summary. */
  failures: z.array(songFailureSchema).default([]),
  /** Spotify asked the downloader to wait until then (epoch ms); it carries on by itself. */
  waitingUntil: z.number().optional(),
  /** Wall-clock time of the last finished song (epoch ms), for resuming after a crash. */
  lastSongAt: z.number().optional(),
  /** This attempt continues an earlier one: files already there are songs done before. */
  resumed: z.boolean().default(false),
});
/** Progress of a job. */
export type JobProgress = z.infer<typeof jobProgressSchema>;

/** One file a job produced, relative to the job's output directory. */
export const jobFileSchema = z.object({
  name: z.string(),
  size: z.number().int().min(0),
  durationSeconds: z.number().min(0).optional(),
  /** "Artist - Title" as the downloader listed it. */
  title: z.string().max(300).optional(),
  /**
   * The song across jobs: its Spotify track id in its format and bitrate (`track_cache.ts`),
   * when known. Telegram's file id of an upload is kept under it.
   */
  songKey: z.string().max(100).optional(),
});
/** A produced file. */
export type JobFile = z.infer<typeof jobFileSchema>;

/** What a finished job produced. */
export const jobResultSchema = z.object({
  /** Playlist/album/track name when the downloader reported it. */
  title: z.string().optional(),
  files: z.array(jobFileSchema),
  totalBytes: z.number().int().min(0),
  /** Sum of audio durations when ffprobe could measure every file. */
  totalDurationSeconds: z.number().min(0).optional(),
  /** Files produced but not listed in `files` (the record must fit in one KV value). */
  unlistedFiles: z.number().int().min(0).default(0),
  /**
   * The public base URL of the worker whose disk holds the files, when that is not the process
   * answering the chat (`--role worker`): every link to them points there.
   */
  servedFrom: z.string().max(500).optional(),
});
/** A job's result. */
export type JobResult = z.infer<typeof jobResultSchema>;

/** The audio a job downloads: spotDL's `--format` and `--bitrate` (the user's settings). */
export const jobAudioSchema = z.object({
  format: z.string().max(10),
  bitrate: z.string().max(10),
});
/** A job's audio settings. */
export type JobAudio = z.infer<typeof jobAudioSchema>;

/**
 * What the same-link dedupe compares: the link, and the audio settings when they were chosen
 * (a link asked for again as flac is another download than as mp3).
 */
export function dedupeTarget(url: string, audio: JobAudio | undefined): string {
  return audio === undefined ? url : `${url}#${audio.format}/${audio.bitrate}`;
}

/** Why a job failed or stopped, kept apart: one text for the user, one for the log. */
export const jobErrorSchema = z.object({
  code: z.enum([
    "downloader_failed",
    "downloader_missing",
    "timeout",
    "rate_limited",
    "spotify_not_found",
    "spotify_forbidden",
    "ffmpeg_missing",
    "youtube_blocked",
    "network",
    /** The downloads' disk filled up during the run (ENOSPC). */
    "disk_full",
    "no_results",
    "interrupted",
    "cancelled",
    "internal",
    /** The list is longer than `jobs.confirm_above_tracks`: stopped before downloading, to confirm. */
    "needs_confirmation",
  ]),
  /** Friendly explanation and what to try, for the chat. */
  userMessage: z.string(),
  /** Technical detail for the log (last stderr lines, exit code). Never shown to users. */
  detail: z.string().optional(),
});
/** A job's error. */
export type JobError = z.infer<typeof jobErrorSchema>;

/** The stored job. Timestamps are milliseconds since the epoch. */
export const jobSchema = z.object({
  /** Short, URL-safe id (10 characters of [a-z0-9]). */
  id: z.string().regex(JOB_ID_PATTERN),
  userId: z.number().int(),
  chatId: z.number().int(),
  /** Canonical Spotify URL (see `src/links/spotify.ts`). */
  url: z.string(),
  kind: z.enum(["track", "album", "playlist", "artist"]),
  state: jobStateSchema,
  createdAt: z.number(),
  updatedAt: z.number(),
  startedAt: z.number().optional(),
  finishedAt: z.number().optional(),
  /** Attempts started so far. */
  attempts: z.number().int().min(0).default(0),
  /** Set by /cancel while running; the worker stops the downloader. */
  cancelRequested: z.boolean().default(false),
  /** The user accepted the list's size: `jobs.confirm_above_tracks` does not stop this job. */
  confirmed: z.boolean().default(false),
  /**
   * For a job stopped with `needs_confirmation`: the id of the job started when the user
   * confirmed it (so pressing the button again returns that job instead of a third one).
   */
  confirmedAs: z.string().regex(JOB_ID_PATTERN).optional(),
  /** Stopped by a long Spotify rate limit: waits in the queue until then (epoch ms). */
  pausedUntil: z.number().optional(),
  /**
   * Files of an earlier attempt last written before this (epoch ms) are complete and kept when the
   * job starts again; later ones may be cut off and are removed.
   */
  filesCompleteBefore: z.number().optional(),
  /**
   * Its place in the queue (epoch ms, `createdAt` when absent): a user's first waiting job gets
   * its submit time, each further one a turn later, so users take turns (see `submit.ts`).
   */
  queueAt: z.number().optional(),
  /** The user's audio settings when it was asked for; the configured defaults when absent. */
  audio: jobAudioSchema.optional(),
  /** The tracks of this list are also sent as audio (the user's setting when it was asked for). */
  asAudio: z.boolean().optional(),
  /** The chat message that shows this job's progress (edited in place). */
  statusMessageId: z.number().int().optional(),
  progress: jobProgressSchema.prefault({}),
  result: jobResultSchema.optional(),
  error: jobErrorSchema.optional(),
});
/** A job. */
export type Job = z.infer<typeof jobSchema>;

/** Best known title of a job's playlist/album/track. */
export function titleOf(job: Job): string | undefined {
  const title = job.result?.title ?? job.progress.title;
  return title && title.trim() !== "" ? title.trim() : undefined;
}

/** Where a job sits in the queue's order (see `queueAt`). */
export function queueOrder(job: Job): number {
  return job.queueAt ?? job.createdAt;
}
