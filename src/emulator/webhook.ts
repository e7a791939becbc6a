/**
 * Webhook delivery: while a webhook is set, pending updates are POSTed to it one at a time, in
 * order, with the `X-Telegram-Bot-Api-Secret-Token` header. A 2xx answer confirms the update (and
 * a JSON body with a `method` is executed as a webhook reply); anything else is retried.
 *
 * @module
 */
import type { UpdateQueue } from "./update_queue.ts";

/** Where updates go. */
export interface WebhookTarget {
  /** The URL updates are POSTed to. */
  url: string;
  /** Value of the X-Telegram-Bot-Api-Secret-Token header. */
  secretToken?: string;
}

/** Executes a webhook reply (`{ method, ...params }`). */
export type WebhookReplyHandler = (
  method: string,
  params: Record<string, unknown>,
) => Promise<void>;

/** Delivers the queue's updates to a webhook while one is set. */
export class WebhookDelivery {
  readonly #queue: UpdateQueue;
  readonly #onReply: WebhookReplyHandler;
  readonly #retryDelayMs: number;
  readonly #abort = new AbortController();
  #target: WebhookTarget | undefined;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #lastError: string | undefined;

  constructor(queue: UpdateQueue, onReply: WebhookReplyHandler, retryDelayMs = 200) {
    this.#queue = queue;
    this.#onReply = onReply;
    this.#retryDelayMs = retryDelayMs;
  }

  /** The current webhook, if any. */
  get target(): WebhookTarget | undefined {
    return this.#target;
  }

  /** The last delivery error, for getWebhookInfo. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** Sets or removes the webhook and starts delivering. */
  setTarget(target: WebhookTarget | undefined): void {
    this.#target = target;
    this.#lastError = undefined;
    this.kick();
  }

  /** Starts delivering if a webhook is set and nothing is being delivered. */
  kick(): void {
    if (this.#target === undefined || this.#abort.signal.aborted) return;
    if (this.#wake) {
      this.#wake();
      return;
    }
    if (this.#loop) return;
    this.#loop = this.#run().finally(() => {
      this.#loop = undefined;
      if (this.#queue.peek()) this.kick();
    });
  }

  /** Stops delivering; resolves when the delivery loop has ended. */
  async close(): Promise<void> {
    this.#abort.abort();
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const target = this.#target;
      const update = this.#queue.peek();
      if (target === undefined || update === undefined) return;
      const delivered = await this.#deliver(target, update.update_id, JSON.stringify(update));
      if (!delivered && !signal.aborted) await this.#pause();
    }
  }

  async #deliver(target: WebhookTarget, updateId: number, body: string): Promise<boolean> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (target.secretToken) headers["x-telegram-bot-api-secret-token"] = target.secretToken;
    let reply: string;
    try {
      const response = await fetch(target.url, {
        method: "POST",
        headers,
        body,
        signal: this.#abort.signal,
      });
      reply = await response.text();
      if (!response.ok) {
        this.#lastError =
          `Wrong response from the webhook: ${response.status} ${response.statusText}`;
        return false;
      }
    } catch (error) {
      this.#lastError = `Connection failed: ${error instanceof Error ? error.message : error}`;
      return false;
    }
    this.#lastError = undefined;
    this.#queue.confirm(updateId + 1);
    await this.#handleReply(reply);
    return true;
  }

  async #handleReply(reply: string): Promise<void> {
    if (!reply.trim().startsWith("{")) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(reply);
    } catch {
      return;
    }
    if (typeof parsed !== "object" || parsed === null || !("method" in parsed)) return;
    const { method, ...params } = parsed as Record<string, unknown>;
    if (typeof method === "string") await this.#onReply(method, params);
  }

  #pause(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = () => {
        clearTimeout(this.#retryTimer);
        this.#wake = undefined;
        resolve();
      };
      this.#retryTimer = setTimeout(() => this.#wake?.(), this.#retryDelayMs);
    });
  }
}
