/**
 * Loads the configuration: `config/bot.toml` (or an explicit path, or built-in defaults when
 * there is no file), environment overrides on top, then one zod pass. Every problem is reported
 * at once with its key path, where the value came from, and a hint.
 *
 * @module
 */
import { type Config, configSchema } from "./schema.ts";
import { type EnvOverride, readEnvOverrides } from "./env.ts";
import { leafKeyPaths } from "./known_keys.ts";
import { formatPath, type KeyLines } from "./toml_lines.ts";
import { makeRedactor, SECRET_KEYS } from "./secrets.ts";
import { setPath, valueAt } from "./document.ts";
import { readFile } from "./file.ts";
import { hintFor } from "./hints.ts";
import { describeValue, isSecretPath, issueMessage, unknownKeyProblem } from "./issues.ts";
import { type ConfigProblem, sortProblems } from "./problem.ts";

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
