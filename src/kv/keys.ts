/**
 * Every Deno KV key the bot uses, built in this one module so the schema is visible in one place.
 * All keys start with {@linkcode PREFIX}, so one KV store (a local file or a shared denokv server)
 * can hold other data too.
 *
 * | key | value |
 * | --- | --- |
 * | `["dlbot", "bucket", <bucket>, <userId>]` | token bucket state (`src/ratelimit/token_bucket.ts`); buckets `commands`, `downloads`, `refusals` |
 * | `["dlbot", "meta", "signing_secret"]` | generated HMAC secret for download links |
 * | `["dlbot", "job", <jobId>]` | the job record (`src/jobs/model.ts`); expires `retention_days` after it finished |
 * | `["dlbot", "job_by_link", <userId>, <url>]` | job id: the user's latest job for a canonical link (dedupe) |
 * | `["dlbot", "job_by_user", <userId>, <createdAt>, <jobId>]` | job id: one user's jobs in creation order |
 * | `["dlbot", "job_recent", <createdAt>, <jobId>]` | job id: everybody's jobs in creation order (admins) |
 * | `["dlbot", "queue", <queueAt>, <jobId>]` | job id: queued jobs in the order they start (users take turns, `src/jobs/submit.ts`) |
 * | `["dlbot", "outgoing", "bot" \| "chat", <chatId>?]` | epoch ms: the next outgoing call's earliest time, shared by every process (`src/ratelimit/outgoing_budget.ts`) |
 * | `["dlbot", "queue_count", <node>]` | KvU64: the queue's counting tree (positions and depth without a scan, `src/jobs/queue_count.ts`) |
 * | `["dlbot", "active", <userId>, <jobId>]` | job id: one user's queued or running jobs |
 * | `["dlbot", "running", <jobId>]` | job id: jobs in state running (checked by recovery) |
 * | `["dlbot", "lease", <jobId>]` | `{ jobId, owner, expiresAt }`: a worker's expiring claim on a running job |
 * | `["dlbot", "user_clock", <userId>]` | `{ lastCreatedAt }`: one user's submits, checked and moved by each, so the user's active-job limit holds (no key every submit must move) |
 * | `["dlbot", "meta", "lease_clock"]` | claim counter: serialises claims so `max_concurrent` holds |
 * | `["dlbot", "meta", "instance"]` | `{ owner, pid, host, expiresAt }`: the process using a local data dir, kept (expired) after it stopped (`src/app/instance_lock.ts`) |
 * | `["dlbot", "admin_alert", <kind>]` | `{ at }`: an admin alert of this kind went out (expires after an hour) |
 * | `["dlbot", "meta", "spotify_cooldown"]` | `{ until }`: Spotify asked for a long pause; no job starts before `until` |
 * | `["dlbot", "settings", <userId>]` | `{ format?, bitrate? }`: what the user chose in /settings (`src/jobs/user_settings.ts`) |
 * | `["dlbot", "list_cache", <link#format/bitrate>]` | job id: the latest succeeded download of a link in those settings, by anyone; a new job of the link starts with its songs (`src/jobs/run.ts`) |
 * | `["dlbot", "uploaded", <jobId>, <fileName>]` | `{ fileId }`: Telegram's id of a file once uploaded, to send it again without uploading; expires with the job |
 * | `["dlbot", "outbox", <jobId>]` | what a finished job still owes its chat and who is sending it (`src/jobs/outbox.ts`); written with the final state |
 *
 * Keys ordered by `createdAt` (milliseconds) are FIFO order; the job id after it breaks ties.
 *
 * @module
 */

/** The prefix of every key. */
export const PREFIX = "dlbot";

/** Token bucket of one user; `bucket` is "commands", "downloads" or "refusals" (outsiders). */
export function bucketKey(bucket: string, userId: number): Deno.KvKey {
  return [PREFIX, "bucket", bucket, userId];
}

/** The generated signing secret for download links, when none is configured. */
export function signingSecretKey(): Deno.KvKey {
  return [PREFIX, "meta", "signing_secret"];
}

/** One job record. */
export function jobKey(jobId: string): Deno.KvKey {
  return [PREFIX, "job", jobId];
}

/** The user's latest job for a canonical link, for idempotent submits. */
export function jobByLinkKey(userId: number, url: string): Deno.KvKey {
  return [PREFIX, "job_by_link", userId, url];
}

/** One entry of a user's job history. */
export function jobByUserKey(userId: number, createdAt: number, jobId: string): Deno.KvKey {
  return [PREFIX, "job_by_user", userId, createdAt, jobId];
}

/** Prefix of one user's job history (list in reverse for newest first). */
export function jobByUserPrefix(userId: number): Deno.KvKey {
  return [PREFIX, "job_by_user", userId];
}

