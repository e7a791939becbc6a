/**
 * Loads the configuration: `config/bot.toml` (or an explicit path, or built-in defaults when
 * there is no file), environment overrides on top, then one zod pass. Every problem is reported
 * at once with its key path, where the value came from, and a hint.
 *
 * @module
 */
import { parse, TomlError } from "smol-toml";
import type { z } from "zod";
import { type Config, configSchema } from "./schema.ts";
import { type EnvOverride, readEnvOverrides } from "./env.ts";
import { knownKeysAt, leafKeyPaths, suggestKey, tablesWithKey } from "./known_keys.ts";
import { formatPath, type KeyLines, keyLines } from "./toml_lines.ts";
import { describeSecret, makeRedactor, SECRET_KEYS } from "./secrets.ts";
import { errorText } from "../runtime/error_text.ts";

/** Where the configuration file is looked for when no path is given (relative to cwd). */
export const DEFAULT_CONFIG_PATH = "config/bot.toml";

/** One configuration problem. */
export interface ConfigProblem {
  /** Dotted key path, e.g. "telegram.allowed_user_ids[1]"; "" for the file as a whole. */
  path: string;
  /** What is wrong, for people. Never contains a secret. */
  message: string;
  /** Where the value came from: "config/bot.toml:12", "env TELEGRAM_ALLOWED_USER_IDS", "default". */
  source: string;
  /** How to fix it. */
  hint?: string;
}

/** A loaded configuration, with where each value came from. */
export interface LoadSuccess {
  ok: true;
  config: Config;
  /** The file read, when one was. */
  file?: string;
  /** Dotted leaf key → "config/bot.toml:12" | "env NAME" | "default" (or another secret source). */
  sources: Map<string, string>;
  /** Remarks for the summary (no file used, overrides, no token, …). */
  notes: string[];
}

/** A configuration that could not be loaded. */
export interface LoadFailure {
  ok: false;
  /** The file read (or looked for), when there was one. */
  file?: string;
  /** Every problem found. */
  problems: ConfigProblem[];
}

/** Result of {@linkcode loadConfig}. */
export type LoadResult = LoadSuccess | LoadFailure;

/** Options of {@linkcode loadConfig}. */
export interface LoadOptions {
  /** Explicit config file; when missing that is a problem. Default: `config/bot.toml` if present. */
  path?: string;
  /** The environment to read overrides from (pass `Deno.env.toObject()`). */
  env: Record<string, string | undefined>;
}

