/**
 * Environment overrides of the configuration file. Every variable is optional and wins over the
 * file; an empty value counts as unset. Secrets may also come from files
 * (`TELEGRAM_BOT_TOKEN_FILE`) or systemd credentials (`LoadCredential=telegram_bot_token`).
 *
 * @module
 */
import type { ConfigProblem } from "./problem.ts";
import { redactTokens } from "./secrets.ts";
import { errorText } from "../runtime/error_text.ts";

/** One supported environment variable, for `--help` and the README. */
export interface EnvVarDoc {
  /** Variable name. */
  readonly name: string;
  /** Dotted config key it sets, when it maps to one. */
  readonly key?: string;
  /** One-line description. */
  readonly description: string;
}

/** Every environment variable the configuration reads, in the order they are documented. */
export const ENV_VARS: readonly EnvVarDoc[] = [
  {
    name: "TELEGRAM_BOT_TOKEN",
    key: "telegram.token",
    description: "Bot token from @BotFather (without it, `run` starts the sandbox chat)",
  },
  {
    name: "TELEGRAM_BOT_TOKEN_FILE",
    key: "telegram.token",
    description:
      "File holding the bot token (read and trimmed), used when TELEGRAM_BOT_TOKEN is unset",
  },
  {
    name: "CREDENTIALS_DIRECTORY",
    description:
      "Set by systemd; files telegram_bot_token, signing_secret, subsonic_password and kv_access_token there are used as secrets",
  },
  {
    name: "TELEGRAM_ALLOWED_USER_IDS",
    key: "telegram.allowed_user_ids",
    description: "Whitelisted Telegram user ids, separated by commas or spaces",
  },
  {
    name: "TELEGRAM_ADMIN_USER_IDS",
    key: "telegram.admin_user_ids",
    description: "Admin Telegram user ids, separated by commas or spaces",
  },
  {
    name: "TELEGRAM_API_ROOT",
    key: "telegram.api_root",
    description: "Bot API server root, for a self-hosted Bot API server or an emulator",
  },
  {
    name: "PUBLIC_BASE_URL",
    key: "http.public_base_url",
    description: "Public URL in front of the HTTP server, used in download links",
  },
  {
    name: "DLBOT_SIGNING_SECRET",
    key: "http.signing_secret",
    description: "HMAC secret for download links (at least 32 characters)",
  },
  {
    name: "DLBOT_SIGNING_SECRET_FILE",
    key: "http.signing_secret",
    description: "File holding the signing secret, used when DLBOT_SIGNING_SECRET is unset",
  },
  {
    name: "DLBOT_SUBSONIC_PASSWORD",
    key: "library.subsonic_password",
    description: "Password of library.subsonic_user on the Subsonic server",
  },
  {
    name: "DLBOT_SUBSONIC_PASSWORD_FILE",
    key: "library.subsonic_password",
    description: "File holding the Subsonic password, used when DLBOT_SUBSONIC_PASSWORD is unset",
  },
  {
    name: "DENO_KV_ACCESS_TOKEN",
    key: "storage.kv_access_token",
    description: "Access token of the denokv server in DLBOT_KV_PATH (an http(s) URL)",
  },
  {
    name: "DENO_KV_ACCESS_TOKEN_FILE",
    key: "storage.kv_access_token",
    description: "File holding the denokv access token, used when DENO_KV_ACCESS_TOKEN is unset",
  },
  { name: "DLBOT_HTTP_LISTEN", key: "http.listen", description: "host:port of the HTTP server" },
  {
    name: "DLBOT_DATA_DIR",
    key: "storage.data_dir",
    description: "Directory for KV and downloads",
  },
  {
    name: "DLBOT_KV_PATH",
    key: "storage.kv_path",
    description: "Deno KV location: file path, :memory: or denokv URL",
  },
  {
    name: "DLBOT_LOG_LEVEL",
    key: "log.level",
    description: "Log level: debug, info, warning or error",
  },
  { name: "DLBOT_LOG_FORMAT", key: "log.format", description: "Log format: auto, json or text" },
  {
    name: "DLBOT_DOWNLOADER_COMMAND",
    key: "downloader.command",
    description: "Downloader executable (default spotdl)",
  },
];

