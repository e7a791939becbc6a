/**
 * Reading and writing job records and their index keys in Deno KV. Every stored value is parsed
 * on read; a value that does not parse is treated as missing, never trusted.
 *
 * @module
 */
import { z } from "zod";
import { countQueueEntry } from "./queue_count.ts";
import {
  activeKey,
  jobByLinkKey,
  jobByUserKey,
  jobKey,
  jobRecentKey,
  leaseKey,
  listCacheKey,
  outboxKey,
  queueKey,
  runningKey,
} from "../kv/keys.ts";
import type { Config } from "../config/schema.ts";
import { retryCas } from "../kv/cas.ts";
import { isJobId } from "./ids.ts";
import { dedupeTarget, isFinal, type Job, jobSchema, queueOrder } from "./model.ts";
import { newOutboxEntry } from "./outbox_entry.ts";

/** A job as read, with the versionstamp to check when writing it back. */
export interface JobEntry {
  key: Deno.KvKey;
  job: Job;
  versionstamp: string;
}

/** A worker's claim on a running job. */
export const leaseSchema = z.object({
  jobId: z.string(),
  /** The instance id of the worker that holds it. */
  owner: z.string(),
  /** Milliseconds since the epoch; the lease is dead after this even if KV still returns it. */
  expiresAt: z.number(),
});
/** A lease. */
export type Lease = z.infer<typeof leaseSchema>;

/** The retention and dedupe windows in milliseconds, from the configuration. */
export interface JobTimings {
  retentionMs: number;
  dedupeMs: number;
  leaseMs: number;
}

/** Derives {@linkcode JobTimings} from `config.jobs`. */
export function jobTimings(config: Config): JobTimings {
  return {
    retentionMs: config.jobs.retention_days * 86_400_000,
    dedupeMs: config.jobs.dedupe_hours * 3_600_000,
    leaseMs: config.jobs.lease_seconds * 1000,
  };
}

/** Parses a stored index value (a job id); undefined when it is not one. */
export function parseJobIdValue(value: unknown): string | undefined {
  return typeof value === "string" && isJobId(value) ? value : undefined;
}

/** Reads and parses one job; null when missing or unreadable. */
export async function readJob(kv: Deno.Kv, jobId: string): Promise<JobEntry | null> {
  const entry = await kv.get(jobKey(jobId));
  return toJobEntry(entry);
}

/** Parses a fetched job entry; null when missing or unreadable. */
export function toJobEntry(entry: Deno.KvEntryMaybe<unknown>): JobEntry | null {
  if (entry.versionstamp === null) return null;
  const parsed = jobSchema.safeParse(entry.value);
  if (!parsed.success) return null;
  return { key: entry.key, job: parsed.data, versionstamp: entry.versionstamp };
}

/** Reads several jobs (in batches of 10, KV's `getMany` limit), keeping the order; missing → null. */
export async function readJobs(kv: Deno.Kv, jobIds: string[]): Promise<(JobEntry | null)[]> {
  const out: (JobEntry | null)[] = [];
  for (let i = 0; i < jobIds.length; i += 10) {
    const batch = jobIds.slice(i, i + 10);
    const entries = await kv.getMany(batch.map(jobKey));
    for (const entry of entries) out.push(toJobEntry(entry));
  }
  return out;
}

/** Parses a stored lease; undefined when missing or unreadable. */
export function parseLease(entry: Deno.KvEntryMaybe<unknown>): Lease | undefined {
  if (entry.versionstamp === null) return undefined;
  const parsed = leaseSchema.safeParse(entry.value);
  return parsed.success ? parsed.data : undefined;
}

/** Whether a lease is held: present and not past its expiry (KV expiry itself is lazy). */
export function isLeaseLive(lease: Lease | undefined, now: number): lease is Lease {
  return lease !== undefined && lease.expiresAt > now;
}

/** Whether a finished job is past retention (KV may still return it: expiry is lazy). */
export function isExpired(job: Job, now: number, retentionMs: number): boolean {
  return isFinal(job.state) && (job.finishedAt ?? job.updatedAt) + retentionMs <= now;
}

