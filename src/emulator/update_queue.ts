/**
 * Pending updates and getUpdates long polling with Telegram's semantics: an update stays pending
 * until a later call confirms it with a higher `offset`; a call with nothing to return waits up to
 * `timeout` seconds; a newer call terminates an older waiting one with 409.
 *
 * @module
 */
import { BotApiError } from "./api_error.ts";
import type { TgUpdate } from "./emulator_types.ts";

interface WaitingPoll {
  limit: number;
  resolve: (updates: TgUpdate[]) => void;
  reject: (error: BotApiError) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** The queue of updates not yet confirmed by the bot. */
export class UpdateQueue {
  #updates: TgUpdate[] = [];
  #nextUpdateId: number;
  #poll: WaitingPoll | undefined;
  #closed = false;
  /** Called whenever an update is added (webhook delivery listens here). */
  onPush: (() => void) | undefined;
  /** Called when a getUpdates call starts waiting. */
  onWait: (() => void) | undefined;

  constructor(firstUpdateId = 1) {
    this.#nextUpdateId = firstUpdateId;
  }

  /** Adds an update, assigning the next update_id, and wakes a waiting poll. */
  push(content: Omit<TgUpdate, "update_id">): TgUpdate {
    const update: TgUpdate = { update_id: this.#nextUpdateId++, ...content };
    this.#updates.push(update);
    const poll = this.#poll;
    if (poll) {
      this.#poll = undefined;
      clearTimeout(poll.timer);
      poll.resolve(this.#take(poll.limit));
    }
    this.onPush?.();
    return update;
  }

  /** Updates not confirmed yet. */
  get pendingCount(): number {
    return this.#updates.length;
  }

  /** Whether a getUpdates call is waiting for updates. */
  get waiting(): boolean {
    return this.#poll !== undefined;
  }

  /** The oldest pending update. */
  peek(): TgUpdate | undefined {
    return this.#updates[0];
  }

  /** Forgets updates below `offset`; a negative offset keeps only the last -offset updates. */
  confirm(offset: number | undefined): void {
    if (offset === undefined || offset === 0) return;
    if (offset < 0) {
      this.#updates = this.#updates.slice(offset);
      return;
    }
    this.#updates = this.#updates.filter((u) => u.update_id >= offset);
  }

  /** Drops every pending update. */
  dropAll(): void {
    this.#updates = [];
  }

  /**
   * getUpdates: confirms `offset`, returns up to `limit` pending updates, waiting up to
   * `timeoutSeconds` for one when there are none. Rejects an older waiting call with 409.
   */
  poll(offset: number | undefined, limit: number, timeoutSeconds: number): Promise<TgUpdate[]> {
    this.confirm(offset);
    const available = this.#take(limit);
    if (available.length > 0 || timeoutSeconds <= 0 || this.#closed) {
      return Promise.resolve(available);
    }
    const previous = this.#poll;
    if (previous) {
      clearTimeout(previous.timer);
      previous.reject(new BotApiError(409, "Conflict: terminated by other getUpdates request"));
    }
    return new Promise((resolve, reject) => {
      const poll: WaitingPoll = {
        limit,
        resolve,
        reject,
        timer: setTimeout(() => {
          if (this.#poll === poll) this.#poll = undefined;
          resolve(this.#take(limit));
        }, timeoutSeconds * 1000),
      };
      this.#poll = poll;
      this.onWait?.();
    });
  }

  /** Ends a waiting poll (with no updates) and makes later polls return at once. */
  close(): void {
    this.#closed = true;
    const poll = this.#poll;
    this.#poll = undefined;
    if (poll) {
      clearTimeout(poll.timer);
      poll.resolve([]);
    }
  }

  #take(limit: number): TgUpdate[] {
    return this.#updates.slice(0, limit).map((u) => structuredClone(u));
  }
}
