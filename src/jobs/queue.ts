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

/** One queue entry. */
export interface QueueEntry {
  jobId: string;
  key: Deno.KvKey;
  versionstamp: string;
}

/** Lists the queue, oldest first; `limit` entries at most. */
export async function listQueue(kv: Deno.Kv, limit?: number): Promise<QueueEntry[]> {
  const out: QueueEntry[] = [];
  for await (const entry of kv.list({ prefix: queuePrefix() }, { limit })) {
    const jobId = parseJobIdValue(entry.value);
    if (jobId === undefined) continue;
    out.push({ jobId, key: entry.key, versionstamp: entry.versionstamp });
  }
  return out;
}

/** Number of queued jobs, counting at most `limit`. */
export async function queueDepth(kv: Deno.Kv, limit?: number): Promise<number> {
  let n = 0;
  for await (const _ of kv.list({ prefix: queuePrefix() }, { limit })) n++;
  return n;
}

/** 1-based queue positions of every queued job. */
export async function queuePositions(kv: Deno.Kv): Promise<Map<string, number>> {
  const positions = new Map<string, number>();
  let n = 0;
  for await (const entry of kv.list({ prefix: queuePrefix() })) {
    n++;
    const jobId = parseJobIdValue(entry.value);
    if (jobId !== undefined) positions.set(jobId, n);
  }
  return positions;
}

/** 1-based queue position of one job; undefined when it is not queued. */
export async function queuePosition(kv: Deno.Kv, jobId: string): Promise<number | undefined> {
  let n = 0;
  for await (const entry of kv.list({ prefix: queuePrefix() })) {
    n++;
    if (entry.value === jobId) return n;
  }
  return undefined;
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
      await kv.atomic().check(head).delete(head.key).commit();
      return undefined;
    }
    const claimed = startedJob(entry, now);
    const lease: Lease = { jobId: head.jobId, owner, expiresAt: now + leaseMs };
    const parsedCounter = claimCounterSchema.safeParse(counter.value);
    const res = await kv.atomic()
      .check(head)
      .check(counter)
      .check(entry)
      .set(leaseClockKey(), parsedCounter.success ? parsedCounter.data + 1 : 1)
      .set(jobKey(head.jobId), claimed)
      .delete(head.key)
      .set(runningKey(head.jobId), head.jobId)
      .set(leaseKey(head.jobId), lease, { expireIn: leaseMs })
      .commit();
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
  const res = await kv.atomic()
    .check(entry)
    .check({ key: leaseKey(job.id), versionstamp: leaseVersionstamp })
    .set(jobKey(job.id), job)
    .set(queueKey(queueOrder(job), job.id), job.id)
    .delete(runningKey(job.id))
    .delete(leaseKey(job.id))
    .commit();
  return res.ok ? job : undefined;
}
