/**
 * The queue and claiming, on plain KV keys with check-and-set (no `kv.enqueue`), so several
 * bot instances can share one store.
 *
 * - Queue entries are `["dlbot", "queue", queueAt, jobId]`; `queueAt` takes turns between users
 *   (`submit.ts`), so listing the prefix is the order jobs start in. A re-queued job keeps its key
 *   and so its place.
 * - A claim moves the head job to running and writes an expiring lease, but only while fewer than
 *   `max_concurrent` live leases exist. Counting and claiming are made atomic by checking and moving
 *   the claim counter (`["dlbot", "meta", "lease_clock"]`) in the same operation.
 *
 * @module
 */
import { z } from "zod";
import {
  jobKey,
  leaseClockKey,
  leaseKey,
  leasePrefix,
  queueKey,
  queuePrefix,
  runningKey,
  spotifyCooldownKey,
} from "../kv/keys.ts";
import { type Job, queueOrder } from "./model.ts";
import { initialProgress } from "./progress.ts";
import { type JobEntry, type Lease, parseJobIdValue, parseLease, readJob } from "./store.ts";
import { retryCas } from "../kv/cas.ts";
import { countQueueEntry, queuedBefore, queuedCount } from "./queue_count.ts";

/** One queue entry. */
export interface QueueEntry {
  jobId: string;
  /** Its place in the order (the key's `queueAt`). */
  queueAt: number;
  key: Deno.KvKey;
  versionstamp: string;
}

/**
 * Lists the queue in the order jobs start, from its head or from just after `after` (a queue
 * entry's key); `limit` entries at most.
 */
export async function listQueue(
  kv: Deno.Kv,
  limit?: number,
  after?: Deno.KvKey,
): Promise<QueueEntry[]> {
  const out: QueueEntry[] = [];
  const selector = after === undefined
    ? { prefix: queuePrefix() }
    : { prefix: queuePrefix(), start: [...after, ""] };
  for await (const entry of kv.list(selector, { limit })) {
    const jobId = parseJobIdValue(entry.value);
    const queueAt = entry.key[2];
    if (jobId === undefined || typeof queueAt !== "number") continue;
    out.push({ jobId, queueAt, key: entry.key, versionstamp: entry.versionstamp });
  }
  return out;
}

/** Number of queued jobs (from the counting tree: no scan). */
export function queueDepth(kv: Deno.Kv): Promise<number> {
  return queuedCount(kv);
}

/**
 * 1-based queue position of a job at `queueAt` (its `queueOrder`); undefined when it is not
 * queued. The counting tree gives the jobs before its `queueAt`; jobs sharing it are listed.
 */
export async function queuePosition(
  kv: Deno.Kv,
  jobId: string,
  queueAt: number,
): Promise<number | undefined> {
  let same = 0;
  let found = false;
  for await (const entry of kv.list({ prefix: [...queuePrefix(), queueAt] })) {
    if (entry.key[3] === jobId) {
      found = true;
      break;
    }
    same++;
  }
  if (!found) return undefined;
  return await queuedBefore(kv, queueAt) + same + 1;
}

/** Queued jobs at the head of the queue whose new position is shown after every start. */
const ANNOUNCE_HEAD = 20;
/** Queued jobs further back whose position is shown after a start, taking turns. */
const ANNOUNCE_WINDOW = 20;

/**
 * The queued jobs to show their new position after a start, and where the next window starts:
 * the first {@linkcode ANNOUNCE_HEAD}, and the {@linkcode ANNOUNCE_WINDOW} after `after` (a queue
 * key from the previous call; from just after the head when absent or past the end). A start
 * costs the same at any queue length, and a position far back is brought up to date every so
 * often: in between it can only be too high, never too low.
 */
export async function positionsToAnnounce(
  kv: Deno.Kv,
  after: Deno.KvKey | undefined,
): Promise<{ positions: Map<string, number>; next?: Deno.KvKey }> {
  const head = await listQueue(kv, ANNOUNCE_HEAD);
  const positions = new Map(head.map((entry, i) => [entry.jobId, i + 1]));
  const last = head.at(-1);
  if (head.length < ANNOUNCE_HEAD || last === undefined) return { positions };
  let window = await listQueue(kv, ANNOUNCE_WINDOW, after ?? last.key);
  if (window.length === 0 && after !== undefined) {
    window = await listQueue(kv, ANNOUNCE_WINDOW, last.key);
  }
  const [first] = window;
  const base = first && await queuePosition(kv, first.jobId, first.queueAt);
  if (base !== undefined) {
    window.forEach((entry, i) => {
      if (!positions.has(entry.jobId)) positions.set(entry.jobId, base + i);
    });
  }
  const next = window.length === ANNOUNCE_WINDOW ? window.at(-1)?.key : undefined;
  return next === undefined ? { positions } : { positions, next };
}

/** Live leases (present and not expired by the clock). */
export async function liveLeases(kv: Deno.Kv, now: number): Promise<Lease[]> {
  const out: Lease[] = [];
  for await (const entry of kv.list({ prefix: leasePrefix() })) {
    const lease = parseLease(entry);
    if (lease !== undefined && lease.expiresAt > now) out.push(lease);
  }
  return out;
}

