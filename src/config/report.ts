/**
 * Human and JSON output for `check-config`: the problem list, a one-screen summary of a loaded
 * configuration, and a machine-readable form. Secrets never appear in any of them.
 *
 * @module
 */
import type { Config } from "./schema.ts";
import { type ConfigProblem } from "./problem.ts";

import { type LoadResult, type LoadSuccess } from "./load.ts";
import { makeRedactor, REDACTED, SECRET_KEYS, secretValues } from "./secrets.ts";

/**
 * Formats problems as text, one block per problem, then a count line:
 *
 * ```text
 * ✗ telegram.allowed_user_ids[1]  (config/bot.toml:7)
 *     expected a number, got "abc"
 *     hint: numeric Telegram user ids, e.g. [123456789]; …
 * ```
 */
export function formatProblems(problems: readonly ConfigProblem[], file?: string): string {
  const blocks = problems.map((problem) => {
    const label = problem.path === "" ? (file ?? "configuration") : problem.path;
    const lines = [`✗ ${label}  (${problem.source})`];
    for (const line of problem.message.split("\n")) lines.push(`    ${line}`);
    if (problem.hint) lines.push(`    hint: ${problem.hint}`);
    return lines.join("\n");
  });
  const n = problems.length;
  const where = file === undefined ? "" : ` (${file} and environment)`;
  const count = `${n} configuration ${n === 1 ? "problem" : "problems"}${where}`;
  return [...blocks, count].join("\n\n") + "\n";
}

/** "3 (1, 2, 3)" or "none"; long lists are shortened. */
function idList(ids: readonly number[]): string {
  if (ids.length === 0) return "none";
  const shown = ids.slice(0, 5).join(", ");
  return `${ids.length} (${shown}${ids.length > 5 ? ", …" : ""})`;
}

/** "set (env TELEGRAM_BOT_TOKEN)" or the fallback; never the value. */
function secretState(
  value: string | undefined,
  source: string | undefined,
  fallback: string,
): string {
  return value === undefined ? fallback : `set (${source ?? "config"})`;
}

/**
 * A one-screen summary of a loaded configuration: the file used, Telegram, HTTP, storage,
 * downloader, limits and logging, then the notes. Secrets are shown only as "set".
 */
