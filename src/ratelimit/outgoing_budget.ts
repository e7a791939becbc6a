/**
 * Telegram's flood limits across processes: when a bot process and download workers share one
 * store, each paces its own calls (`bot/throttle.ts`), and this budget in the store keeps their
 * sum inside the limits too. Before a call leaves, it reserves the bot-wide slot (one per
 * `globalIntervalMs`, 30 a second) and its chat: the chat is held while the call is under way
 * (up to {@linkcode CHAT_HOLD_MS}, for a process that dies mid-call), and after the answer its
 * next call may leave one interval later (a second in private chats, 3 s in groups), as in the
 * local throttle. A call that is slow to arrive can therefore never meet another process's next
 * call to the same chat within Telegram's second. A reservation is a check-and-set on two small keys, so it is exact between processes
 * on one clock (one machine; across machines keep clocks in sync, e.g. chrony).
 *
 * A chat still waiting holds no bot-wide slot: the call waits for its chat first, then takes the
 * next bot-wide slot. When the store cannot be reached the call goes out on the local throttle
 * alone (a store outage must not silence the bot).
 *
 * @module
 */
import { z } from "zod";
import { outgoingBotKey, outgoingChatKey } from "../kv/keys.ts";
import { retryCas } from "../kv/cas.ts";
import { type AbortLike, sleep } from "../runtime/sleep.ts";

/** What a throttle asks of a budget shared with other processes. */
export interface SharedOutgoingBudget {
  /** Waits until a call to `chatId` (undefined: none) may leave, and reserves its slots. */
  acquire(chatId: number | string | undefined, signal?: AbortLike): Promise<void>;
  /** The call to `chatId` was answered: that chat's next call waits its interval from now. */
  release(chatId: number | string | undefined): Promise<void>;
}

/** Intervals of {@linkcode KvOutgoingBudget} (the local throttle's, by default). */
export interface OutgoingBudgetOptions {
  privateChatIntervalMs?: number;
  groupChatIntervalMs?: number;
  globalIntervalMs?: number;
  /** Epoch milliseconds; shared by the processes (default `Date.now`). */
  now?: () => number;
  /** Waits (default: the abortable `runtime/sleep.ts`); tests pass a fake clock's. */
  sleep?: (ms: number, signal?: AbortLike) => Promise<void>;
}

/** Slot keys live this long after their time passed (they are rewritten on every use). */
const SLOT_TTL_MS = 60_000;

/** Longest a chat stays held by a call whose answer never came (its process died). */
export const CHAT_HOLD_MS = 10_000;

const slotSchema = z.number();

/** The shared budget in Deno KV (see the module documentation). */
export class KvOutgoingBudget implements SharedOutgoingBudget {
  readonly #kv: Deno.Kv;
  readonly #privateMs: number;
  readonly #groupMs: number;
  readonly #globalMs: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number, signal?: AbortLike) => Promise<void>;

  constructor(kv: Deno.Kv, options: OutgoingBudgetOptions = {}) {
    this.#kv = kv;
    this.#privateMs = options.privateChatIntervalMs ?? 1050;
    this.#groupMs = options.groupChatIntervalMs ?? 3150;
    this.#globalMs = options.globalIntervalMs ?? 35;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? sleep;
  }

  async acquire(chatId: number | string | undefined, signal?: AbortLike): Promise<void> {
    try {
      for (;;) {
        const plan = await retryCas("the shared outgoing budget", () => this.#reserve(chatId));
        const wait = plan.at - this.#now();
        if (wait > 0) await this.#sleep(wait, signal);
        if (plan.reserved || signal?.aborted) return;
      }
    } catch {
      // The store is unreachable or contended beyond reason: the local throttle alone paces.
    }
  }

  async release(chatId: number | string | undefined): Promise<void> {
    if (chatId === undefined) return;
    const key = outgoingChatKey(String(chatId));
    // The chat was held for this call alone: its next call may leave one interval from now.
    const next = this.#now() + this.#intervalOf(chatId);
    await this.#kv.set(key, next, { expireIn: SLOT_TTL_MS }).catch(() => {});
  }

  /**
   * One attempt: when the chat is free, reserve the next bot-wide slot (and the chat's) and say
   * when it is; otherwise say when the chat is free (nothing reserved).
   */
  async #reserve(
    chatId: number | string | undefined,
  ): Promise<{ at: number; reserved: boolean } | undefined> {
    const keys = [
      outgoingBotKey(),
      ...(chatId === undefined ? [] : [outgoingChatKey(String(chatId))]),
    ];
    const [bot, chat] = await this.#kv.getMany(keys);
    if (bot === undefined) return undefined;
    const now = this.#now();
    const chatAt = chat === undefined ? now : timeOf(chat, now);
    if (chatAt > now) return { at: chatAt, reserved: false };
    const at = timeOf(bot, now);
    const op = this.#kv.atomic().check(bot).set(bot.key, at + this.#globalMs, {
      expireIn: SLOT_TTL_MS,
    });
    if (chat !== undefined && chatId !== undefined) {
      const held = at + Math.max(this.#intervalOf(chatId), CHAT_HOLD_MS);
      op.check(chat).set(chat.key, held, { expireIn: SLOT_TTL_MS });
    }
    return (await op.commit()).ok ? { at, reserved: true } : undefined;
  }

  #intervalOf(chatId: number | string): number {
    return isGroupChat(chatId) ? this.#groupMs : this.#privateMs;
  }
}

/** Groups, supergroups and channels have negative ids; only public ones have `@username` ids. */
export function isGroupChat(chatId: number | string): boolean {
  return typeof chatId === "string" ? !/^\d+$/.test(chatId) : chatId < 0;
}

function timeOf(entry: Deno.KvEntryMaybe<unknown>, now: number): number {
  const stored = slotSchema.safeParse(entry.value);
  return stored.success ? Math.max(now, stored.data) : now;
}
