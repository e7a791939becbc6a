/**
 * Text building blocks for Telegram HTML messages: escaping, truncation, sizes, the progress bar,
 * how a job's subject is named. Pure functions.
 *
 * @module
 */
import type { Job, SongFailure } from "../jobs/model.ts";
import { formatSeconds } from "../runtime/duration.ts";

/** Telegram's limit for a message text. */
export const TELEGRAM_MESSAGE_LIMIT = 4096;

/** Width of the text progress bar, in cells. */
const BAR_CELLS = 10;

/** Escapes text for Telegram's HTML parse mode (also safe inside attribute values). */
export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

/**
 * The length of an HTML message as Telegram counts it against its 4096-character limit: after
 * entity parsing, so tags and `href` URLs do not count and `&amp;` is one character (UTF-16
 * code units, like Telegram).
 */
export function visibleLength(html: string): number {
  return html.replace(/<[^>]*>/g, "").replace(/&(amp|lt|gt|quot|#\d+);/g, "_").length;
}

/** Cuts text to at most `max` characters (code points), ending with "…" when cut. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return chars.slice(0, Math.max(0, max - 1)).join("") + "…";
}

/** Escaped, truncated text. */
export function safe(text: string, max: number): string {
  return escapeHtml(truncate(text, max));
}

/** Formats a byte count for people, in SI units: "812 B", "45.3 MB", "1.2 GB". */
export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  const shown = value >= 100 ? value.toFixed(0) : value.toFixed(1);
  return `${shown} ${units[unit]}`;
}

/** `▓▓▓▓▓▓░░░░ 60%`: ten cells, a cell fills per full 10 %. */
export function progressBar(percent: number): string {
  const p = Math.min(100, Math.max(0, Number.isFinite(percent) ? percent : 0));
  const filled = Math.floor(p / (100 / BAR_CELLS));
  return `${"▓".repeat(filled)}${"░".repeat(BAR_CELLS - filled)} ${Math.floor(p)}%`;
}

/** "a playlist", "an album": what the link points at, when no title is known yet. */
export function kindPhrase(kind: Job["kind"]): string {
  switch (kind) {
    case "track":
      return "a track";
    case "album":
      return "an album";
    case "playlist":
      return "a playlist";
    case "artist":
      return "an artist's songs";
  }
}

/** Milliseconds between two timestamps as "45 s" / "3 min"; undefined when either is missing. */
export function elapsed(from: number | undefined, to: number | undefined): string | undefined {
  if (from === undefined || to === undefined) return undefined;
  return formatSeconds(Math.max(0, to - from) / 1000);
}

/** A moment for people, in UTC: "14:20 UTC", or "2 Dec 14:20 UTC" when it is not today. */
export function formatUtcTime(at: number, now: number): string {
  const date = new Date(at);
  const hhmm = `${String(date.getUTCHours()).padStart(2, "0")}:${
    String(date.getUTCMinutes()).padStart(2, "0")
  }`;
  const sameDay = new Date(now).toISOString().slice(0, 10) === date.toISOString().slice(0, 10);
  if (sameDay) return `${hhmm} UTC`;
  const month = date.toLocaleString("en-GB", { month: "short", timeZone: "UTC" });
  return `${date.getUTCDate()} ${month} ${hhmm} UTC`;
}

/** Bullet lines for failed songs with their reasons: at most `max`, within `maxChars`, then "…and N more". */
export function failureLines(
  failures: readonly SongFailure[],
  failed: number,
  limits: { max: number; maxChars: number; maxName: number },
): string[] {
  const lines: string[] = [];
  let used = 0;
  for (const failure of failures) {
    const name = failure.name === undefined ? "A song" : safe(failure.name, limits.maxName);
    const line = `• ${name} — ${escapeHtml(failure.reason)}`;
    if (lines.length === limits.max || used + line.length > limits.maxChars) break;
    lines.push(line);
    used += line.length + 1;
  }
  const more = Math.max(failed, failures.length) - lines.length;
  if (more > 0) lines.push(`…and ${more} more`);
  return lines;
}

/** Why some list items were never downloaded, when there are any. */
export function unavailableLine(unavailable: number): string | undefined {
  if (unavailable === 0) return undefined;
  return unavailable === 1
    ? "ℹ️ 1 item of the list cannot be downloaded (a local file or a podcast episode)."
    : `ℹ️ ${unavailable} items of the list cannot be downloaded (local files or podcast episodes).`;
}
