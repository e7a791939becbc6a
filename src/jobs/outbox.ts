/**
 * The outbox: what a finished job still owes its chat. The entry is written in the same atomic
 * operation as the job's final state (see `commitFinal`), so a crash right after a job ends
 * cannot lose its messages; each message is recorded as sent once Telegram confirmed it, so a
 * restart in the middle of delivery sends only what is left. The entry goes when everything was
 * sent (or refused for good by Telegram).
 *
 * An entry is claimed by the instance that delivers it, with an expiring claim it renews while it
 * works; a claim that expired, was released (shutdown, Telegram unreachable) or belongs to an
 * instance known to be dead is taken over by the next recovery pass of any instance.
 *
 * A message whose send was cut off with no answer is sent again on the next attempt: a lost
 * message is worse than one the user gets twice, and Telegram has no way to ask which it was.
 *
 * @module
 */
import { retryCas } from "../kv/cas.ts";
import { outboxKey, outboxPrefix } from "../kv/keys.ts";
import type { Log } from "../log/logger.ts";
import { errorText } from "../runtime/error_text.ts";
import type { Job } from "./model.ts";
import type { DeliveryLog } from "./service.ts";
import { OUTBOX_TTL_MS, type OutboxEntry, parseOutboxEntry } from "./outbox_entry.ts";
import { readJob } from "./store.ts";

/** What {@linkcode KvOutbox} needs. */
export interface KvOutboxDeps {
  kv: Deno.Kv;
  /** This instance's id (the owner of its claims). */
  owner: string;
  /** How long a claim lasts without renewal (the job lease's length). */
  claimMs: number;
  now: () => number;
  logger: Log;
  /** Owners known to be gone (an earlier run of this bot on the same data directory). */
  deadOwners?: readonly string[];
}

/** The outbox in KV, as one instance uses it. */
export class KvOutbox implements DeliveryLog {
  readonly #deps: KvOutboxDeps;
  /** Jobs this instance is delivering now; their claims are renewed. */
  readonly #active = new Set<string>();
  #timer?: ReturnType<typeof setInterval>;

  constructor(deps: KvOutboxDeps) {
    this.#deps = deps;
  }

  /** Owners known to be gone. */
  get deadOwners(): readonly string[] {
    return this.#deps.deadOwners ?? [];
  }

  async begin(jobId: string): Promise<ReadonlySet<string> | null> {
    const entry = parseOutboxEntry(await this.#deps.kv.get(outboxKey(jobId)));
    if (entry === undefined) return null;
    if (entry.owner !== this.#deps.owner) {
      const claimed = await this.#claim(jobId, entry);
      if (claimed === undefined) return null;
      return this.#track(jobId, claimed);
    }
    return this.#track(jobId, entry);
  }

  async sent(jobId: string, step: string): Promise<void> {
    await this.#change(jobId, (entry) => ({
      ...entry,
      sent: entry.sent.includes(step) ? entry.sent : [...entry.sent, step],
      expiresAt: this.#deps.now() + this.#deps.claimMs,
    }));
  }

  async delivered(jobId: string): Promise<void> {
    this.#untrack(jobId);
    await retryCas(`clearing the outbox of job ${jobId}`, async () => {
      const entry = await this.#deps.kv.get(outboxKey(jobId));
      const current = parseOutboxEntry(entry);
      if (current !== undefined && current.owner !== this.#deps.owner) return true;
      return (await this.#deps.kv.atomic().check(entry).delete(outboxKey(jobId)).commit()).ok
        ? true
        : undefined;
    });
  }

  async postpone(jobId: string): Promise<void> {
    this.#untrack(jobId);
    await this.#change(jobId, (entry) => ({ ...entry, expiresAt: 0 }));
  }

  /**
   * Claims every entry nobody is delivering (claim expired, released, or its owner dead) and
   * returns the jobs to deliver, oldest first. Entries whose job is gone are dropped.
   */
  async claimUndelivered(limit = 100): Promise<Job[]> {
    const jobs: Job[] = [];
    for await (const raw of this.#deps.kv.list({ prefix: outboxPrefix() }, { limit: 1000 })) {
      if (jobs.length >= limit) break;
      const entry = parseOutboxEntry(raw);
      const jobId = typeof raw.key[2] === "string" ? raw.key[2] : undefined;
      if (entry === undefined || jobId === undefined || entry.jobId !== jobId) {
        await this.#deps.kv.atomic().check(raw).delete(raw.key).commit();
        continue;
      }
      if (this.#active.has(jobId) || !this.#free(entry)) continue;
      const job = await readJob(this.#deps.kv, jobId);
      if (job === null) {
        await this.#deps.kv.atomic().check(raw).delete(raw.key).commit();
        continue;
      }
      const claimed = await this.#claim(jobId, entry);
      if (claimed === undefined) continue;
      this.#track(jobId, claimed);
      jobs.push(job.job);
    }
    return jobs;
  }

  /** Stops renewing claims (at shutdown; what is left is taken over once they expire). */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#active.clear();
  }

  #free(entry: OutboxEntry): boolean {
    return entry.expiresAt <= this.#deps.now() ||
      (this.#deps.deadOwners?.includes(entry.owner) ?? false);
  }

  /** Takes the entry over when it is free; undefined when another instance holds it. */
  #claim(jobId: string, seen: OutboxEntry): Promise<OutboxEntry | undefined> {
    if (!this.#free(seen)) return Promise.resolve(undefined);
    return this.#change(
      jobId,
      (entry) =>
        this.#free(entry)
          ? { ...entry, owner: this.#deps.owner, expiresAt: this.#deps.now() + this.#deps.claimMs }
          : null,
    );
  }

  /** Changes this job's entry with check-and-set; undefined when missing or left alone. */
  #change(
    jobId: string,
    change: (entry: OutboxEntry) => OutboxEntry | null,
  ): Promise<OutboxEntry | undefined> {
    return retryCas(`updating the outbox of job ${jobId}`, async () => {
      const raw = await this.#deps.kv.get(outboxKey(jobId));
      const entry = parseOutboxEntry(raw);
      if (entry === undefined) return { value: undefined };
      const next = change(entry);
      if (next === null) return { value: undefined };
      const res = await this.#deps.kv.atomic().check(raw).set(outboxKey(jobId), next, {
        expireIn: OUTBOX_TTL_MS,
      }).commit();
      return res.ok ? { value: next } : undefined;
    }).then((result) => result.value);
  }

  #track(jobId: string, entry: OutboxEntry): ReadonlySet<string> {
    this.#active.add(jobId);
    this.#timer ??= setInterval(() => void this.#renew(), Math.max(1000, this.#deps.claimMs / 3));
    return new Set(entry.sent);
  }

  #untrack(jobId: string): void {
    this.#active.delete(jobId);
    if (this.#active.size === 0) this.close();
  }

  async #renew(): Promise<void> {
    for (const jobId of this.#active) {
      try {
        await this.#change(
          jobId,
          (entry) =>
            entry.owner === this.#deps.owner
              ? { ...entry, expiresAt: this.#deps.now() + this.#deps.claimMs }
              : null,
        );
      } catch (error) {
        this.#deps.logger.warn("renewing an outbox claim failed", {
          job_id: jobId,
          error: errorText(error),
        });
      }
    }
  }
}