export function formatSummary(result: LoadSuccess): string {
  const { config: c, sources } = result;
  const rows: Array<[string, string]> = [
    ["config", result.file ?? "built-in defaults (no config file)"],
    [
      "token",
      secretState(
        c.telegram.token,
        sources.get("telegram.token"),
        "not set (sandbox chat only)",
      ),
    ],
    ["api root", c.telegram.api_root],
    [
      "mode",
      c.telegram.mode === "webhook"
        ? `webhook → ${c.telegram.webhook.url ?? "(no url)"}`
        : "polling",
    ],
    ["allowed users", idList(c.telegram.allowed_user_ids)],
    ["admins", idList(c.telegram.admin_user_ids)],
    ["upload limit", `${c.telegram.upload_limit_mb} MB`],
    ["http listen", c.http.listen],
    [
      "public base url",
      c.http.public_base_url ?? `not set (links use http://${c.http.listen})`,
    ],
    [
      "signing secret",
      secretState(
        c.http.signing_secret,
        sources.get("http.signing_secret"),
        "generated and kept in KV",
      ),
    ],
    ["data dir", c.storage.data_dir],
    ["kv path", c.storage.kv_path ?? `default (inside ${c.storage.data_dir})`],
    ["downloads dir", c.storage.downloads_dir ?? `${c.storage.data_dir}/downloads`],
    [
      "downloader",
      `${c.downloader.command} (output ${c.downloader.output_format}, timeout ${c.downloader.timeout_minutes} min` +
      (Object.keys(c.downloader.env).length > 0
        ? `, env ${Object.keys(c.downloader.env).join(", ")})`
        : ")"),
    ],
    [
      "jobs",
      `${c.jobs.max_concurrent} at once, ${c.jobs.max_active_per_user} active per user, queue ${c.jobs.max_queue_length}, ${c.jobs.max_attempts} attempts`,
    ],
    [
      "rate limits",
      `commands ${c.rate_limit.commands_capacity} burst + ${c.rate_limit.commands_per_minute}/min; downloads ${c.rate_limit.downloads_capacity} burst + ${c.rate_limit.downloads_per_hour}/h`,
    ],
    ["log", `${c.log.level}, format ${c.log.format}`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`);
  if (result.notes.length > 0) {
    lines.push("", "notes:", ...result.notes.map((note) => `  - ${note}`));
  }
  return makeRedactor(secretValues(c))(lines.join("\n") + "\n");
}

/** Deep copy with every string passed through `clean`. */
function mapStrings(value: unknown, clean: (s: string) => string): unknown {
  if (typeof value === "string") return clean(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, clean));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, mapStrings(v, clean)]),
    );
  }
  return value;
}

/** The config with secret keys and downloader environment values replaced by "[redacted]". */
export function redactedConfig(config: Config): unknown {
  const copy = mapStrings(config, makeRedactor(secretValues(config))) as Record<
    string,
    Record<string, unknown>
  >;
  for (const key of SECRET_KEYS) {
    const path = key.split(".");
    let table: Record<string, unknown> | undefined = copy;
    for (const segment of path.slice(0, -1)) {
      table = table?.[segment] as Record<string, unknown> | undefined;
    }
    const last = path[path.length - 1]!;
    if (table && table[last] !== undefined) table[last] = REDACTED;
  }
  const env = copy.downloader?.env as Record<string, unknown> | undefined;
  if (env) { for (const name of Object.keys(env)) env[name] = REDACTED; }
  return copy;
}

/** The JSON form for `check-config --json`: the redacted config and sources, or the problems. */
export function toJson(result: LoadResult): unknown {
  if (!result.ok) {
    return { ok: false, file: result.file ?? null, problems: result.problems };
  }
  return {
    ok: true,
    file: result.file ?? null,
    config: redactedConfig(result.config),
    sources: Object.fromEntries(result.sources),
    notes: result.notes.map(makeRedactor(secretValues(result.config))),
  };
}

/**
 * What `run` needs in production (with a real Telegram token) beyond a valid file: a token.
 * Webhook requirements are already checked by the schema. See also
 * {@linkcode productionWarnings}.
 */
export function productionProblems(
  config: Config,
  sources?: ReadonlyMap<string, string>,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (config.telegram.token === undefined) {
    problems.push({
      path: "telegram.token",
      message: "no bot token is set",
      source: sources?.get("telegram.token") ?? "default",
      hint:
        "set TELEGRAM_BOT_TOKEN, or TELEGRAM_BOT_TOKEN_FILE=/path/to/file, or systemd LoadCredential=telegram_bot_token:/path/to/file (or telegram.token in the file)",
    });
  }
  return problems;
}

/**
 * What runs but probably not as meant: an empty whitelist (a first run: the bot answers
 * everyone with their numeric id only, so people can send it to the admin), and download links
 * that would point at the bot's own listen address.
 */
export function productionWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (
    config.telegram.allowed_user_ids.length === 0 && config.telegram.admin_user_ids.length === 0
  ) {
    warnings.push(
      "telegram.allowed_user_ids is empty: the bot answers everyone with their numeric user id " +
        "and nothing else. Ask people to send /start, add their ids " +
        "(TELEGRAM_ALLOWED_USER_IDS=123456789,987654321) and restart.",
    );
  }
  if (config.http.public_base_url === undefined) {
    warnings.push(
      `PUBLIC_BASE_URL (http.public_base_url) is not set: download links will point at ` +
        `http://${config.http.listen}, which only this machine can open. Set it to the public ` +
        "URL of the bot's HTTP server (behind your reverse proxy).",
    );
  }
  return warnings;
}