/** Per-key hints, shown under a problem with that key. Keys are dotted schema leaf paths. */
export const KEY_HINTS: Readonly<Record<string, string>> = {
  "telegram.token":
    "get it from @BotFather; prefer TELEGRAM_BOT_TOKEN, TELEGRAM_BOT_TOKEN_FILE or systemd LoadCredential=telegram_bot_token over the file",
  "telegram.api_root":
    'an http(s) URL without a path, e.g. "https://api.telegram.org" or a self-hosted Bot API server',
  "telegram.allowed_user_ids":
    "numeric Telegram user ids, e.g. [123456789]; ask the user to send /start to the bot to see their id",
  "telegram.admin_user_ids":
    "numeric Telegram user ids, e.g. [123456789]; admins should also be in allowed_user_ids",
  "telegram.upload_limit_mb":
    "50 for the public Bot API; up to 2000 with a self-hosted Bot API server",
  "telegram.mode":
    '"polling" (no public URL needed) or "webhook" (needs telegram.webhook.url and secret_token)',
  "telegram.webhook.url":
    'the public https URL Telegram posts updates to, e.g. "https://bot.example.org/telegram/webhook" ' +
    "(plain http only for a Bot API server on the same machine: 127.0.0.1 or localhost)",
  "telegram.webhook.secret_token":
    "16-256 characters of A-Z, a-z, 0-9, _ and -; e.g. the output of `openssl rand -hex 32`",
  "http.listen": 'host:port, e.g. "127.0.0.1:8080" or "0.0.0.0:8080" in a container',
  "http.public_base_url":
    'the URL users reach the HTTP server at, e.g. "https://dl.example.org"; used in download links',
  "http.signing_secret":
    "at least 32 random characters, e.g. `openssl rand -hex 32`; or leave unset to generate one",
  "http.link_ttl_hours": "hours a download link stays valid, e.g. 72",
  "storage.data_dir": 'a directory the bot may write to, e.g. "./data" or "/var/lib/dlbot"',
  "storage.kv_path":
    'a file path, ":memory:", or the http(s) URL of a denokv server; unset keeps KV in data_dir',
  "storage.downloads_dir": "a directory for finished downloads; default <data_dir>/downloads",
  "downloader.command": 'executable name on PATH or absolute path, e.g. "spotdl"',
  "downloader.args":
    'a list of strings; {url} and {output_dir} are replaced, e.g. ["download", "{url}"]',
  "downloader.output_format":
    '"spotdl" for spotDL\'s --simple-tui output, "jsonl" for one JSON object per line',
  "downloader.timeout_minutes": "minutes before a download is stopped, e.g. 60",
  "downloader.kill_grace_seconds": "seconds between SIGTERM and SIGKILL, 0-300",
  "downloader.env": 'a table of strings, e.g. [downloader.env] then SPOTDL_CACHE = "/tmp/cache"',
  "jobs.max_concurrent": "a whole number from 1 to 64",
  "jobs.max_active_per_user": "a whole number from 1 to 1000",
  "jobs.max_queue_length": "a whole number from 1 to 100000",
  "jobs.max_attempts": "a whole number from 1 to 10",
  "jobs.lease_seconds": "a whole number of seconds from 5 to 3600",
  "jobs.dedupe_hours": "hours a finished download is reused for the same link; 0 disables",
  "jobs.retention_days": "days finished jobs and files are kept, e.g. 7",
  "jobs.confirm_above_tracks":
    "a whole number ≥ 0: lists with more songs than this need the user's confirmation; 0 disables",
  "rate_limit.commands_capacity": "a whole number ≥ 1: commands a user may send in a burst",
  "rate_limit.commands_per_minute": "commands per minute refilled, e.g. 30",
  "rate_limit.downloads_capacity": "a whole number ≥ 1: downloads a user may start in a burst",
  "rate_limit.downloads_per_hour": "downloads per hour refilled, e.g. 30",
  "log.level": '"debug", "info", "warning" or "error"',
  "log.format": '"auto" (text on a terminal, JSON otherwise), "json" or "text"',
  "shutdown.grace_seconds": "seconds running jobs get to finish after SIGTERM, 0-3600",
  "sandbox.user_id": "the numeric user id the terminal chat speaks as, e.g. 10000",
};

/** The hint for a key path or its nearest ancestor (array indexes ignored). */
function hintFor(path: readonly PropertyKey[]): string | undefined {
  const keys = path.filter((s): s is string => typeof s === "string");
  for (let k = keys.length; k > 0; k--) {
    const hint = KEY_HINTS[keys.slice(0, k).join(".")];
    if (hint !== undefined) return hint;
  }
  return undefined;
}

/** The value at `path` in a parsed document, or undefined. */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = root;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

/** Whether a value is a plain table (not an array or a TOML date). */
function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date);
}

/** Returns a copy of `root` with `value` set at `path`, creating tables along the way. */
function setPath(
  root: Record<string, unknown>,
  path: readonly string[],
  value: unknown,
): Record<string, unknown> {
  const [head, ...rest] = path;
  if (head === undefined) return root;
  if (rest.length === 0) return { ...root, [head]: value };
  const child = root[head];
  if (child !== undefined && !isTable(child)) return root; // the file's own error is reported
  return { ...root, [head]: setPath(child ?? {}, rest, value) };
}

/** Whether a key path is a secret (its value is never shown). */
function isSecretPath(path: readonly PropertyKey[]): boolean {
  return SECRET_KEYS.includes(path.filter((s) => typeof s === "string").join("."));
}

