/**
 * The error a Bot API method answers with, in Telegram's own codes and wording.
 *
 * @module
 */

/** A failed Bot API call: becomes `{ ok: false, error_code, description, parameters? }`. */
export class BotApiError extends Error {
  constructor(
    /** HTTP status and `error_code`. */
    readonly errorCode: number,
    /** Telegram's description, e.g. "Bad Request: message text is empty". */
    readonly description: string,
    /** Seconds to wait, for 429 answers. */
    readonly retryAfter?: number,
  ) {
    super(description);
    this.name = "BotApiError";
  }

  /** The JSON body Telegram would send. */
  toBody(): Record<string, unknown> {
    return {
      ok: false,
      error_code: this.errorCode,
      description: this.description,
      ...(this.retryAfter === undefined ? {} : { parameters: { retry_after: this.retryAfter } }),
    };
  }
}

/** 400 Bad Request with Telegram's prefix. */
export function badRequest(detail: string): BotApiError {
  return new BotApiError(400, `Bad Request: ${detail}`);
}

/** 429 Too Many Requests. */
export function tooManyRequests(retryAfter: number): BotApiError {
  return new BotApiError(429, `Too Many Requests: retry after ${retryAfter}`, retryAfter);
}
