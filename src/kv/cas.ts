/**
 * The one compare-and-retry loop for optimistic (check-and-set) KV updates, used by the job store
 * and the rate limits: an attempt reads, checks and commits; a conflict is retried after a short
 * random wait that grows with each attempt, so competing writers spread out.
 *
 * @module
 */
import { sleep } from "../runtime/sleep.ts";

/** Retries for optimistic (check-and-set) updates before giving up. */
export const MAX_CAS_ATTEMPTS = 50;

/** Waits a little, more with each attempt (full jitter), so competing writers spread out. */
export function backoff(attempt: number): Promise<void> {
  return sleep(Math.min(50, attempt * 2) * Math.random());
}

/** Thrown when an optimistic update keeps conflicting (should not happen outside extreme load). */
export class ContentionError extends Error {
  constructor(what: string) {
    super(`gave up on ${what} after ${MAX_CAS_ATTEMPTS} conflicting attempts`);
    this.name = "ContentionError";
  }
}

/**
 * Runs `attempt` until it reports success (anything but undefined), with backoff between
 * conflicts; throws {@linkcode ContentionError} after {@linkcode MAX_CAS_ATTEMPTS}.
 */
export async function retryCas<T>(what: string, attempt: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < MAX_CAS_ATTEMPTS; i++) {
    let result: T | undefined;
    try {
      result = await attempt();
    } catch (error) {
      // Another process holding SQLite's write lock for a moment is a conflict like any other.
      if (!isBusy(error)) throw error;
    }
    if (result !== undefined) return result;
    await backoff(i + 1);
  }
  throw new ContentionError(what);
}

/** Whether an error is SQLite's "database is locked" / busy, which goes away on a retry. */
export function isBusy(error: unknown): boolean {
  return error instanceof Error &&
    /database is locked|SQLITE_BUSY|database is busy/i.test(error.message);
}

/**
 * Whether an error is the store's disk being full (SQLite's "database or disk is full", or the
 * I/O error it gives when it cannot grow its journal): writes fail until space is freed.
 */
export function isStoreFull(error: unknown): boolean {
  return error instanceof Error &&
    /database or disk is full|SQLITE_FULL|disk I\/O error|No space left on device/i.test(
      error.message,
    );
}
