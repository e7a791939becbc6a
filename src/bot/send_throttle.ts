/**
 * The scheduler behind the outgoing throttle (`throttle.ts`): per-chat lanes, the bot-wide
 * spacing and count, priorities and the dropping of refusals. It knows nothing of grammY: it
 * runs the calls it is given when their slots allow.
 *
 * @module
 */
import type { AbortLike } from "../runtime/sleep.ts";
import { isGroupChat, type SharedOutgoingBudget } from "../ratelimit/outgoing_budget.ts";
import { type Priority, PRIORITY_RANK } from "../chat/priority.ts";

/** The clock and timer the throttle uses (tests inject a fake one). */
export interface ThrottleClock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Calls `callback` after `ms` milliseconds; the returned function cancels it. */
  setTimer(callback: () => void, ms: number): () => void;
}

/** Options of {@linkcode sendThrottleTransformer}; every interval is in milliseconds. */
export interface SendThrottleOptions {
  /**
   * Least time between the answer to a call to a private chat and that chat's next call
   * (default 1050: one a second, with a margin).
   */
  privateChatIntervalMs?: number;
  /**
   * The same for groups, supergroups and channels (negative or `@username` chat ids). The
   * default 3150 keeps calls 3 s apart and, as 21 calls need 63 s, at most 20 in any minute.
   */
  groupChatIntervalMs?: number;
  /**
   * Least time between any two throttled calls (default 35: 31 calls need 1.05 s, so at most
   * 30 leave in any second).
   */
  globalIntervalMs?: number;
  /**
   * Most calls unanswered or answered within the last second, bot-wide (default 30, Telegram's
   * limit).
   */
  botCallsPerSecond?: number;
  /**
   * Of that second's budget, this many places only replies and final messages may take (default
   * 10): progress edits and refusals never use the last of it, so a reply never waits for them.
   */
  repliesReservedPerSecond?: number;
  /** Refusals are dropped at once while this many calls wait (default 30: a second's budget). */
  dropRefusalsWhenWaiting?: number;
  /** A refusal that waited this long is dropped (default 10 000 ms). */
  refusalMaxWaitMs?: number;
  /** Methods passed on at once and counted nowhere (default `UNTHROTTLED_METHODS`, `throttle.ts`). */
  unthrottledMethods?: Iterable<string>;
  /** Defaults to `performance.now()` and the global timers. */
  clock?: ThrottleClock;
  /**
   * The budget shared with other processes on the same store (bot and workers): a call that
   * leaves here also waits for its slots there. Absent: this process alone sends.
   */
  shared?: SharedOutgoingBudget;
}

/** A call waiting for its slots. */
interface Waiter {
  /** Order of arrival, to break ties. */
  readonly seq: number;
  /** When the call was made. */
  readonly madeAt: number;
  /** Lower goes first ({@linkcode PRIORITY_RANK}). */
  readonly rank: number;
  readonly send: () => void;
  /** Set for refusals: rejects the call unsent. */
  readonly drop?: () => void;
}

/** The calls of one chat (or of all calls without a chat) and when the next may leave. */
interface Lane {
  /** Wait after the answer to one call before the next; `undefined` for the chat-less lane. */
  readonly intervalMs: number | undefined;
  readonly queue: Waiter[];
  /** A call of this chat is on its way (chat lanes send one at a time). */
  inFlight: boolean;
  /** Earliest time the next call may leave. */
  nextAt: number;
}

const NO_CHAT = "";

/** Telegram's flood window. */
const SECOND_MS = 1000;

const systemClock: ThrottleClock = {
  now: () => performance.now(),
  setTimer(callback, ms) {
    const timer = setTimeout(callback, ms);
    return () => clearTimeout(timer);
  },
};

