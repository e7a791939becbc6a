/**
 * Problems in words: zod's issues and unknown keys as messages that name the value (never a
 * secret) and what was expected.
 *
 * @module
 */
import type { z } from "zod";
import { knownKeysAt, suggestKey, tablesWithKey } from "./known_keys.ts";
import { formatPath } from "./toml_lines.ts";
import { describeSecret, SECRET_KEYS } from "./secrets.ts";
import { isTable, valueAt } from "./document.ts";
import type { ConfigProblem } from "./problem.ts";

/** Whether a key path is a secret (its value is never shown). */
export function isSecretPath(path: readonly PropertyKey[]): boolean {
  return SECRET_KEYS.includes(path.filter((s) => typeof s === "string").join("."));
}

/**
 * How a value is shown in a message; secrets are never shown. `clean` redacts secrets in
 * strings before they are shortened (a cut-off token would escape redaction).
 */
export function describeValue(
  value: unknown,
  secret: boolean,
  clean: (s: string) => string,
): string {
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
export function issueMessage(
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

/** Problems for an unrecognized key, with "did you mean" against the schema's keys. */
export function unknownKeyProblem(
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
