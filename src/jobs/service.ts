/**
 * The job layer as the bot sees it. Handlers depend on this interface only; the composition
 * root (`src/app/create_app.ts`) injects the KV-backed implementation, tests may inject another.
 *
 * @module
 */
import type { SpotifyLink } from "../links/spotify.ts";
import type { Job, JobAudio, JobFile } from "./model.ts";

/** Who is asking: users see their own jobs, admins see all. */
export interface Requester {
  userId: number;
  isAdmin: boolean;
}

/** What a download is asked for with. */
export interface SubmitRequest {
  userId: number;
  chatId: number;
  link: SpotifyLink;
  /** The user's audio settings; absent: the configured defaults. */
  audio?: JobAudio;
  /** Send the list's tracks as audio too. */
  asAudio?: boolean;
}

/** What `submit` returns. */
export interface SubmitResult {
  job: Job;
  /** False when an existing job for the same user and link was returned instead. */
  created: boolean;
  /** 1-based place in the queue while queued; undefined otherwise. */
  position?: number;
}

/** A job with its queue position, for status listings. */
export interface JobView {
  job: Job;
  position?: number;
}

/** Submit, inspect and cancel download jobs. */
export interface JobService {
  /**
   * Creates a job, or returns the user's existing queued/running/recently succeeded job for the
   * same canonical link. Throws `ActiveJobLimitError`, `QueueFullError` or `ShuttingDownError`.
   */
  submit(request: SubmitRequest): Promise<SubmitResult>;
  /** One job; throws `JobNotFoundError` when missing or not visible to the requester. */
  status(requester: Requester, jobId: string): Promise<JobView>;
  /** The requester's most recent jobs, newest first. */
  list(requester: Requester, limit: number): Promise<JobView[]>;
  /**
   * Cancels a queued or running job (a running downloader is stopped and its partial files
   * removed). Throws `JobNotFoundError` or `JobNotCancellableError`.
   */
  cancel(requester: Requester, jobId: string): Promise<Job>;
  /**
   * Goes ahead with a list the worker stopped because it has more songs than
   * `jobs.confirm_above_tracks` (error code `needs_confirmation`): creates a new queued job for
   * the same user, chat and link that is not stopped again (through the same atomic path and
   * limits as `submit`). Idempotent: confirming the same job again returns the job created the
   * first time (`created: false`). Only the job's owner or an admin may confirm. Throws
   * `JobNotFoundError`, `JobNotConfirmableError`, `ActiveJobLimitError`, `QueueFullError` or
   * `ShuttingDownError`.
   */
  confirm(requester: Requester, jobId: string): Promise<SubmitResult>;
  /** Remembers the chat message that shows the job's progress; returns the job as stored. */
  setStatusMessage(jobId: string, messageId: number): Promise<Job>;
}

/**
 * Receives job changes so the chat can be updated. The bot side implements it
 * (`src/chat/updater.ts`); the worker calls it.
 */
export interface JobObserver {
  /** The job's progress or state changed (called often; implementations coalesce). */
  onUpdate(job: Job, position?: number): void;
  /** The job reached a final state; called once per final state. */
  onFinished(job: Job): Promise<void>;
}

/** What the service needs from the worker of this instance (implemented by `JobWorker`). */
export interface LocalJobRunner {
  /** The instance's id, as written in its leases and outbox claims. */
  readonly instanceId: string;
  /** A job was queued: look at the queue now instead of at the next poll. */
  wake(): void;
  /** Stops the job if it runs in this instance; false when it does not. */
  abortLocal(jobId: string): boolean;
  /** A queued job was cancelled (never ran here): remove its files and tell the observer. */
  reportCancelled(job: Job): Promise<void>;
}

/**
 * The record of what finished jobs still owe their chats (the outbox, `src/jobs/outbox.ts`), as
 * the chat side uses it: a delivery begins, records each message once sent, and ends delivered or
 * postponed for a later attempt.
 */
export interface DeliveryLog {
  /**
   * Claims the job's delivery for this instance and returns the messages already sent; null when
   * nothing is owed (delivered already) or another instance is delivering it.
   */
  begin(jobId: string): Promise<ReadonlySet<string> | null>;
  /** Records one message as sent (Telegram confirmed it, or refused it for good). */
  sent(jobId: string, step: string): Promise<void>;
  /** Everything was sent: the entry goes. */
  delivered(jobId: string): Promise<void>;
  /** Delivery stopped (shutdown, Telegram unreachable): any instance may try again soon. */
  postpone(jobId: string): Promise<void>;
}

/**
 * Telegram's ids of files the bot uploaded: a file sent again (the same download asked for
 * again, a delivery resumed) goes by id, with no second upload.
 */
export interface UploadedFiles {
  /**
   * The file id of one of a job's files, when it (or the same song, for any job: its
   * `songKey`) was uploaded before.
   */
  get(jobId: string, file: UploadedFile): Promise<string | undefined>;
  /** Remembers a file id (for the retention of finished jobs). */
  set(jobId: string, file: UploadedFile, fileId: string): Promise<void>;
}

/** What identifies an uploaded file: its song when known, else its name in its job. */
export type UploadedFile = Pick<JobFile, "name" | "songKey">;
