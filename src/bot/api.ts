/**
 * Outgoing Bot API behaviour: monitoring, throttling under Telegram's limits, and retries.
 *
 * Installation order matters: grammY wraps each later transformer around the earlier ones, so the
 * monitor (installed first) sees every single HTTP attempt, the throttle spaces them out, and
 * auto-retry (installed last, outermost) retries through the throttle again.
 *
 * The throttle is our own ({@linkcode sendThrottleTransformer} in `./throttle.ts`), not
 * `@grammyjs/transformer-throttler`: that plugin chains a Bottleneck limiter per chat to one
 * bot-wide limiter, and Bottleneck measures the per-chat spacing when a call is handed on to the
 * bot-wide queue, not when it is sent. When more than 30 calls a second wait, a call can sit in
 * that queue longer than the chat interval, and the chat's next call, handed on once the first
 * was answered, can leave right after it. No configuration avoids this (the order of the chain
 * is fixed, and `highWater` only drops calls); the load test got 41 per-chat 429s from it.
 *
 * @module
 */
import { type Api, GrammyError, HttpError, type Transformer } from "grammy";
import { autoRetry } from "@grammyjs/auto-retry";
import type { AppLogger } from "../log/logger.ts";
import { createSendThrottle, type SendThrottleOptions } from "./throttle.ts";
import { sleep } from "../runtime/sleep.ts";
import { errorText } from "../runtime/error_text.ts";

/** What the monitor reports. */
export interface ApiMonitorSink {
  /** A call succeeded (readiness uses the time of the last success). */
  success(method: string): void;
  /** A call failed; `code` is Telegram's error code, or "network"; `detail` says how. */
  failure(method: string, code: string, willRetry: boolean, detail: string): void;
}

/** Records the outcome of every Bot API attempt. */
export function monitorTransformer(sink: ApiMonitorSink): Transformer {
  return async (prev, method, payload, signal) => {
    try {
      const result = await prev(method, payload, signal);
      if (result.ok) sink.success(method);
      else {
        const code = result.error_code;
        sink.failure(method, String(code), code === 429 || code >= 500, result.description);
      }
      return result;
    } catch (error) {
      if (!(signal?.aborted)) sink.failure(method, "network", true, errorText(error));
      throw error;
    }
  };
}

/** Options for {@linkcode installApiBehaviour}. */
export interface ApiBehaviourOptions {
  monitor: ApiMonitorSink;
  logger: AppLogger;
  /** Upper bound for a single wait on `retry_after` or backoff. */
  maxRetryDelaySeconds?: number;
  /** Turn the outgoing throttle off (the load test's bare baseline does). */
  throttle?: boolean;
  /** The throttle's intervals (defaults: Telegram's limits). */
  throttleOptions?: SendThrottleOptions;
}

/** Methods whose text is Telegram HTML with link previews off unless a call says otherwise. */
const TEXT_METHODS = new Set(["sendMessage", "editMessageText"]);

/**
 * Sets the defaults of every text the bot sends, once: HTML parse mode (every text is built as
 * HTML, user input escaped) and no link previews.
 */
export function textDefaultsTransformer(): Transformer {
  return (prev, method, payload, signal) => {
    if (!TEXT_METHODS.has(method)) return prev(method, payload, signal);
    const withDefaults = {
      parse_mode: "HTML",
      link_preview_options: { is_disabled: true },
      ...payload,
    };
    return prev(method, withDefaults as typeof payload, signal);
  };
}

/**
 * Installs text defaults, monitoring, the outgoing throttle and auto-retry on a bot's API;
 * returns how many calls wait in the throttle (always 0 without one).
 */
export function installApiBehaviour(
  api: Api,
  options: ApiBehaviourOptions,
): { outgoingWaiting(): number } {
  api.config.use(textDefaultsTransformer());
  api.config.use(monitorTransformer(options.monitor));
  let outgoingWaiting = () => 0;
  if (options.throttle ?? true) {
    const throttle = createSendThrottle(options.throttleOptions);
    api.config.use(throttle.transformer);
    outgoingWaiting = throttle.waiting;
  }
  const floodRetry = autoRetry({
    maxRetryAttempts: 6,
    maxDelaySeconds: options.maxRetryDelaySeconds ?? 600,
    rethrowInternalServerErrors: false,
    // Auto-retry would retry network errors forever with waits doubling up to an hour; the
    // network retry below caps the wait so replies go out soon after the network is back.
    rethrowHttpErrors: true,
  });
  const networkRetry = networkRetryTransformer();
  // Polling has its own fixed retry loop in the runner, so getUpdates skips both.
  api.config.use((prev, method, payload, signal) =>
    method === "getUpdates" ? prev(method, payload, signal) : floodRetry(
      (m, p, s) => networkRetry(prev, m, p, s),
      method,
      payload,
      signal,
    )
  );
  return { outgoingWaiting };
}

/** Options for {@linkcode networkRetryTransformer}. */
export interface NetworkRetryOptions {
  /** First wait; doubles per attempt. */
  initialDelayMs?: number;
  /** Longest single wait. */
  maxDelayMs?: number;
  /** Give up (rethrow) when the next attempt would start later than this after the first. */
  giveUpAfterMs?: number;
}

/**
 * Retries calls that failed on the network (grammY's `HttpError`: refused, reset, timed out) with
 * a capped exponential backoff, then gives up so a long outage cannot hold a chat's updates
 * forever. Telegram's own errors (429, 5xx) are left to auto-retry.
 */
export function networkRetryTransformer(options: NetworkRetryOptions = {}): Transformer {
  const initial = options.initialDelayMs ?? 500;
  const max = options.maxDelayMs ?? 30_000;
  const giveUpAfter = options.giveUpAfterMs ?? 15 * 60_000;
  return async (prev, method, payload, signal) => {
    const deadline = Date.now() + giveUpAfter;
    let delay = initial;
    let uncertain = 0;
    for (;;) {
      try {
        return await prev(method, payload, signal);
      } catch (error) {
        if (!(error instanceof HttpError) || signal?.aborted || Date.now() + delay > deadline) {
          throw error;
        }
        // A send whose answer was lost may have gone through: sent again once at most, so a
        // flaky connection makes at most one duplicate. One that never left is retried freely.
        if (NOT_IDEMPOTENT.has(method) && !neverSent(error) && ++uncertain > 1) throw error;
        await sleep(delay, signal);
        delay = Math.min(max, delay * 2);
      }
    }
  };
}

/** Methods that would send a second message when repeated (edits and answers are idempotent). */
const NOT_IDEMPOTENT = new Set([
  "sendMessage",
  "sendAudio",
  "sendDocument",
  "sendPhoto",
  "sendMediaGroup",
  "copyMessage",
  "forwardMessage",
]);

/** Whether a network error happened before the request could reach Telegram. */
function neverSent(error: HttpError): boolean {
  return /tcp connect error|Connection refused|dns error|failed to lookup|Name or service not known/i
    .test(errorText(error.error));
}

/** A short, token-free description of an API error for logs. */
export function describeApiError(error: unknown): Record<string, unknown> {
  if (error instanceof GrammyError) {
    return { method: error.method, error_code: error.error_code, description: error.description };
  }
  if (error instanceof HttpError) return { http_error: String(error.error) };
  return { error: errorText(error, { withName: true }) };
}
