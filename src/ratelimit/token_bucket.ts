/**
 * Per-user token buckets stored in Deno KV, so limits hold across restarts and across several
 * instances sharing one denokv. Updates use `kv.atomic()` check-and-set with bounded retries.
 *
 * @module
 */
import { z } from "zod";
import { bucketKey } from "../kv/keys.ts";
import { isStoreFull, retryCas } from "../kv/cas.ts";

/** Stored state of one user's bucket. */
const bucketStateSchema = z.object({
  /** Tokens left at `updatedAt` (fractional while refilling). */
  tokens: z.number().min(0),
  /** Epoch milliseconds of the last update. */
  updatedAt: z.number(),
  /** Whether the user was already told to slow down in the current throttling episode. */
  deniedNotified: z.boolean(),
});

/** A bucket's stored state. */
export type BucketState = z.infer<typeof bucketStateSchema>;

/** Outcome of {@linkcode TokenBucketLimiter.take}. */
export interface TakeResult {
  /** Whether the action may go ahead (tokens were taken). */
  allowed: boolean;
  /** Seconds (fractional) until `cost` tokens are available again; 0 when allowed. */
  retryAfterSeconds: number;
  /** Whole tokens left after this take. */
  remaining: number;
  /**
   * True only for the first denial since the bucket last allowed something: send one
   * "slow down" message per throttling episode, and stay silent for the rest.
   */
  firstDenial: boolean;
}

/** Options of {@linkcode TokenBucketLimiter}. */
export interface TokenBucketOptions {
  /** Bucket name used in the KV key, e.g. "commands" or "downloads". */
  bucket: string;
  /** Bucket size: the largest burst. */
  capacity: number;
  /** Tokens added per second (e.g. 30 per minute → 0.5). */
  refillPerSecond: number;
  /** Clock in epoch milliseconds; injectable for tests. Default `Date.now`. */
  now?: () => number;
}

/** A per-user token bucket rate limiter backed by Deno KV. */
export class TokenBucketLimiter {
  readonly #kv: Deno.Kv;
  readonly #bucket: string;
  readonly #capacity: number;
  readonly #refillPerMs: number;
  readonly #now: () => number;
  readonly #expireInMs: number;

  constructor(kv: Deno.Kv, options: TokenBucketOptions) {
    if (!(options.capacity >= 1)) throw new RangeError("capacity must be at least 1");
    if (!(options.refillPerSecond > 0)) throw new RangeError("refillPerSecond must be positive");
    this.#kv = kv;
    this.#bucket = options.bucket;
    this.#capacity = options.capacity;
    this.#refillPerMs = options.refillPerSecond / 1000;
    this.#now = options.now ?? Date.now;
    // An idle bucket is full again after capacity / rate; keep it a minute longer, then drop it.
    this.#expireInMs = Math.ceil(options.capacity / this.#refillPerMs) + 60_000;
  }

  /** Tokens available at `now` for a stored state (or a full bucket when there is none). */
  #refilled(state: BucketState | undefined, now: number): BucketState {
    if (!state) return { tokens: this.#capacity, updatedAt: now, deniedNotified: false };
    const elapsed = Math.max(0, now - state.updatedAt);
    return {
      tokens: Math.min(this.#capacity, state.tokens + elapsed * this.#refillPerMs),
      updatedAt: now,
      deniedNotified: state.deniedNotified,
    };
  }

  /**
   * Takes `cost` tokens from `userId`'s bucket if it has them. Throws a RangeError when `cost`
   * exceeds the capacity (it could never be allowed) and `ContentionError` (`src/kv/cas.ts`)
   * when the update keeps losing races.
   */
  async take(userId: number, cost = 1): Promise<TakeResult> {
    if (!(cost > 0) || cost > this.#capacity) {
      throw new RangeError(`cost must be in (0, ${this.#capacity}], got ${cost}`);
    }
    const key = bucketKey(this.#bucket, userId);
    return await retryCas(`take from the ${this.#bucket} bucket`, async () => {
      const entry = await this.#kv.get<unknown>(key);
      const stored = bucketStateSchema.safeParse(entry.value);
      const now = this.#now();
      const state = this.#refilled(stored.success ? stored.data : undefined, now);

      let result: TakeResult;
      let next: BucketState;
      if (state.tokens >= cost) {
        // A throttling episode ends when the user has been quiet long enough for the bucket to
        // fill up again; until then a spammer who gets the odd command through is not told
        // "slow down" again after every refill.
        next = {
          tokens: state.tokens - cost,
          updatedAt: now,
          deniedNotified: state.deniedNotified && state.tokens < this.#capacity,
        };
        result = {
          allowed: true,
          retryAfterSeconds: 0,
          remaining: Math.floor(next.tokens),
          firstDenial: false,
        };
      } else {
        const retryAfterSeconds = (cost - state.tokens) / this.#refillPerMs / 1000;
        result = {
          allowed: false,
          retryAfterSeconds,
          remaining: Math.floor(state.tokens),
          firstDenial: !state.deniedNotified,
        };
        // Later denials change nothing that refill cannot recompute: no write needed.
        if (state.deniedNotified) return result;
        next = { ...state, deniedNotified: true };
      }
      try {
        const commit = await this.#kv.atomic()
          .check(entry)
          .set(key, next, { expireIn: this.#expireInMs })
          .commit();
        return commit.ok ? result : undefined;
      } catch (error) {
        // On a full disk the decision stands unrecorded: a command that writes nothing else
        // still gets its answer, and the limit holds again once the store can write.
        if (isStoreFull(error)) return result;
        throw error;
      }
    });
  }
}
