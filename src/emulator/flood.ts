/**
 * Flood limit simulation: Telegram answers 429 when a bot sends or edits too much in one chat or
 * overall, and keeps rejecting until retry_after has passed. Also measures the busiest second.
 *
 * @module
 */
import type { FloodLimit } from "./emulator_types.ts";

const WINDOW_MS = 1000;

/** Accepted sends/edits per chat and overall, checked against an optional {@linkcode FloodLimit}. */
export class FloodTracker {
  readonly #limit: FloodLimit | undefined;
  readonly #perChat = new Map<number, number[]>();
  readonly #all: number[] = [];
  readonly #chatBannedUntil = new Map<number, number>();
  #botBannedUntil = 0;
  readonly #maxPerChat = new Map<number, number>();

  constructor(limit: FloodLimit | undefined) {
    this.#limit = limit;
  }

  /**
   * Checks whether a send/edit to `chatId` at time `now` is allowed. Returns the retry_after
   * seconds of a rejection, or undefined when allowed (the caller then calls {@linkcode record}).
   */
  check(chatId: number, now: number): number | undefined {
    const limit = this.#limit;
    if (limit === undefined) return undefined;
    const bannedUntil = Math.max(this.#chatBannedUntil.get(chatId) ?? 0, this.#botBannedUntil);
    if (now < bannedUntil) return Math.max(1, Math.ceil((bannedUntil - now) / 1000));
    const chatWindow = inWindow(this.#perChat.get(chatId) ?? [], now);
    const botWindow = inWindow(this.#all, now);
    if (chatWindow.length >= limit.perChatPerSecond) {
      const retryAfter = limit.retryAfter ?? waitSeconds(chatWindow, limit.perChatPerSecond, now);
      this.#chatBannedUntil.set(chatId, now + retryAfter * 1000);
      return retryAfter;
    }
    if (botWindow.length >= limit.perBotPerSecond) {
      const retryAfter = limit.retryAfter ?? waitSeconds(botWindow, limit.perBotPerSecond, now);
      this.#botBannedUntil = now + retryAfter * 1000;
      return retryAfter;
    }
    return undefined;
  }

  /** Records an accepted send/edit. */
  record(chatId: number, now: number): void {
    let times = this.#perChat.get(chatId);
    if (times === undefined) {
      times = [];
      this.#perChat.set(chatId, times);
    }
    times.push(now);
    this.#all.push(now);
    const recent = inWindow(times, now).length;
    this.#maxPerChat.set(chatId, Math.max(this.#maxPerChat.get(chatId) ?? 0, recent));
    prune(times, now);
    prune(this.#all, now);
  }

  /** The most sends/edits accepted in any 1-second window, in one chat or the busiest chat. */
  maxPerChatPerSecond(chatId?: number): number {
    if (chatId !== undefined) return this.#maxPerChat.get(chatId) ?? 0;
    return Math.max(0, ...this.#maxPerChat.values());
  }
}

function inWindow(times: number[], now: number): number[] {
  return times.filter((t) => t > now - WINDOW_MS);
}

function prune(times: number[], now: number): void {
  const keepFrom = times.findIndex((t) => t > now - WINDOW_MS);
  if (keepFrom > 0) times.splice(0, keepFrom);
  else if (keepFrom === -1) times.length = 0;
}

function waitSeconds(window: number[], allowed: number, now: number): number {
  const freesAt = (window[window.length - allowed] ?? now) + WINDOW_MS;
  return Math.max(1, Math.ceil((freesAt - now) / 1000));
}
