/**
 * ANSI escape handling for downloader output (spotDL colours its log when it thinks it has a
 * terminal, e.g. with `FORCE_COLOR` or `TERM` set).
 *
 * @module
 */

// deno-lint-ignore no-control-regex
const ANSI_PATTERN = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

/** Removes ANSI escape sequences (colours, cursor movement, OSC titles) from a line. */
export function stripAnsi(line: string): string {
  return line.replace(ANSI_PATTERN, "");
}
