/**
 * Pacing of calls to one chat: at most one call per interval, a 429 blocks the chat for its
 * `retry_after` and doubles the interval (decaying back after successes), and Telegram's errors
 * are classified for the caller's decision.
 *
 * @module
 */
import { GrammyError } from "grammy";
import { errorText } from "../runtime/error_text.ts";

/** How an API call failed. */
export type Failure = "not_modified" | "flood" | "gone" | "transient" | "rejected";

/** Longest interval a chat backs off to after repeated errors. */
const MAX_INTERVAL_MS = 60_000;
/** Back-off when a 429 carries no `retry_after`. */
const DEFAULT_RETRY_AFTER_S = 5;

/** Classifies a Bot API error. */
export function classify(error: unknown): Failure {
  if (!(error instanceof GrammyError)) return "transient";
  const description = error.description.toLowerCase();
  if (error.error_code === 429) return "flood";
  if (description.includes("message is not modified")) return "not_modified";
  if (error.error_code === 403) return "gone";
  if (
    description.includes("message to edit not found") ||
    description.includes("message can't be edited") ||
    description.includes("chat not found")
  ) return "gone";
  if (error.error_code >= 500) return "transient";
  return "rejected";
}

/** `retry_after` of a 429, in seconds. */
export function retryAfterOf(error: unknown): number {
  if (error instanceof GrammyError) {
    const seconds = error.parameters?.retry_after;
    if (typeof seconds === "number" && seconds > 0) return seconds;
  }
  return DEFAULT_RETRY_AFTER_S;
}

/** A Bot API error for a log field. */
export function describeFailure(error: unknown): string {
  if (error instanceof GrammyError) return `${error.error_code}: ${error.description}`;
  return errorText(error, { withName: true });
}

/** The gate of one chat: when its next call may start, and how far apart calls are. */
export class ChatGate {
  readonly chatId: number;
  /** Earliest time the next API call to this chat may start. */
  nextAllowedAt = 0;
  #intervalMs: number;
  readonly #baseIntervalMs: number;
  readonly #now: () => number;

  constructor(chatId: number, intervalMs: number, now: () => number) {
    this.chatId = chatId;
    this.#intervalMs = intervalMs;
    this.#baseIntervalMs = intervalMs;
    this.#now = now;
  }

  /** The current spacing between calls. */
  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** Milliseconds until the next call may start (0 when it may start now). */
  waitMs(): number {
    return Math.max(0, this.nextAllowedAt - this.#now());
  }

  /**
   * Makes one call through the gate (the caller waited {@linkcode waitMs}); updates the gate and
   * back-off from its result. Returns the flood wait in seconds when the call got a 429.
   */
  async call<T>(call: () => Promise<T>, onFlood?: (retryAfterS: number) => void): Promise<T> {
    this.nextAllowedAt = this.#now() + this.#intervalMs;
    try {
      const result = await call();
      this.#intervalMs = Math.max(this.#baseIntervalMs, Math.floor(this.#intervalMs * 0.9));
      return result;
    } catch (error) {
      const failure = classify(error);
      if (failure === "flood" || failure === "transient") {
        this.#intervalMs = Math.min(MAX_INTERVAL_MS, this.#intervalMs * 2);
      }
      if (failure === "flood") {
        const blockedUntil = this.#now() + retryAfterOf(error) * 1000;
        this.nextAllowedAt = Math.max(this.nextAllowedAt, blockedUntil);
        onFlood?.(retryAfterOf(error));
      }
      throw error;
    } finally {
      this.nextAllowedAt = Math.max(this.nextAllowedAt, this.#now() + this.#intervalMs);
    }
  }
}
