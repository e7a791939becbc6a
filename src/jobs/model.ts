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

/** Live progress, derived from downloader events. */
export const jobProgressSchema = z.object({
  /** Songs announced by the downloader (`Found N songs`), when known. */
  total: z.number().int().min(0).optional(),
  /** Playlist/album/track name from `Found N songs in <name>`, when known (shown while running). */
  title: z.string().optional(),
  done: z.number().int().min(0).default(0),
  skipped: z.number().int().min(0).default(0),
  failed: z.number().int().min(0).default(0),
  /** 0-100. */
  percent: z.number().min(0).max(100).default(0),
  /** Song being worked on and what is happening to it ("Downloading", "Converting", …). */
  current: z.string().optional(),
  currentStatus: z.string().optional(),
  /** Names of songs that failed, for the summary. */
  failedTracks: z.array(z.string()).default([]),
});
/** Progress of a job. */
export type JobProgress = z.infer<typeof jobProgressSchema>;

/** One file a job produced, relative to the job's output directory. */
export const jobFileSchema = z.object({
  name: z.string(),
  size: z.number().int().min(0),
  durationSeconds: z.number().min(0).optional(),
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
});
/** A job's result. */
export type JobResult = z.infer<typeof jobResultSchema>;

/** Why a job failed or stopped, kept apart: one text for the user, one for the log. */
export const jobErrorSchema = z.object({
  code: z.enum([
    "downloader_failed",
    "downloader_missing",
    "timeout",
    "rate_limited",
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
  /** The chat message that shows this job's progress (edited in place). */
  statusMessageId: z.number().int().optional(),
  progress: jobProgressSchema.prefault({}),
  result: jobResultSchema.optional(),
  error: jobErrorSchema.optional(),
});
/** A job. */
export type Job = z.infer<typeof jobSchema>;
