/**
 * Reading and changing a parsed TOML document by key path.
 *
 * @module
 */

/** The value at `path` in a parsed document, or undefined. */
export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = root;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

/** Whether a value is a plain table (not an array or a TOML date). */
export function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date);
}

/** Returns a copy of `root` with `value` set at `path`, creating tables along the way. */
export function setPath(
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
