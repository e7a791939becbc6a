/**
 * Every Deno KV key the bot uses, built in this one module so the schema is visible in one place.
 * All keys start with {@linkcode PREFIX}, so one KV store (a local file or a shared denokv server)
 * can hold other data too.
 *
 * | key | value |
 * | --- | --- |
 * | `["dlbot", "bucket", <bucket>, <userId>]` | token bucket state (`src/ratelimit/token_bucket.ts`) |
 * | `["dlbot", "meta", "signing_secret"]` | generated HMAC secret for download links |
 *
 * @module
 */

/** The prefix of every key. */
export const PREFIX = "dlbot";

/** Token bucket of one user; `bucket` is "commands" or "downloads". */
export function bucketKey(bucket: string, userId: number): Deno.KvKey {
  return [PREFIX, "bucket", bucket, userId];
}

/** The generated signing secret for download links, when none is configured. */
export function signingSecretKey(): Deno.KvKey {
  return [PREFIX, "meta", "signing_secret"];
}
