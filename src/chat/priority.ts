/**
 * How urgent an outgoing Bot API call is, for the send throttle (`src/bot/throttle.ts`). A call made
 * inside {@linkcode withPriority} carries that priority through grammY's transformer chain (an
 * `AsyncLocalStorage`: grammY's API methods take no extra argument a transformer could see, and
 * a field in the payload would be sent to Telegram).
 *
 * - `reply` (the default): answers to commands and the messages of finished jobs.
 * - `progress`: status-message edits while a job runs; they wait behind replies, and may carry a
 *   `refresh` that renders their text when they leave (so what arrives is current, however long
 *   they waited; null drops a call that became pointless).
 * - `refusal`: answers to outsiders; they go last, and are dropped when the bot is busy.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** An outgoing call's priority; see the module documentation. */
export type Priority = "reply" | "progress" | "refusal";

/** Lower sends first. */
export const PRIORITY_RANK: Readonly<Record<Priority, number>> = {
  reply: 0,
  progress: 1,
  refusal: 2,
};

/** Makes a call's payload anew when it is sent; null: the call is not sent at all. */
export type Refresh = (payload: Record<string, unknown>) => Record<string, unknown> | null;

const current = new AsyncLocalStorage<{ priority: Priority; refresh?: Refresh }>();

/** Runs `fn`; the Bot API calls it makes carry `priority` (and `refresh`). */
export function withPriority<T>(priority: Priority, fn: () => T, refresh?: Refresh): T {
  return current.run({ priority, ...(refresh === undefined ? {} : { refresh }) }, fn);
}

/** The priority of a call made now. */
export function currentPriority(): Priority {
  return current.getStore()?.priority ?? "reply";
}

/** The refresh of a call made now, if it has one. */
export function currentRefresh(): Refresh | undefined {
  return current.getStore()?.refresh;
}

/** A call the throttle dropped instead of sending (a refusal while the bot is busy). */
export class OutgoingDroppedError extends Error {
  constructor(readonly method: string) {
    super(`'${method}' was not sent: the bot is busy and it is of the lowest priority`);
    this.name = "OutgoingDroppedError";
  }
}