/** Write options for a job record: finished jobs expire `retentionMs` after they finished. */
export function jobWriteOptions(
  job: Job,
  now: number,
  retentionMs: number,
): { expireIn?: number } {
  if (!isFinal(job.state)) return {};
  const finishedAt = job.finishedAt ?? now;
  return { expireIn: Math.max(1, finishedAt + retentionMs - now) };
}

/**
 * Changes one job with check-and-set. `change` gets the current job and returns the new one, or
 * null to leave it alone. Returns the stored job (changed or not); null when the job is missing.
 * Keeps a finished job's expiry.
 */
export function updateJob(
  kv: Deno.Kv,
  jobId: string,
  change: (job: Job) => Job | null,
  now: number,
  retentionMs: number,
): Promise<Job | null> {
  return retryCas(`update of job ${jobId}`, async () => {
    const entry = await readJob(kv, jobId);
    if (!entry) return null;
    const next = change(entry.job);
    if (next === null) return entry.job;
    const res = await kv.atomic()
      .check(entry)
      .set(jobKey(jobId), next, jobWriteOptions(next, now, retentionMs))
      .commit();
    return res.ok ? next : undefined;
  });
}

/** What {@linkcode commitFinal} writes. */
export interface FinalWrite {
  /** The job as read (its versionstamp is checked). */
  entry: JobEntry;
  /** The job in its final state, with `finishedAt` set. */
  final: Job;
  /**
   * Versionstamp the job's lease must still have (null: no lease may exist); undefined: the lease
   * is not checked. It is deleted either way.
   */
  leaseVersionstamp?: string | null;
  /** The instance that tells the chat (it holds the outbox entry's first claim). */
  deliverer: string;
  now: number;
  timings: JobTimings;
}

/**
 * Stores a job's final state and updates every index in one atomic operation: the record and its
 * history entries get the retention expiry; queue, running, lease and active entries go; the
 * dedupe entry stays (for the dedupe window) only for a succeeded job; the outbox entry for what
 * the chat is still owed is written too. Returns false on conflict.
 */
export async function commitFinal(kv: Deno.Kv, write: FinalWrite): Promise<boolean> {
  const { entry, final, now, timings } = write;
  const job = entry.job;
  const linkKey = jobByLinkKey(job.userId, dedupeTarget(job.url, job.audio));
  const link = await kv.get(linkKey);
  const queued = await kv.get(queueKey(queueOrder(job), job.id));
  const retention = jobWriteOptions(final, now, timings.retentionMs);
  const op = kv.atomic()
    .check(entry)
    .check(link)
    .check(queued)
    .set(jobKey(job.id), final, retention)
    .set(jobByUserKey(job.userId, job.createdAt, job.id), job.id, retention)
    .set(jobRecentKey(job.createdAt, job.id), job.id, retention)
    .delete(runningKey(job.id))
    .delete(leaseKey(job.id))
    .delete(activeKey(job.userId, job.id));
  const outbox = newOutboxEntry(final, {
    owner: write.deliverer,
    expiresAt: now + timings.leaseMs,
  });
  op.set(outboxKey(job.id), outbox.value, { expireIn: outbox.expireIn });
  if (queued.versionstamp !== null) {
    countQueueEntry(op.delete(queued.key), queueOrder(job), -1);
  }
  if (final.state === "succeeded") {
    op.set(listCacheKey(dedupeTarget(job.url, job.audio)), job.id, retention);
  }
  if (write.leaseVersionstamp !== undefined) {
    op.check({ key: leaseKey(job.id), versionstamp: write.leaseVersionstamp });
  }
  if (parseJobIdValue(link.value) === job.id) {
    const finishedAt = final.finishedAt ?? now;
    const dedupeLeft = Math.min(timings.dedupeMs, timings.retentionMs) - (now - finishedAt);
    if (final.state === "succeeded" && dedupeLeft > 0) {
      op.set(linkKey, job.id, { expireIn: dedupeLeft });
    } else {
      op.delete(linkKey);
    }
  }
  const res = await op.commit();
  return res.ok;
}
