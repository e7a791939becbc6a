/**
 * Finds the line where each key of a (syntactically valid) TOML document is defined, so
 * configuration problems can point at `config/bot.toml:12`. A small scanner, not a parser:
 * smol-toml parses the values; this only tracks table headers, keys and where values end.
 *
 * @module
 */

/**
 * Key path as formatted by {@linkcode formatPath} ("telegram.webhook.url",
 * "telegram.allowed_user_ids[1]") → 1-based line number of its first definition.
 */
export type KeyLines = Map<string, number>;

/** "telegram.allowed_user_ids[1]" from ["telegram", "allowed_user_ids", 1]. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (typeof segment === "string" && /^[A-Za-z0-9_-]+$/.test(segment)) {
      out += out === "" ? segment : `.${segment}`;
    } else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

/**
 * Scans `toml` and returns the line of every table header (`[telegram.webhook]`), every key
 * (`allowed_user_ids = […]`, dotted keys included) and every element of a key's array
 * (`allowed_user_ids[1]`). Keys inside inline tables are not listed; callers fall back to the
 * line of the enclosing key.
 */
export function keyLines(toml: string): KeyLines {
  const lines: KeyLines = new Map();
  const newlines: number[] = [];
  for (let i = 0; i < toml.length; i++) if (toml[i] === "\n") newlines.push(i);
  const lineAt = (pos: number): number => {
    let lo = 0;
    let hi = newlines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((newlines[mid] ?? Infinity) < pos) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
  const record = (path: readonly PropertyKey[], pos: number) => {
    const line = lineAt(pos);
    for (let k = 1; k <= path.length; k++) {
      const key = formatPath(path.slice(0, k));
      if (!lines.has(key)) lines.set(key, line);
    }
  };

  let i = 0;
  let table: string[] = [];

  const skipSpaces = () => {
    while (i < toml.length && (toml[i] === " " || toml[i] === "\t")) i++;
  };
  const skipToLineEnd = () => {
    while (i < toml.length && toml[i] !== "\n") i++;
  };
  /** Reads a quoted string starting at `i` (after any opening quotes) and returns its text. */
  const readString = (): string => {
    const quote = toml[i]!;
    const triple = toml.startsWith(quote.repeat(3), i);
    const delimiter = triple ? quote.repeat(3) : quote;
    i += delimiter.length;
    let text = "";
    while (i < toml.length) {
      if (quote === '"' && toml[i] === "\\") {
        text += toml.slice(i, i + 2);
        i += 2;
        continue;
      }
      if (toml.startsWith(delimiter, i)) {
        i += delimiter.length;
        // A multi-line string may end with up to two extra quotes that belong to the content.
        while (triple && toml[i] === quote) i++;
        return text;
      }
      text += toml[i];
      i++;
    }
    return text;
  };
  /** Reads a dotted key (bare or quoted parts) up to `=` or `]`. */
  const readKey = (): string[] => {
    const parts: string[] = [];
    for (;;) {
      skipSpaces();
      const c = toml[i];
      if (c === '"' || c === "'") {
        parts.push(readString());
      } else {
        const start = i;
        while (i < toml.length && /[A-Za-z0-9_-]/.test(toml[i]!)) i++;
        if (i === start) return parts;
        parts.push(toml.slice(start, i));
      }
      skipSpaces();
      if (toml[i] !== ".") return parts;
      i++;
    }
  };
  /**
   * Skips the value of `path`, including multi-line arrays, inline tables and multi-line
   * strings, recording where each element of a top-level array starts.
   */
  const skipValue = (path: readonly string[]) => {
    let depth = 0;
    let inArray = false;
    let expectElement = false;
    let index = 0;
    while (i < toml.length) {
      const c = toml[i]!;
      if (depth === 1 && inArray && expectElement && !/[\s,#\]]/.test(c)) {
        record([...path, index], i);
        index++;
        expectElement = false;
      }
      if (c === '"' || c === "'") {
        readString();
        continue;
      }
      if (c === "#") {
        skipToLineEnd();
        continue;
      }
      if (c === "[" || c === "{") {
        if (depth === 0 && c === "[") inArray = expectElement = true;
        depth++;
      } else if (c === "]" || c === "}") depth--;
      else if (c === "," && depth === 1 && inArray) expectElement = true;
      else if (c === "\n" && depth <= 0) return;
      i++;
    }
  };

  while (i < toml.length) {
    const c = toml[i]!;
    if (c === " " || c === "\t" || c === "\r" || c === "\n") {
      i++;
    } else if (c === "#") {
      skipToLineEnd();
    } else if (c === "[") {
      const start = i;
      i += toml[i + 1] === "[" ? 2 : 1;
      table = readKey();
      record(table, start);
      skipToLineEnd();
    } else {
      const start = i;
      const key = [...table, ...readKey()];
      if (key.length > table.length) record(key, start);
      skipSpaces();
      if (toml[i] === "=") i++;
      skipSpaces();
      skipValue(key);
    }
  }
  return lines;
}