/** One entry of the all-users job history. */
export function jobRecentKey(createdAt: number, jobId: string): Deno.KvKey {
  return [PREFIX, "job_recent", createdAt, jobId];
}

/** Prefix of the all-users job history (list in reverse for newest first). */
export function jobRecentPrefix(): Deno.KvKey {
  return [PREFIX, "job_recent"];
}

/** A queued job's place in the queue. */
export function queueKey(queueAt: number, jobId: string): Deno.KvKey {
  return [PREFIX, "queue", queueAt, jobId];
}

/**
 * One node of the queue's counting tree (`src/jobs/queue_count.ts`): how many queue entries fall
 * in a range of `queueAt` values (a `Deno.KvU64`).
 */
export function queueCountKey(node: number): Deno.KvKey {
  return [PREFIX, "queue_count", node];
}

/** Prefix of the queue's counting tree. */
export function queueCountPrefix(): Deno.KvKey {
  return [PREFIX, "queue_count"];
}

/** Set once the queue's counting tree counts every queue entry (built from the queue once). */
export function queueCountBuiltKey(): Deno.KvKey {
  return [PREFIX, "meta", "queue_count_built"];
}

/** When the next outgoing Bot API call of any process may leave (epoch ms; shared budget). */
export function outgoingBotKey(): Deno.KvKey {
  return [PREFIX, "outgoing", "bot"];
}

/** When the next outgoing call to one chat may leave, from any process (epoch ms). */
export function outgoingChatKey(chatId: string): Deno.KvKey {
  return [PREFIX, "outgoing", "chat", chatId];
}

/** Prefix of the queue; listing it yields the order jobs start in. */
export function queuePrefix(): Deno.KvKey {
  return [PREFIX, "queue"];
}

/** Marks a job as one of the user's queued or running jobs. */
export function activeKey(userId: number, jobId: string): Deno.KvKey {
  return [PREFIX, "active", userId, jobId];
}

/** Prefix of one user's queued or running jobs. */
export function activePrefix(userId: number): Deno.KvKey {
  return [PREFIX, "active", userId];
}

/** Marks a job as running. */
export function runningKey(jobId: string): Deno.KvKey {
  return [PREFIX, "running", jobId];
}

/** Prefix of all running jobs. */
export function runningPrefix(): Deno.KvKey {
  return [PREFIX, "running"];
}

/** A worker's lease on a running job. */
export function leaseKey(jobId: string): Deno.KvKey {
  return [PREFIX, "lease", jobId];
}

/** Prefix of all leases. */
export function leasePrefix(): Deno.KvKey {
  return [PREFIX, "lease"];
}

/** One user's last submit; that user's submits check and move it (other users' do not). */
export function userClockKey(userId: number): Deno.KvKey {
  return [PREFIX, "user_clock", userId];
}

/** Claim counter; every claim checks and moves it, so lease counting and claiming are atomic. */
export function leaseClockKey(): Deno.KvKey {
  return [PREFIX, "meta", "lease_clock"];
}

/** Spotify's long rate-limit pause, shared by every instance: no job is claimed before it ends. */
export function spotifyCooldownKey(): Deno.KvKey {
  return [PREFIX, "meta", "spotify_cooldown"];
}

/** The lock of the one process using a local data directory. */
export function instanceLockKey(): Deno.KvKey {
  return [PREFIX, "meta", "instance"];
}

/** The last admin alert of a kind (its expiry is the quiet time). */
export function adminAlertKey(kind: string): Deno.KvKey {
  return [PREFIX, "admin_alert", kind];
}

/** What a finished job still owes its chat (the outbox), written with its final state. */
export function outboxKey(jobId: string): Deno.KvKey {
  return [PREFIX, "outbox", jobId];
}

/** Prefix of the outbox. */
export function outboxPrefix(): Deno.KvKey {
  return [PREFIX, "outbox"];
}

/** One user's /settings choices. */
export function userSettingsKey(userId: number): Deno.KvKey {
  return [PREFIX, "settings", userId];
}

/** Telegram's file id of a song (`JobFile.songKey`) after its first upload, for any job. */
export function uploadedSongKey(songKey: string): Deno.KvKey {
  return [PREFIX, "uploaded_song", songKey];
}

/** Telegram's file id of one of a job's files after its first upload. */
export function uploadedFileKey(jobId: string, fileName: string): Deno.KvKey {
  return [PREFIX, "uploaded", jobId, fileName];
}

/** The latest succeeded job of a link (in given audio settings), whoever asked for it. */
export function listCacheKey(target: string): Deno.KvKey {
  return [PREFIX, "list_cache", target];
}

/**
 * The latest file of one Spotify track in one format and bitrate, whichever job and list it came
 * with (`jobs/track_cache.ts`).
 */
export function trackCacheKey(audio: string, trackId: string): Deno.KvKey {
  return [PREFIX, "track_cache", audio, trackId];
}
