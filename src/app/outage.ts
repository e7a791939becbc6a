/**
 * Telegram outages as an admin wants to see them: one warning when Telegram stops answering
 * (with the error), one line when it answers again (with how long it was away), a counter and a
 * gauge, instead of silence or a line per retry.
 *
 * @module
 */
import type { Log } from "../log/logger.ts";
import type { Metrics } from "../metrics/metrics.ts";

/** Follows the outcome of Bot API calls and reports outages. */
export class OutageTracker {
  readonly #logger: Log;
  readonly #metrics: Metrics;
  readonly #now: () => number;
  #since?: number;
  /** Told when an outage ends, with its length in seconds. */
  onEnd?: (seconds: number) => void;

  constructor(options: { logger: Log; metrics: Metrics; now: () => number }) {
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    this.#now = options.now;
    this.#metrics.telegramReachable.set(1);
  }

  /** Whether an outage is going on. */
  get down(): boolean {
    return this.#since !== undefined;
  }

  /** A call failed on the network or with a 5xx: an outage starts, unless one is on. */
  failed(method: string, detail: string): void {
    if (this.#since !== undefined) return;
    this.#since = this.#now();
    this.#metrics.telegramOutages.inc();
    this.#metrics.telegramReachable.set(0);
    this.#logger.warn("Telegram is unreachable; retrying", { method, error: detail });
  }

  /** A call went through: an outage going on ends. */
  answered(): void {
    if (this.#since === undefined) return;
    const seconds = Math.round((this.#now() - this.#since) / 100) / 10;
    this.#since = undefined;
    this.#metrics.telegramReachable.set(1);
    this.#logger.info("Telegram is reachable again", { outage_seconds: seconds });
    this.onEnd?.(seconds);
  }
}