/** Schedules calls under per-chat and bot-wide spacing, reserving both when a call leaves. */
export class SendThrottle {
  readonly #privateMs: number;
  readonly #groupMs: number;
  readonly #globalMs: number;
  readonly #perSecond: number;
  readonly #replyReserve: number;
  readonly #dropWhenWaiting: number;
  readonly #refusalMaxWaitMs: number;
  readonly #clock: ThrottleClock;
  /** Lanes with waiting or in-flight calls, or whose interval has not passed yet. */
  readonly #lanes = new Map<string, Lane>();
  #globalNextAt = Number.NEGATIVE_INFINITY;
  /** Calls sent and not answered yet. */
  #unanswered = 0;
  /** When the calls answered within the last second were answered, oldest first. */
  readonly #answeredAt: number[] = [];
  #seq = 0;
  #waiting = 0;
  /** Of those, replies and final messages (what a user waits for; progress edits go after). */
  #waitingReplies = 0;
  #cancelTimer: (() => void) | undefined;
  #timerAt = Number.POSITIVE_INFINITY;

  constructor(options: SendThrottleOptions) {
    this.#privateMs = options.privateChatIntervalMs ?? 1050;
    this.#groupMs = options.groupChatIntervalMs ?? 3150;
    this.#globalMs = options.globalIntervalMs ?? 35;
    this.#perSecond = options.botCallsPerSecond ?? 30;
    this.#replyReserve = options.repliesReservedPerSecond ?? 10;
    this.#dropWhenWaiting = options.dropRefusalsWhenWaiting ?? 30;
    this.#refusalMaxWaitMs = options.refusalMaxWaitMs ?? 10_000;
    this.#clock = options.clock ?? systemClock;
  }

  /** Replies and final messages waiting for their slots (not progress edits or refusals). */
  get waitingReplies(): number {
    return this.#waitingReplies;
  }

