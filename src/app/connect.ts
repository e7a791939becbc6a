/**
 * Connecting to Telegram at start-up: `getMe` until it answers, every failure logged, a rejected
 * token fatal at once.
 *
 * @module
 */
import { Api, GrammyError } from "grammy";
import type { UserFromGetMe } from "grammy/types";
import { describeApiError } from "../bot/api.ts";
import type { Log } from "../log/logger.ts";
import { sleep } from "../runtime/sleep.ts";

/** Why the bot cannot keep running. */
export class FatalError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FatalError";
  }
}

/** Telegram answers these to a bad token: retrying cannot help. */
export function isTokenRejected(error: unknown): boolean {
  return error instanceof GrammyError && (error.error_code === 401 || error.error_code === 404);
}

/** Longest wait for one `getMe` while connecting (a black-holed address would hang otherwise). */
const CONNECT_ATTEMPT_TIMEOUT_SECONDS = 15;

/** What {@linkcode connectToTelegram} needs. */
export interface ConnectOptions {
  token: string;
  apiRoot: string;
  logger: Log;
  /** Aborting gives up (shutdown during start-up); the last error is thrown. */
  signal: AbortSignal;
}

/**
 * Fetches the bot's identity, logging every failed attempt. A bare client is used on purpose:
 * `bot.init()` and the auto-retry transformer retry network errors silently and forever, so an
 * unreachable Telegram would never show up in the log. Throws {@linkcode FatalError} for a
 * rejected token.
 */
export async function connectToTelegram(options: ConnectOptions): Promise<UserFromGetMe> {
  const probe = new Api(options.token, {
    apiRoot: options.apiRoot,
    timeoutSeconds: CONNECT_ATTEMPT_TIMEOUT_SECONDS,
  });
  for (let attempt = 1;; attempt++) {
    try {
      return await probe.getMe();
    } catch (error) {
      if (options.signal.aborted) throw error;
      if (isTokenRejected(error)) {
        throw new FatalError(
          "Telegram rejected the bot token (401 Unauthorized): check TELEGRAM_BOT_TOKEN " +
            "(or the token file/credential); a revoked token needs a new one from @BotFather",
          { cause: error },
        );
      }
      const retryAfterMs = error instanceof GrammyError
        ? (error.parameters.retry_after ?? 0) * 1000
        : 0;
      const waitMs = Math.max(retryAfterMs, Math.min(60_000, 1000 * 2 ** Math.min(attempt, 6)));
      options.logger.warn("cannot reach Telegram yet; retrying", {
        attempt,
        retry_in_ms: waitMs,
        ...describeApiError(error),
      });
      await sleep(waitMs, options.signal);
    }
  }
}
