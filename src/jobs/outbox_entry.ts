/**
 * One outbox entry (see `outbox.ts`): its schema and the entry a job gets with its final state.
 *
 * @module
 */
import { z } from "zod";
import type { Job } from "./model.ts";

/** An outbox entry; `sent` names the messages already delivered (e.g. "status", "summary"). */
export const outboxSchema = z.object({
  jobId: z.string(),
  chatId: z.number(),
  owner: z.string(),
  expiresAt: z.number(),
  sent: z.array(z.string().max(40)).max(500).default([]),
});
/** An outbox entry. */
export type OutboxEntry = z.infer<typeof outboxSchema>;

/** How long an undelivered entry is kept at most (a chat that never comes back). */
export const OUTBOX_TTL_MS = 86_400_000;

/** The new outbox entry of a job that just reached its final state. */
export function newOutboxEntry(
  job: Job,
  claim: { owner: string; expiresAt: number },
): { value: OutboxEntry; expireIn: number } {
  return {
    value: { jobId: job.id, chatId: job.chatId, ...claim, sent: [] },
    expireIn: OUTBOX_TTL_MS,
  };
}

/** Parses a stored entry; undefined when missing or unreadable. */
export function parseOutboxEntry(entry: Deno.KvEntryMaybe<unknown>): OutboxEntry | undefined {
  if (entry.versionstamp === null) return undefined;
  const parsed = outboxSchema.safeParse(entry.value);
  return parsed.success ? parsed.data : undefined;
}