/**
 * How a value is shown in a message; secrets are never shown. `clean` redacts secrets in
 * strings before they are shortened (a cut-off token would escape redaction).
 */
function describeValue(value: unknown, secret: boolean, clean: (s: string) => string): string {
  if (secret && typeof value === "string") return describeSecret(value);
  if (secret) return "a value of the wrong type";
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") {
    const text = clean(value);
    return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}…` : text);
  }
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  if (Array.isArray(value)) return "a list";
  if (value instanceof Date) return "a date";
  return "a table";
}

const EXPECTED: Readonly<Record<string, string>> = {
  number: "a number",
  int: "a whole number",
  string: "a string (in quotes)",
  boolean: "true or false",
  array: "a list, e.g. [1, 2]",
  object: "a table",
  record: "a table",
};

/** Bounds wording: "greater than 0", "at least 5", "at most 64". */
function bound(kind: "min" | "max", value: unknown, inclusive: boolean | undefined): string {
  if (kind === "min") return inclusive === false ? `greater than ${value}` : `at least ${value}`;
  return inclusive === false ? `less than ${value}` : `at most ${value}`;
}

/** Messages for zod's built-in checks (schema-specific messages take precedence over these). */
function issueMessage(
  issue: z.core.$ZodRawIssue,
  clean: (s: string) => string,
): string | undefined {
  const secret = isSecretPath(issue.path ?? []);
  const got = describeValue(issue.input, secret, clean);
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return `is required`;
      return `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${got}`;
    case "too_small":
    case "too_big": {
      const kind = issue.code === "too_small" ? "min" : "max";
      const limit = issue.code === "too_small" ? issue.minimum : issue.maximum;
      if (issue.origin === "string") {
        return `must be ${bound(kind, limit, issue.inclusive)} characters long, got ${got}`;
      }
      if (issue.origin === "array") {
        return `must have ${bound(kind, limit, issue.inclusive)} entries`;
      }
      return `must be ${bound(kind, limit, issue.inclusive)}, got ${got}`;
    }
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, got ${got}`;
    case "invalid_format":
      if (issue.format === "url") {
        const protocols = String(issue.pattern ?? "");
        if (protocols === "") return `is not a valid URL, got ${got}`;
        const what = protocols.includes("https?") ? "an http:// or https://" : "an https://";
        return `must be ${what} URL, got ${got}`;
      }
      return `has the wrong format, got ${got}`;
    case "not_multiple_of":
      return `must be a multiple of ${issue.divisor}, got ${got}`;
    default:
      return undefined;
  }
}

/** Reading and parsing the file: the document, its key lines, and any problem. */
interface FileRead {
  file?: string;
  document: Record<string, unknown>;
  lines: KeyLines;
  problem?: ConfigProblem;
  mode?: number | null;
}

const FILE_HINT =
  "pass the path of an existing file, or copy config/bot.example.toml to config/bot.toml";

/** Reads and parses the config file (explicit, default, or none). */
async function readFile(path: string | undefined, notes: string[]): Promise<FileRead> {
  const file = path ?? DEFAULT_CONFIG_PATH;
  let text: string;
  let mode: number | null | undefined;
  try {
    text = await Deno.readTextFile(file);
    mode = (await Deno.stat(file)).mode;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound && path === undefined) {
      notes.push(
        `no config file (${DEFAULT_CONFIG_PATH} not found): built-in defaults and environment`,
      );
      return { document: {}, lines: new Map() };
    }
    const reason = error instanceof Deno.errors.NotFound
      ? "config file not found"
      : error instanceof Deno.errors.PermissionDenied
      ? "config file not readable (permission denied)"
      : error instanceof Deno.errors.IsADirectory
      ? "config path is a directory, not a file"
      : `config file cannot be read: ${errorText(error)}`;
    return {
      file,
      document: {},
      lines: new Map(),
      problem: { path: "", message: `${reason}: ${file}`, source: file, hint: FILE_HINT },
    };
  }
  try {
    const document = parse(text, { unsafeKeyBehaviour: "throw" });
    return { file, document, lines: keyLines(text), mode };
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    return { file, document: {}, lines: new Map(), problem: syntaxProblem(file, text, error) };
  }
}