  /** A waiter left the queue (sent, aborted or dropped). */
  #left(waiter: Waiter): void {
    this.#waiting--;
    if (waiter.rank === PRIORITY_RANK.reply) this.#waitingReplies--;
  }

  /** Runs `call` once its chat (`undefined`: none) and the bot-wide limit allow it. */
  run<T>(
    chatId: number | string | undefined,
    call: () => Promise<T>,
    signal: AbortLike | undefined,
    errors: { aborted: () => Error; dropped: () => Error },
    priority: Priority = "reply",
  ): Promise<T> {
    if (signal?.aborted) return Promise.reject(errors.aborted());
    const droppable = priority === "refusal";
    if (droppable && this.#waiting >= this.#dropWhenWaiting) {
      return Promise.reject(errors.dropped());
    }
    const key = chatId === undefined ? NO_CHAT : String(chatId);
    const lane = this.#lanes.get(key) ?? this.#newLane(key, chatId);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        const index = lane.queue.indexOf(waiter);
        if (index === -1) return;
        lane.queue.splice(index, 1);
        this.#left(waiter);
        if (this.#waiting === 0) this.#clearTimer();
        reject(errors.aborted());
      };
      const waiter: Waiter = {
        seq: this.#seq++,
        madeAt: this.#clock.now(),
        rank: PRIORITY_RANK[priority],
        drop: droppable
          ? () => {
            signal?.removeEventListener("abort", onAbort);
            reject(errors.dropped());
          }
          : undefined,
        send: () => {
          signal?.removeEventListener("abort", onAbort);
          if (lane.intervalMs !== undefined) lane.inFlight = true;
          this.#unanswered++;
          new Promise<T>((answer) => answer(call()))
            .then(resolve, reject)
            .finally(() => this.#answered(lane));
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const after = lane.queue.findIndex((w) => w.rank > waiter.rank);
      if (after === -1) lane.queue.push(waiter);
      else lane.queue.splice(after, 0, waiter);
      this.#waiting++;
      if (waiter.rank === PRIORITY_RANK.reply) this.#waitingReplies++;
      this.#pump();
    });
  }

  #newLane(key: string, chatId: number | string | undefined): Lane {
    const intervalMs = chatId === undefined
      ? undefined
      : isGroupChat(chatId)
      ? this.#groupMs
      : this.#privateMs;
    const lane: Lane = { intervalMs, queue: [], inFlight: false, nextAt: 0 };
    this.#lanes.set(key, lane);
    return lane;
  }

  #answered(lane: Lane): void {
    const now = this.#clock.now();
    this.#unanswered--;
    this.#answeredAt.push(now);
    if (lane.intervalMs !== undefined) {
      lane.inFlight = false;
      lane.nextAt = now + lane.intervalMs;
    }
    this.#pump();
  }

  /**
   * When the bot-wide count next lets a call leave: `now` when it does already, infinity when
   * only an answer can free a place.
   */
  #botFreeAt(now: number, rank: number): number {
    const answered = this.#answeredAt;
    const recent = answered.findIndex((at) => at > now - SECOND_MS);
    answered.splice(0, recent === -1 ? answered.length : recent);
    const limit = rank === PRIORITY_RANK.reply
      ? this.#perSecond
      : Math.max(1, this.#perSecond - this.#replyReserve);
    const excess = this.#unanswered + answered.length - limit + 1;
    if (excess <= 0) return now;
    const freedBy = answered[excess - 1];
    return freedBy === undefined ? Number.POSITIVE_INFINITY : freedBy + SECOND_MS;
  }

  /** Sends every call that may leave now, then sets the timer for the next one. */
  #pump(): void {
    for (;;) {
      const now = this.#clock.now();
      let best: { lane: Lane; dueAt: number; seq: number; rank: number } | undefined;
      let earliest = Number.POSITIVE_INFINITY;
      for (const [key, lane] of this.#lanes) {
        this.#dropStale(lane, now);
        const head = lane.queue[0];
        if (head === undefined) {
          if (!lane.inFlight && lane.nextAt <= now) this.#lanes.delete(key);
          continue;
        }
        if (lane.inFlight) continue;
        if (lane.nextAt > now) {
          earliest = Math.min(earliest, lane.nextAt);
          continue;
        }
        const dueAt = Math.max(head.madeAt, lane.nextAt);
        if (best === undefined || before({ rank: head.rank, dueAt, seq: head.seq }, best)) {
          best = { lane, dueAt, seq: head.seq, rank: head.rank };
        }
      }
      const botFreeAt = best === undefined ? now : this.#botFreeAt(now, best.rank);
      if (best !== undefined && this.#globalNextAt <= now && botFreeAt <= now) {
        const { lane } = best;
        const waiter = lane.queue.shift()!;
        this.#left(waiter);
        this.#globalNextAt = now + this.#globalMs;
        if (lane.intervalMs !== undefined) lane.nextAt = Number.POSITIVE_INFINITY;
        waiter.send();
        continue;
      }
      if (best !== undefined) earliest = Math.max(this.#globalNextAt, botFreeAt);
      if (earliest === Number.POSITIVE_INFINITY) this.#clearTimer();
      else this.#setTimer(earliest, now);
      return;
    }
  }

  /** Drops the lane's refusals that waited longer than allowed. */
  #dropStale(lane: Lane, now: number): void {
    for (let i = lane.queue.length - 1; i >= 0; i--) {
      const waiter = lane.queue[i];
      if (waiter?.drop === undefined || now - waiter.madeAt < this.#refusalMaxWaitMs) continue;
      lane.queue.splice(i, 1);
      this.#left(waiter);
      waiter.drop();
    }
  }

  #setTimer(at: number, now: number): void {
    if (this.#cancelTimer !== undefined && this.#timerAt <= at) return;
    this.#clearTimer();
    this.#timerAt = at;
    this.#cancelTimer = this.#clock.setTimer(() => {
      this.#cancelTimer = undefined;
      this.#timerAt = Number.POSITIVE_INFINITY;
      this.#pump();
    }, Math.max(0, Math.ceil(at - now)));
  }

  #clearTimer(): void {
    if (this.#cancelTimer === undefined) return;
    this.#cancelTimer();
    this.#cancelTimer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }
}

/** Whether call `a` goes before `b`: higher priority, then due earlier, then made earlier. */
function before(
  a: { rank: number; dueAt: number; seq: number },
  b: { rank: number; dueAt: number; seq: number },
): boolean {
  if (a.rank !== b.rank) return a.rank < b.rank;
  if (a.dueAt !== b.dueAt) return a.dueAt < b.dueAt;
  return a.seq < b.seq;
}
