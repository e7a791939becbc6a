/**
 * Outgoing Bot API behaviour: monitoring, throttling under Telegram's limits, and retries.
 *
 * Installation order matters: grammY wraps each later transformer around the earlier ones, so the
 * monitor (installed first) sees every single HTTP attempt, the throttler spaces them out, and
 * auto-retry (installed last, outermost) retries through the throttler again.
 *
 * @module
 */
import { type Api, GrammyError, HttpError, type Transformer } from "grammy";
import { autoRetry } from "@grammyjs/auto-retry";
import { apiThrottler } from "@grammyjs/transformer-throttler";
import type { AppLogger } from "../log/logger.ts";

/** What the monitor reports. */
export interface ApiMonitorSink {
  /** A call succeeded (readiness uses the time of the last success). */
  success(method: string): void;
  /** A call failed; `code` is Telegram's error code, or "network". */
  failure(method: string, code: string, willRetry: boolean): void;
}

/** Records the outcome of every Bot API attempt. */
export function monitorTransformer(sink: ApiMonitorSink): Transformer {
  return async (prev, method, payload, signal) => {
    try {
      const result = await prev(method, payload, signal);
      if (result.ok) sink.success(method);
      else {
        const code = result.error_code;
        sink.failure(method, String(code), code === 429 || code >= 500);
      }
      return result;
    } catch (error) {
      if (!(signal?.aborted)) sink.failure(method, "network", true);
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
}

/** Installs monitoring, the outgoing throttle and auto-retry on a bot's API. */
export function installApiBehaviour(api: Api, options: ApiBehaviourOptions): void {
  api.config.use(monitorTransformer(options.monitor));
  if (options.throttle ?? true) {
    api.config.use(apiThrottler({
      global: { reservoir: 30, reservoirRefreshAmount: 30, reservoirRefreshInterval: 1000 },
      group: {
        maxConcurrent: 1,
        minTime: 1000,
        reservoir: 20,
        reservoirRefreshAmount: 20,
        reservoirRefreshInterval: 60_000,
      },
      out: { maxConcurrent: 1, minTime: 1050 },
    }));
  }
  const retry = autoRetry({
    maxRetryAttempts: 6,
    maxDelaySeconds: options.maxRetryDelaySeconds ?? 600,
    rethrowInternalServerErrors: false,
    rethrowHttpErrors: false,
  });
  // Polling has its own fixed retry loop in the runner; auto-retry's backoff (doubling up to an
  // hour) would resume it long after Telegram is back.
  api.config.use((prev, method, payload, signal) =>
    method === "getUpdates" ? prev(method, payload, signal) : retry(prev, method, payload, signal)
  );
}

/** A short, token-free description of an API error for logs. */
export function describeApiError(error: unknown): Record<string, unknown> {
  if (error instanceof GrammyError) {
    return { method: error.method, error_code: error.error_code, description: error.description };
  }
  if (error instanceof HttpError) return { http_error: String(error.error) };
  if (error instanceof Error) return { error: `${error.name}: ${error.message}` };
  return { error: String(error) };
}
