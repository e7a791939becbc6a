/**
 * A configuration problem, as every part of loading reports it, and the order they are shown in.
 *
 * @module
 */

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

/** Problems in file order (by line), then environment problems, then the rest; stable. */
export function sortProblems(
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