/** What a claim needs to know. */
export interface ClaimOptions {
  /** Instance id of the claiming worker. */
  owner: string;
  now: number;
  leaseMs: number;
  /** Live leases allowed at once across all instances. */
  maxConcurrent: number;
}

/** A claimed job and the versionstamp of its lease (checked when renewing and finishing). */
export interface Claim {
  job: Job;
  leaseVersionstamp: string;
}

const claimCounterSchema = z.number().int().min(0);

/**
 * Claims the oldest queued job: it becomes running with one more attempt, and this worker holds
 * its lease. Returns null when the queue is empty or `maxConcurrent` jobs are running.
 */
export function claimNext(kv: Deno.Kv, options: ClaimOptions): Promise<Claim | null> {
  const { owner, now, leaseMs, maxConcurrent } = options;
  return retryCas("claim", async () => {
    const [head] = await listQueue(kv, 1);
    if (head === undefined) return null;
    if (await spotifyPausedUntil(kv, now) !== undefined) return null;
    const counter = await kv.get(leaseClockKey());
    if ((await liveLeases(kv, now)).length >= maxConcurrent) return null;
    const entry = await readJob(kv, head.jobId);
    if (entry === null || entry.job.state !== "queued") {
      // The queue entry outlived its job (expired or unreadable record): drop it.
      await countQueueEntry(kv.atomic().check(head).delete(head.key), head.queueAt, -1).commit();
      return undefined;
    }
    const claimed = startedJob(entry, now);
    const lease: Lease = { jobId: head.jobId, owner, expiresAt: now + leaseMs };
    const parsedCounter = claimCounterSchema.safeParse(counter.value);
    const op = kv.atomic()
      .check(head)
      .check(counter)
      .check(entry)
      .set(leaseClockKey(), parsedCounter.success ? parsedCounter.data + 1 : 1)
      .set(jobKey(head.jobId), claimed)
      .delete(head.key)
      .set(runningKey(head.jobId), head.jobId)
      .set(leaseKey(head.jobId), lease, { expireIn: leaseMs });
    const res = await countQueueEntry(op, head.queueAt, -1).commit();
    return res.ok ? { job: claimed, leaseVersionstamp: res.versionstamp } : undefined;
  });
}

function startedJob(entry: JobEntry, now: number): Job {
  return {
    ...entry.job,
    state: "running",
    attempts: entry.job.attempts + 1,
    startedAt: now,
    updatedAt: now,
    pausedUntil: undefined,
    progress: initialProgress(),
    result: undefined,
    error: undefined,
  };
}

const cooldownSchema = z.object({ until: z.number() });

/** When Spotify's long pause ends, if one is on (shared by every instance); else undefined. */
export async function spotifyPausedUntil(kv: Deno.Kv, now: number): Promise<number | undefined> {
  const entry = await kv.get(spotifyCooldownKey());
  const parsed = cooldownSchema.safeParse(entry.value);
  return parsed.success && parsed.data.until > now ? parsed.data.until : undefined;
}

/** Starts (or extends) Spotify's shared pause until `until`. */
export async function pauseForSpotify(kv: Deno.Kv, until: number, now: number): Promise<void> {
  await retryCas("spotify pause", async () => {
    const entry = await kv.get(spotifyCooldownKey());
    const current = cooldownSchema.safeParse(entry.value);
    if (current.success && current.data.until >= until) return true;
    const res = await kv.atomic().check(entry)
      .set(spotifyCooldownKey(), { until }, { expireIn: Math.max(1, until - now) })
      .commit();
    return res.ok ? true : undefined;
  });
}

/** How a job goes back to the queue. */
export interface RequeueOptions {
  /** Spotify's pause: the job says it waits until then. */
  pausedUntil?: number;
  /** Files of this attempt last written before this are complete (kept for the next attempt). */
  filesCompleteBefore?: number;
}

/**
 * Puts a running job back in the queue at its original place (the front, since it is older than
 * anything queued after it), keeping its attempt count, and removes its lease.
 * `leaseVersionstamp`: the lease the caller expects (null: none); checked so only one party wins.
 * Returns the queued job, or undefined on conflict.
 */
export async function requeue(
  kv: Deno.Kv,
  entry: JobEntry,
  leaseVersionstamp: string | null,
  now: number,
  options: RequeueOptions = {},
): Promise<Job | undefined> {
  const job: Job = {
    ...entry.job,
    state: "queued",
    startedAt: undefined,
    updatedAt: now,
    pausedUntil: options.pausedUntil,
    filesCompleteBefore: options.filesCompleteBefore ?? entry.job.filesCompleteBefore,
    progress: initialProgress(),
  };
  const queueAt = queueOrder(job);
  const op = kv.atomic()
    .check(entry)
    .check({ key: leaseKey(job.id), versionstamp: leaseVersionstamp })
    .check({ key: queueKey(queueAt, job.id), versionstamp: null })
    .set(jobKey(job.id), job)
    .set(queueKey(queueAt, job.id), job.id)
    .delete(runningKey(job.id))
    .delete(leaseKey(job.id));
  const res = await countQueueEntry(op, queueAt, 1).commit();
  return res.ok ? job : undefined;
}