/** A TOML syntax error as a problem. smol-toml's code excerpt is not used: it may show secrets. */
function syntaxProblem(file: string, text: string, error: TomlError): ConfigProblem {
  const reason = (error.message.split("\n")[0] ?? "").replace(/^Invalid TOML document:\s*/, "");
  const line = text.split("\n")[error.line - 1] ?? "";
  const shown = /token|secret/i.test(line) ? line.replace(/=.*/, "= [redacted]") : line;
  return {
    path: "",
    message: `TOML syntax error at line ${error.line}, column ${error.column}: ${reason}\n` +
      `${error.line} | ${shown.trimEnd()}`,
    source: `${file}:${error.line}`,
    hint:
      'check quotes, brackets and commas near there; strings need quotes ("…"), lists look like [1, 2]',
  };
}

/** Resolves where a value (or a problem at a key path) came from. */
function makeSourceOf(
  file: string | undefined,
  lines: KeyLines,
  overrides: readonly EnvOverride[],
): (path: readonly PropertyKey[]) => string {
  return (path) => {
    const keys = path.filter((s): s is string => typeof s === "string");
    for (const override of overrides) {
      const n = override.path.length;
      if (n <= keys.length && override.path.every((segment, i) => keys[i] === segment)) {
        return override.source;
      }
    }
    if (file !== undefined) {
      for (let k = path.length; k > 0; k--) {
        const line = lines.get(formatPath(path.slice(0, k)));
        if (line !== undefined) return `${file}:${line}`;
      }
    }
    return "default";
  };
}

/** Problems for an unrecognized key, with "did you mean" against the schema's keys. */
function unknownKeyProblem(
  parent: readonly PropertyKey[],
  key: string,
  document: unknown,
  sourceOf: (path: readonly PropertyKey[]) => string,
): ConfigProblem {
  const path = [...parent, key];
  const isSection = isTable(valueAt(document, path));
  const known = knownKeysAt(parent) ?? [];
  const where = parent.length === 0 ? "at the top level" : `in [${formatPath(parent)}]`;
  const message = isSection && parent.length === 0
    ? `unknown section [${key}]`
    : `unknown key "${key}" ${where}`;
  const suggestion = suggestKey(key, known);
  let hint: string;
  if (suggestion !== undefined) {
    hint = `did you mean \`${suggestion}\`?`;
  } else {
    const elsewhere = tablesWithKey(key).filter((t) => t !== formatPath(parent));
    if (elsewhere.length > 0) {
      hint = `\`${key}\` belongs in ${
        elsewhere.map((t) => t === "" ? "the top level" : `[${t}]`).join(" or ")
      }`;
    } else {
      hint = `known ${parent.length === 0 ? "sections" : "keys here"}: ${known.join(", ")}`;
    }
  }
  return { path: formatPath(path), message, source: sourceOf(path), hint };
}

