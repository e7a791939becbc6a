/**
 * The configuration file: found, read and parsed, or the one problem saying why not.
 *
 * @module
 */
import { parse, TomlError } from "smol-toml";
import { type KeyLines, keyLines } from "./toml_lines.ts";
import type { ConfigProblem } from "./problem.ts";
import { errorText } from "../runtime/error_text.ts";

/** Where the configuration file is looked for when no path is given (relative to cwd). */
export const DEFAULT_CONFIG_PATH = "config/bot.toml";

/** Reading and parsing the file: the document, its key lines, and any problem. */
export interface FileRead {
  file?: string;
  document: Record<string, unknown>;
  lines: KeyLines;
  problem?: ConfigProblem;
  mode?: number | null;
}

const FILE_HINT =
  "pass the path of an existing file, or copy config/bot.example.toml to config/bot.toml";

/** Reads and parses the config file (explicit, default, or none). */
export async function readFile(path: string | undefined, notes: string[]): Promise<FileRead> {
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