/** One value taken from the environment. */
export interface EnvOverride {
  /** Config key path it sets, e.g. `["telegram", "token"]`. */
  readonly path: readonly string[];
  /** The value, already typed (numbers for user ids). */
  readonly value: unknown;
  /** Where it came from, e.g. "env TELEGRAM_BOT_TOKEN". */
  readonly source: string;
}

/** What the environment contributes: overrides, problems with it, and notes for the summary. */
export interface EnvResult {
  /** Values to merge over the file. */
  readonly overrides: EnvOverride[];
  /** Unreadable secret files, bad id lists, … */
  readonly problems: ConfigProblem[];
  /** Informational remarks (e.g. which of two token sources was used). */
  readonly notes: string[];
}

type Env = Readonly<Record<string, string | undefined>>;

/** The variable's value, or undefined when unset or empty. */
function get(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value;
}

/** Plain string overrides: variable name → key path. */
const STRING_VARS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ["TELEGRAM_API_ROOT", ["telegram", "api_root"]],
  ["PUBLIC_BASE_URL", ["http", "public_base_url"]],
  ["DLBOT_HTTP_LISTEN", ["http", "listen"]],
  ["DLBOT_DATA_DIR", ["storage", "data_dir"]],
  ["DLBOT_KV_PATH", ["storage", "kv_path"]],
  ["DLBOT_LOG_LEVEL", ["log", "level"]],
  ["DLBOT_LOG_FORMAT", ["log", "format"]],
  ["DLBOT_DOWNLOADER_COMMAND", ["downloader", "command"]],
];

/** How a secret can be supplied: direct variable, file variable, systemd credential name. */
interface SecretSpec {
  readonly path: readonly string[];
  readonly direct: string;
  readonly file: string;
  readonly credential: string;
  readonly hint: string;
}

const SECRETS: readonly SecretSpec[] = [
  {
    path: ["telegram", "token"],
    direct: "TELEGRAM_BOT_TOKEN",
    file: "TELEGRAM_BOT_TOKEN_FILE",
    credential: "telegram_bot_token",
    hint: "the file must be readable by the bot's user and contain only the token",
  },
  {
    path: ["http", "signing_secret"],
    direct: "DLBOT_SIGNING_SECRET",
    file: "DLBOT_SIGNING_SECRET_FILE",
    credential: "signing_secret",
    hint: "the file must be readable by the bot's user and contain only the secret",
  },
  {
    path: ["library", "subsonic_password"],
    direct: "DLBOT_SUBSONIC_PASSWORD",
    file: "DLBOT_SUBSONIC_PASSWORD_FILE",
    credential: "subsonic_password",
    hint: "the file must be readable by the bot's user and contain only the password",
  },
  {
    path: ["storage", "kv_access_token"],
    direct: "DENO_KV_ACCESS_TOKEN",
    file: "DENO_KV_ACCESS_TOKEN_FILE",
    credential: "kv_access_token",
    hint: "the file must be readable by the bot's user and contain only the token",
  },
];

/** Describes a file-system error briefly, without a stack. */
function describeError(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.IsADirectory) return "is a directory";
  return errorText(error);
}

