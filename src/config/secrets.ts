/**
 * Keeping secrets out of output: the list of configured secret values and redactors for any
 * text (log lines, error messages, problem reports) that might contain them.
 *
 * @module
 */
import type { Config } from "./schema.ts";

/** What a secret is replaced with. */
export const REDACTED = "[redacted]";

/** Dotted config keys that hold secrets; their values are never shown. */
export const SECRET_KEYS: readonly string[] = [
  "telegram.token",
  "telegram.webhook.secret_token",
  "http.signing_secret",
  "library.subsonic_password",
  "storage.kv_access_token",
];

/** The configured secret values (bot token, signing secret, webhook secret) that are set. */
export function secretValues(config: Config): string[] {
  return [
    config.telegram.token,
    config.http.signing_secret,
    config.telegram.webhook.secret_token,
    config.library.subsonic_password,
    config.storage.kv_access_token,
  ]
    .filter((value): value is string => typeof value === "string" && value !== "");
}

/**
 * Secrets shorter than this are not searched for in text: replacing every "x" of a report with
 * `[redacted]` would show the secret by its absence. They are still never shown by key (a
 * secret key's value is always replaced), and the schema refuses most of them anyway.
 */
export const MIN_REDACTED_LENGTH = 8;

/** Replaces every occurrence of each secret in `text` with `[redacted]`. Longest first. */
export function redact(text: string, secrets: readonly string[]): string {
  const sorted = [...new Set(secrets)].filter((s) => s.length >= MIN_REDACTED_LENGTH)
    .sort((a, b) => b.length - a.length);
  let out = text;
  for (const secret of sorted) out = out.split(secret).join(REDACTED);
  return out;
}

/**
 * Anything shaped like a Telegram bot token: the bot id, a colon and 30+ token characters, as
 * in Bot API URLs (`https://api.telegram.org/bot123456:AAE…/getMe`).
 */
const TOKEN_PATTERN = /\d{3,}:[A-Za-z0-9_-]{30,}/g;

/** Replaces anything that looks like a bot token (even one not configured) with `[redacted]`. */
export function redactTokens(text: string): string {
  return text.replace(TOKEN_PATTERN, REDACTED);
}

/** A function that redacts the given secrets and anything token-shaped. */
export function makeRedactor(secrets: readonly string[]): (text: string) => string {
  const list = [...secrets];
  return (text) => redactTokens(redact(text, list));
}

/** How a secret value is described instead of shown: "(redacted, 46 characters)". */
export function describeSecret(value: string): string {
  return `(redacted, ${value.length} characters)`;
}