/** Problems in file order (by line), then environment problems, then the rest; stable. */
function sortProblems(
  problems: readonly ConfigProblem[],
  file: string | undefined,
): ConfigProblem[] {
  const rank = (p: ConfigProblem): number => {
    if (file !== undefined && p.source.startsWith(`${file}:`)) {
      return Number(p.source.slice(file.length + 1)) || 0;
    }
    if (p.source === file) return 0;
    return p.source.startsWith("env ") ? 1e9 : 2e9;
  };
  return problems.map((p, i) => ({ p, i, r: rank(p) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map(({ p }) => p);
}

/**
 * Loads and validates the configuration. Never throws for bad configuration: problems are
 * returned, all of them at once. The result never contains a secret in any text.
 */
export async function loadConfig(options: LoadOptions): Promise<LoadResult> {
  const notes: string[] = [];
  const read = await readFile(options.path, notes);
  const env = await readEnvOverrides(options.env);
  notes.push(...env.notes);
  const problems: ConfigProblem[] = [];
  if (read.problem) problems.push(read.problem);
  problems.push(...env.problems);
  const { file, document, lines } = read;
  const sourceOf = makeSourceOf(file, lines, env.overrides);

  let merged: Record<string, unknown> = document;
  for (const override of env.overrides) merged = setPath(merged, override.path, override.value);

  const rawSecrets = SECRET_KEYS.map((key) => valueAt(merged, key.split(".")))
    .filter((v): v is string => typeof v === "string" && v !== "");
  const clean = makeRedactor(rawSecrets);
  const scrub = (p: ConfigProblem): ConfigProblem => ({
    ...p,
    message: clean(p.message),
    ...(p.hint === undefined ? {} : { hint: clean(p.hint) }),
  });

  if (read.problem) return { ok: false, file, problems: problems.map(scrub) };

  const mapped = new Set<string>();
  const parsed = configSchema.safeParse(merged, {
    error: (issue) => {
      const message = issueMessage(issue, clean);
      if (message !== undefined) mapped.add(formatPath(issue.path ?? []));
      return message;
    },
  });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys) {
          problems.push(unknownKeyProblem(issue.path, key, merged, sourceOf));
        }
        continue;
      }
      const path = formatPath(issue.path);
      let message = issue.message;
      const value = valueAt(merged, issue.path);
      if (!mapped.has(path) && value !== undefined) {
        message += `, got ${describeValue(value, isSecretPath(issue.path), clean)}`;
      }
      const hint = hintFor(issue.path);
      problems.push({
        path,
        message,
        source: sourceOf(issue.path),
        ...(hint === undefined ? {} : { hint }),
      });
    }
  }
  if (problems.length > 0 || !parsed.success) {
    return { ok: false, file, problems: sortProblems(problems, file).map(scrub) };
  }

  const config = parsed.data;
  const sources = new Map<string, string>();
  for (const leaf of leafKeyPaths()) {
    const path = leaf.split(".");
    const fromEnv = env.overrides.some((o) => o.path.join(".") === leaf);
    sources.set(
      leaf,
      fromEnv || valueAt(document, path) !== undefined ? sourceOf(path) : "default",
    );
  }
  notes.push(...overrideNotes(file, lines, env.overrides, document));
  notes.push(...configNotes(config, sources, file, read.mode));
  return { ok: true, config, ...(file === undefined ? {} : { file }), sources, notes };
}

/** Notes for environment values that replace values from the file. */
function overrideNotes(
  file: string | undefined,
  lines: KeyLines,
  overrides: readonly EnvOverride[],
  document: unknown,
): string[] {
  if (file === undefined) return [];
  return overrides
    .filter((o) => valueAt(document, o.path) !== undefined)
    .map((o) => {
      const line = lines.get(formatPath(o.path));
      return `${o.path.join(".")}: ${o.source} overrides ${file}${line ? `:${line}` : ""}`;
    });
}

/** Notes about the loaded configuration that an operator should know. */
function configNotes(
  config: Config,
  sources: ReadonlyMap<string, string>,
  file: string | undefined,
  mode: number | null | undefined,
): string[] {
  const notes: string[] = [];
  if (config.telegram.token === undefined) {
    notes.push(
      "no token: `run` will start the sandbox chat (set TELEGRAM_BOT_TOKEN to talk to Telegram)",
    );
  } else if (config.telegram.allowed_user_ids.length === 0) {
    notes.push("no allowed users: the bot refuses everyone until telegram.allowed_user_ids is set");
  }
  const tokenSource = sources.get("telegram.token") ?? "";
  if (
    file !== undefined && tokenSource.startsWith(`${file}:`) && typeof mode === "number" &&
    (mode & 0o077) !== 0
  ) {
    notes.push(
      `${file} holds the bot token and is readable by other users: chmod 600 it, or use TELEGRAM_BOT_TOKEN_FILE / LoadCredential=telegram_bot_token`,
    );
  }
  return notes;
}