/** Reads one secret from its variable, its file variable, or the systemd credential. */
async function readSecret(
  env: Env,
  spec: SecretSpec,
  out: { overrides: EnvOverride[]; problems: ConfigProblem[]; notes: string[] },
): Promise<void> {
  const dotted = spec.path.join(".");
  const direct = get(env, spec.direct);
  const fileVar = get(env, spec.file);
  if (direct !== undefined) {
    if (fileVar !== undefined) {
      out.notes.push(`${spec.direct} and ${spec.file} are both set; using ${spec.direct}`);
    }
    out.overrides.push({ path: spec.path, value: direct.trim(), source: `env ${spec.direct}` });
    return;
  }
  if (fileVar !== undefined) {
    const source = `env ${spec.file}`;
    try {
      const value = (await Deno.readTextFile(fileVar)).trim();
      if (value === "") {
        out.problems.push({
          path: dotted,
          message: `the file ${fileVar} named by ${spec.file} is empty`,
          source,
          hint: spec.hint,
        });
      } else {
        out.overrides.push({ path: spec.path, value, source });
      }
    } catch (error) {
      out.problems.push({
        path: dotted,
        message: `cannot read ${fileVar} (named by ${spec.file}): ${describeError(error)}`,
        source,
        hint: spec.hint,
      });
    }
    return;
  }
  const credentials = get(env, "CREDENTIALS_DIRECTORY");
  if (credentials === undefined) return;
  const credentialPath = `${credentials.replace(/\/+$/, "")}/${spec.credential}`;
  const source = `systemd credential ${spec.credential}`;
  try {
    const value = (await Deno.readTextFile(credentialPath)).trim();
    if (value === "") {
      out.problems.push({
        path: dotted,
        message: `the systemd credential ${credentialPath} is empty`,
        source,
        hint: spec.hint,
      });
    } else {
      out.overrides.push({ path: spec.path, value, source });
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    out.problems.push({
      path: dotted,
      message: `cannot read ${credentialPath} (from CREDENTIALS_DIRECTORY): ${
        describeError(error)
      }`,
      source: "env CREDENTIALS_DIRECTORY",
      hint: spec.hint,
    });
  }
}

/**
 * Parses a list of Telegram user ids separated by commas and/or whitespace. Each bad entry is
 * reported on its own, naming the entry and the variable.
 */
export function parseUserIdList(
  text: string,
  variable: string,
  key: string,
): { ids: number[]; problems: ConfigProblem[] } {
  const ids: number[] = [];
  const problems: ConfigProblem[] = [];
  const entries = text.split(/[\s,]+/).filter((entry) => entry !== "");
  entries.forEach((entry, index) => {
    const id = /^\d+$/.test(entry) ? Number(entry) : NaN;
    if (Number.isSafeInteger(id) && id > 0) {
      ids.push(id);
      return;
    }
    const text = redactTokens(entry);
    const shown = JSON.stringify(text.length > 40 ? `${text.slice(0, 37)}…` : text);
    problems.push({
      path: `${key}[${index}]`,
      message: /^\d+$/.test(entry)
        ? `${shown} is not a valid user id (must be a positive whole number)`
        : `${shown} is not a numeric user id`,
      source: `env ${variable}`,
      hint: "numeric Telegram user ids separated by commas or spaces, e.g. 123456789,987654321",
    });
  });
  return { ids, problems };
}

/**
 * Reads every supported variable from `env` (never from `Deno.env` directly) and returns the
 * overrides, problems and notes. Reads secret files named by `*_FILE` variables and systemd
 * credentials from `$CREDENTIALS_DIRECTORY`.
 */
export async function readEnvOverrides(env: Env): Promise<EnvResult> {
  const out: { overrides: EnvOverride[]; problems: ConfigProblem[]; notes: string[] } = {
    overrides: [],
    problems: [],
    notes: [],
  };
  for (const spec of SECRETS) await readSecret(env, spec, out);
  for (
    const [variable, key] of [
      ["TELEGRAM_ALLOWED_USER_IDS", "allowed_user_ids"],
      ["TELEGRAM_ADMIN_USER_IDS", "admin_user_ids"],
    ] as const
  ) {
    const text = get(env, variable);
    if (text === undefined) continue;
    const { ids, problems } = parseUserIdList(text, variable, `telegram.${key}`);
    out.problems.push(...problems);
    out.overrides.push({ path: ["telegram", key], value: ids, source: `env ${variable}` });
  }
  for (const [variable, path] of STRING_VARS) {
    const value = get(env, variable);
    if (value !== undefined) {
      out.overrides.push({ path, value: value.trim(), source: `env ${variable}` });
    }
  }
  return out;
}
