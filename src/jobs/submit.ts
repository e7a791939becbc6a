/**
 * The atomic submit: the dedupe entry, the per-user limit and the new job with its index entries,
 * checked and written in one operation, so concurrent identical submits create exactly one job.
 *
 * Users take turns: a user's first waiting job is queued at its submit time, each further one a
 * turn ({@linkcode TURN_MS}) after the user's previous one, so one user's twenty jobs do not hold
 * back another user's one (it starts after the first of the twenty). The queue's order is the
 * order jobs start in, so the positions users see are exact.
 *
 * Only a user's own submits contend: each checks and moves that user's clock key, never a key
 * shared by everyone (200 users in the same second would otherwise retry each other out). The
 * queue's length limit is therefore a soft one: submits racing at the very limit may pass it by
 * a few.
 *
 * @module
 */
import { z } from "zod";
import { countQueueEntry, queuedCount } from "./queue_count.ts";
import type { Config } from "../config/schema.ts";
import { ActiveJobLimitError, QueueFullError } from "../errors.ts";
import {
  activeKey,
  activePrefix,
  jobByLinkKey,
  jobByUserKey,
  jobKey,
  jobRecentKey,
  queueKey,
  userClockKey,
} from "../kv/keys.ts";
import type { SpotifyLink } from "../links/spotify.ts";
import { newJobId } from "./ids.ts";
import { dedupeTarget, type Job, type JobAudio, jobSchema } from "./model.ts";
import { parseJobIdValue, readJob } from "./store.ts";

/** What a new job is made from. */
export interface NewJobRequest {
  userId: number;
  chatId: number;
  link: Pick<SpotifyLink, "url" | "kind">;
  confirmed: boolean;
  /** The user's audio settings; absent: the configured defaults. */
  audio?: JobAudio;
  /** Send the list's tracks as audio too. */
  asAudio?: boolean;
}

/** How {@linkcode trySubmit} treats an existing job for the link, and what else it writes. */
export interface SubmitOptions {
  /** Whether the user's existing job for the link is returned instead of a new one. */
  reuse: (job: Job, now: number) => boolean;
  /** More changes committed in the same atomic operation. */
  alsoWrite?: (op: Deno.AtomicOperation, newJobId: string, now: number) => void;
}

/** The job a submit returns. */
export interface Submitted {
  job: Job;
  /** False when an existing job was returned. */
  created: boolean;
}

const queueClockSchema = z.object({
  lastCreatedAt: z.number(),
  lastQueueAt: z.number().optional(),
});

/** How far a user's next waiting job is queued behind their previous one: a day (a turn). */
export const TURN_MS = 86_400_000;

/**
 * The last `createdAt` this process handed out: submits of one process (the usual set-up) get
 * increasing ones, so their FIFO order holds within a millisecond too; across processes a tie
 * falls back to the job id.
 */
let lastCreatedHere = 0;

/**
 * One attempt of the atomic submit: returns a reusable existing job for the link, or checks
 * the per-user and queue limits and writes the new job with its index entries (plus
 * `alsoWrite`'s changes) in one operation. Undefined when a concurrent write got in between.
 */
export async function trySubmit(
  kv: Deno.Kv,
  limits: Pick<Config["jobs"], "max_active_per_user" | "max_queue_length" | "user_weights">,
  now: number,
  request: NewJobRequest,
  options: SubmitOptions,
): Promise<Submitted | undefined> {
  const { userId, chatId, link, confirmed, audio } = request;
  const jobs = limits;
  const linkKey = jobByLinkKey(userId, dedupeTarget(link.url, audio));
  const [linkEntry, clockEntry] = await kv.getMany([linkKey, userClockKey(userId)]);
  const existingId = parseJobIdValue(linkEntry.value);
  if (existingId !== undefined) {
    const existing = await readJob(kv, existingId);
    if (existing && options.reuse(existing.job, now)) {
      return { job: existing.job, created: false };
    }
  }
  const active = await countKeys(kv, activePrefix(userId), jobs.max_active_per_user);
  if (active >= jobs.max_active_per_user) throw new ActiveJobLimitError(jobs.max_active_per_user);
  if (await queuedCount(kv) >= jobs.max_queue_length) {
    throw new QueueFullError(jobs.max_queue_length);
  }
  const clock = queueClockSchema.safeParse(clockEntry.value);
  const createdAt = Math.max(
    now,
    clock.success ? clock.data.lastCreatedAt + 1 : 0,
    lastCreatedHere + 1,
  );
  lastCreatedHere = createdAt;
  const previous = clock.success ? clock.data.lastQueueAt : undefined;
  const turn = TURN_MS / (limits.user_weights[String(userId)] ?? 1);
  const queueAt = active > 0 && previous !== undefined
    ? Math.max(createdAt, Math.round(previous + turn))
    : createdAt;
  const job = jobSchema.parse({
    id: newJobId(),
    userId,
    chatId,
    url: link.url,
    kind: link.kind,
    state: "queued",
    confirmed,
    ...(audio === undefined ? {} : { audio }),
    ...(request.asAudio ? { asAudio: true } : {}),
    ...(queueAt === createdAt ? {} : { queueAt }),
    createdAt,
    updatedAt: createdAt,
  });
  const op = kv.atomic()
    .check(linkEntry)
    .check(clockEntry)
    .check({ key: jobKey(job.id), versionstamp: null })
    .set(userClockKey(userId), { lastCreatedAt: createdAt, lastQueueAt: queueAt }, {
      expireIn: 30 * 86_400_000,
    })
    .set(jobKey(job.id), job)
    .check({ key: queueKey(queueAt, job.id), versionstamp: null })
    .set(queueKey(queueAt, job.id), job.id)
    .set(activeKey(userId, job.id), job.id)
    .set(jobByUserKey(userId, createdAt, job.id), job.id)
    .set(jobRecentKey(createdAt, job.id), job.id)
    .set(linkKey, job.id);
  countQueueEntry(op, queueAt, 1);
  options.alsoWrite?.(op, job.id, now);
  const res = await op.commit();
  if (!res.ok) return undefined;
  return { job, created: true };
}

/** Counts keys under a prefix, stopping at `limit`. */
export async function countKeys(kv: Deno.Kv, prefix: Deno.KvKey, limit?: number): Promise<number> {
  let n = 0;
  for await (const _ of kv.list({ prefix }, { limit })) n++;
  return n;
}
