/**
 * Outgoing throttle that keeps the bot within Telegram's flood limits at the moment each call is
 * sent: one message a second per private chat, 20 a minute per group or channel, 30 a second for
 * the whole bot.
 *
 * A call waits until both its chat and the bot-wide limit allow it, then reserves both at once
 * and goes out. Calls to one chat leave in the order they were made, one at a time: the chat's
 * next call waits for the answer to the previous one and then its chat interval, so a slow upload
 * cannot end within a second of the chat's next message. The next bot-wide slot goes to the call
 * that has waited longest since its chat let it go, so a chat with a backlog takes its turn behind
 * calls that were already waiting.
 *
 * Bot-wide, calls leave a spacing apart, and a call leaves only while fewer than 30 calls are
 * unanswered or were answered within the last second. Telegram counts a call when it arrives,
 * which is somewhere between its sending and its answer; a call answered more than a second ago
 * cannot share a second with one sent now, whatever the network or a stalled event loop did to
 * either on the way. Spacing alone cannot promise that: calls sent 35 ms apart can arrive
 * bunched. Progress edits and refusals may use only 20 of those 30 places: the rest is kept for
 * replies, so many running downloads never make a reply wait. Calls without a `chat_id` count only
 * against the bot-wide
 * limit; `answerCallbackQuery`, `getUpdates` and `getMe` are never delayed.
 *
 * Priorities (`priority.ts`) come first: a waiting reply leaves before any progress edit, and
 * both before a refusal, in a chat's own line as for the bot-wide slot. Refusals are dropped
 * (rejected with `OutgoingDroppedError`) when many calls wait already or when they waited too
 * long, so an outsider flood never delays anyone on the whitelist.
 *
 * One timer at most is pending, and only while calls wait.
 *
 * @module
 */
import { HttpError, type Transformer } from "grammy";
import { currentPriority, currentRefresh, OutgoingDroppedError } from "../chat/priority.ts";
import { SendThrottle, type SendThrottleOptions } from "./send_throttle.ts";

export type { SendThrottleOptions, ThrottleClock } from "./send_throttle.ts";

/** Methods that never wait: answers to button presses, polling and the bot's identity. */
export const UNTHROTTLED_METHODS: readonly string[] = [
  "answerCallbackQuery",
  "getUpdates",
  "getMe",
];

function chatIdOf(payload: unknown): number | string | undefined {
  if (typeof payload !== "object" || payload === null || !("chat_id" in payload)) return undefined;
  const chatId = payload.chat_id;
  return typeof chatId === "number" || typeof chatId === "string" ? chatId : undefined;
}

/**
 * A transformer that spaces outgoing Bot API calls so that Telegram's flood limits hold at the
 * moment each call is sent (see the module documentation).
 */
export function sendThrottleTransformer(options: SendThrottleOptions = {}): Transformer {
  return createSendThrottle(options).transformer;
}

/**
 * The throttle's transformer, and how many replies and final messages wait in it (the backlog a
 * user's answer waits behind; progress edits go after them and do not count).
 */
export function createSendThrottle(
  options: SendThrottleOptions = {},
): { transformer: Transformer; waiting(): number } {
  const throttle = new SendThrottle(options);
  return {
    transformer: throttleTransformer(throttle, options),
    waiting: () => throttle.waitingReplies,
  };
}

function throttleTransformer(throttle: SendThrottle, options: SendThrottleOptions): Transformer {
  const unthrottled = new Set(options.unthrottledMethods ?? UNTHROTTLED_METHODS);
  const shared = options.shared;
  return (prev, method, payload, signal) => {
    if (unthrottled.has(method)) return prev(method, payload, signal);
    const refresh = currentRefresh();
    const chatId = chatIdOf(payload);
    const send = () => {
      if (refresh === undefined) return prev(method, payload, signal);
      const fresh = refresh(payload as Record<string, unknown>);
      // Not sent: what it would show is out of date (the caller knows); answered as done.
      if (fresh === null) return Promise.resolve({ ok: true as const, result: true as never });
      return prev(method, fresh as typeof payload, signal);
    };
    return throttle.run(
      chatId,
      shared === undefined ? send : async () => {
        await shared.acquire(chatId, signal);
        try {
          return await send();
        } finally {
          void shared.release(chatId);
        }
      },
      signal,
      {
        // What grammY itself throws when a call is aborted.
        aborted: () =>
          new HttpError(`Network request for '${method}' failed!`, new Error("aborted")),
        dropped: () => new OutgoingDroppedError(method),
      },
      currentPriority(),
    );
  };
}
