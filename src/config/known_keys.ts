/**
 * The configuration keys, derived from the zod schema (never a hand-written list), and
 * "did you mean …?" suggestions for unknown keys.
 *
 * @module
 */
import { z } from "zod";
import { configSchema } from "./schema.ts";

/** Removes optional/default/prefault wrappers to reach the schema that validates the value. */
function unwrap(schema: z.ZodType): z.ZodType {
  let current: z.ZodType = schema;
  for (;;) {
    if (
      current instanceof z.ZodOptional || current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault || current instanceof z.ZodNullable
    ) {
      current = current.unwrap() as z.ZodType;
    } else {
      return current;
    }
  }
}

/** The object schema at a path of table names, or undefined when the path is not a table. */
function objectAt(path: readonly PropertyKey[]): z.ZodObject | undefined {
  let current: z.ZodType = configSchema;
  for (const segment of path) {
    const obj = unwrap(current);
    if (!(obj instanceof z.ZodObject) || typeof segment !== "string") return undefined;
    const child = obj.shape[segment];
    if (!child) return undefined;
    current = child as z.ZodType;
  }
  const obj = unwrap(current);
  return obj instanceof z.ZodObject ? obj : undefined;
}

/**
 * Keys allowed in the table at `path` (`[]` is the top level, `["telegram", "webhook"]` the
 * `[telegram.webhook]` table), or `undefined` when `path` is not a table of the schema.
 */
export function knownKeysAt(path: readonly PropertyKey[]): string[] | undefined {
  const obj = objectAt(path);
  return obj ? Object.keys(obj.shape) : undefined;
}

/**
 * Every leaf key of the schema as a dotted path ("telegram.token", "telegram.webhook.url", …).
 * Arrays and free-form maps such as `downloader.env` are leaves.
 */
export function leafKeyPaths(): string[] {
  const out: string[] = [];
  const walk = (obj: z.ZodObject, prefix: string[]) => {
    for (const [key, child] of Object.entries(obj.shape)) {
      const inner = unwrap(child as z.ZodType);
      const path = [...prefix, key];
      if (inner instanceof z.ZodObject) walk(inner, path);
      else out.push(path.join("."));
    }
  };
  walk(configSchema, []);
  return out;
}

/** Optimal-string-alignment (Damerau-Levenshtein) distance between two strings. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
  const at = (i: number, j: number): number => d[i]?.[j] ?? 0;
  for (let i = 0; i < rows; i++) d[i]![0] = i;
  for (let j = 0; j < cols; j++) d[0]![j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, at(i - 2, j - 2) + 1);
      }
      d[i]![j] = value;
    }
  }
  return at(a.length, b.length);
}

/** Lower case without `_`/`-`, so `allowedUserIds` and `allowed-user-ids` compare equal. */
function normalize(key: string): string {
  return key.toLowerCase().replace(/[_-]/g, "");
}

/**
 * The known key closest to `unknown`, when it is close enough to be a likely typo: same key
 * in another spelling style, a few edits away, or a prefix of a known key.
 */
export function suggestKey(unknown: string, known: readonly string[]): string | undefined {
  const target = normalize(unknown);
  let best: { key: string; distance: number } | undefined;
  for (const key of known) {
    const candidate = normalize(key);
    let distance = editDistance(target, candidate);
    if (target.length >= 4 && (candidate.startsWith(target) || target.startsWith(candidate))) {
      distance = Math.min(distance, 1);
    }
    const limit = Math.max(1, Math.floor(Math.max(target.length, candidate.length) / 3));
    if (distance <= limit && (!best || distance < best.distance)) best = { key, distance };
  }
  return best?.key;
}

/** Dotted paths of the tables that have a leaf key named `key` ("" is the top level). */
export function tablesWithKey(key: string): string[] {
  const out: string[] = [];
  for (const leaf of leafKeyPaths()) {
    const parts = leaf.split(".");
    if (parts[parts.length - 1] === key) out.push(parts.slice(0, -1).join("."));
  }
  return out;
}
