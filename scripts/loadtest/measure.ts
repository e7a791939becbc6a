/**
 * What the load test measures while traffic flows: reply latency per chat (from a user's message to
 * the bot's next message in that chat, seen through the emulator's change events), throttled
 * replies, and the peak resident memory of the process.
 *
 * @module
 */
import type { TelegramEmulator } from "../../src/emulator/mod.ts";
import { USER_KINDS, type UserKind } from "./traffic.ts";

/** Percentiles of a set of latencies, in ms (null when nothing was measured). */
export interface LatencySummary {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

/** The text the bot starts a "you are sending too fast" answer with. */
export const THROTTLED_PREFIX = "Slow down";

/** Nearest-rank percentile of ascending `sorted` values (null when empty). */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Count, p50, p95, p99 and max of `values` (ms, rounded to 0.1 ms). */
export function summarize(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (v: number | null) => v === null ? null : Math.round(v * 10) / 10;
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.length ? sorted[sorted.length - 1]! : null),
  };
}

/**
 * Records reply latency: every user message waits for the bot's next message in the same chat
 * (a new message, not an edit). Messages no bot message followed are "unanswered".
 */
export class ReplyLatencyRecorder {
  readonly #kindOf: (chatId: number) => UserKind | undefined;
  readonly #pending = new Map<number, number[]>();
  readonly #latencies: Record<UserKind, number[]> = { normal: [], spammer: [], outsider: [] };
  readonly #clock: () => number;
  readonly #unsubscribe: () => void;
  #botMessages = 0;
  #throttled = 0;

  /** Subscribes to `emulator`; `kindOf` tells which simulated user a chat belongs to. */
  constructor(
    emulator: TelegramEmulator,
    kindOf: (chatId: number) => UserKind | undefined,
    clock: () => number = () => performance.now(),
  ) {
    this.#kindOf = kindOf;
    this.#clock = clock;
    this.#unsubscribe = emulator.onChange((event) => {
      if (event.type !== "message" || event.message.from !== "bot") return;
      this.#botMessages++;
      if ((event.message.text ?? "").startsWith(THROTTLED_PREFIX)) this.#throttled++;
      this.#answer(event.chatId);
    });
  }

  /** Notes that a user message was just sent in `chatId`. */
  sent(chatId: number): void {
    let pending = this.#pending.get(chatId);
    if (pending === undefined) {
      pending = [];
      this.#pending.set(chatId, pending);
    }
    pending.push(this.#clock());
  }

  #answer(chatId: number): void {
    const pending = this.#pending.get(chatId);
    const kind = this.#kindOf(chatId);
    if (pending === undefined || pending.length === 0 || kind === undefined) return;
    const now = this.#clock();
    for (const sentAt of pending) this.#latencies[kind].push(now - sentAt);
    pending.length = 0;
  }

  /** Bot messages seen so far. */
  get botMessages(): number {
    return this.#botMessages;
  }

  /** Bot messages that told a user to slow down. */
  get throttledReplies(): number {
    return this.#throttled;
  }

  /** Latency over all users and per kind of user. */
  latency(): Record<"all" | UserKind, LatencySummary> {
    const all = USER_KINDS.flatMap((kind) => this.#latencies[kind]);
    return {
      all: summarize(all),
      normal: summarize(this.#latencies.normal),
      spammer: summarize(this.#latencies.spammer),
      outsider: summarize(this.#latencies.outsider),
    };
  }

  /** User messages no bot message has followed yet, per kind of user. */
  unanswered(): Record<UserKind, number> {
    const counts: Record<UserKind, number> = { normal: 0, spammer: 0, outsider: 0 };
    for (const [chatId, pending] of this.#pending) {
      const kind = this.#kindOf(chatId);
      if (kind !== undefined) counts[kind] += pending.length;
    }
    return counts;
  }

  /** Stops listening to the emulator. */
  close(): void {
    this.#unsubscribe();
  }
}

/** Samples the process's resident memory and remembers the peak. */
export class RssSampler {
  #peak = 0;

  /** Takes a sample now. */
  sample(): void {
    this.#peak = Math.max(this.#peak, Deno.memoryUsage().rss);
  }

  /** The highest sample in bytes. */
  get peakBytes(): number {
    return this.#peak;
  }
}
