/**
 * What a user reads about a job: the live status message, the completion summary, one-line
 * entries for `/status`, the Cancel button and the "Download all N tracks" button of a job
 * stopped for its size. Pure functions producing Telegram HTML
 * (parse mode `HTML`); every piece of user or track text goes through {@linkcode escapeHtml}.
 *
 * Every text stays under Telegram's 4096-character message limit for any input: names are
 * truncated and long lists are cut with an "and N more" line.
 *
 * @module
 */
import { formatSeconds } from "../errors.ts";
import type { Job, JobError } from "../jobs/model.ts";

/** Telegram's limit for a message text. */
export const TELEGRAM_MESSAGE_LIMIT = 4096;

/**
 * Upper bound for {@linkcode renderSummary}'s output. Below {@linkcode TELEGRAM_MESSAGE_LIMIT}
 * so callers may prepend a short sentence ("You downloaded this recently…").
 */
export const SUMMARY_MAX_CHARS = 3800;

/** Width of the text progress bar, in cells. */
const BAR_CELLS = 10;
/** Longest title shown (characters, before escaping). */
const MAX_TITLE = 120;
/** Longest track name shown. */
const MAX_TRACK = 100;
/** Longest file name shown as link text. */
const MAX_LINK_NAME = 80;
/** Longest error text shown. */
const MAX_ERROR = 500;
/** Failed track names listed in a summary before "and N more". */
const MAX_FAILED_LISTED = 10;
/** Characters the failed-track list may take in a summary. */
const MAX_FAILED_CHARS = 1200;

/** Inline keyboard with one Cancel button; structurally a Bot API `InlineKeyboardMarkup`. */
export interface CancelKeyboard {
  inline_keyboard: { text: string; callback_data: string }[][];
}

/** Any inline keyboard of callback buttons (Cancel, "Download all N tracks"). */
export type InlineKeyboard = CancelKeyboard;

/** A rendered status message. */
export interface RenderedStatus {
  /** HTML text. */
  text: string;
  /** The Cancel button while the job can still be cancelled; absent otherwise. */
  replyMarkup?: CancelKeyboard;
}

/** A download link shown in a summary. */
export interface FileLink {
  name: string;
  url: string;
}

/** Escapes text for Telegram's HTML parse mode (also safe inside attribute values). */
export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

/** Cuts text to at most `max` characters (code points), ending with "…" when cut. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return chars.slice(0, Math.max(0, max - 1)).join("") + "…";
}

/** Escaped, truncated text. */
function safe(text: string, max: number): string {
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
function kindPhrase(kind: Job["kind"]): string {
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

/** Best known title of a job's playlist/album/track. */
function titleOf(job: Job): string | undefined {
  const title = job.result?.title ?? job.progress.title;
  return title && title.trim() !== "" ? title.trim() : undefined;
}

/** The Cancel button for a job. */
export function cancelKeyboard(jobId: string): CancelKeyboard {
  return { inline_keyboard: [[{ text: "Cancel", callback_data: `cancel:${jobId}` }]] };
}

const CANCEL_DATA = /^cancel:([a-z0-9]{6,32})$/;

/** The job id in a Cancel button's callback data, or null when the data is something else. */
export function parseCancelData(data: string): string | null {
  return CANCEL_DATA.exec(data)?.[1] ?? null;
}

/** The "Download all N tracks" button under the question of a job stopped for its size. */
export function confirmKeyboard(jobId: string, total: number | undefined): InlineKeyboard {
  const text = total === undefined ? "Download all tracks" : `Download all ${total} tracks`;
  return { inline_keyboard: [[{ text, callback_data: `confirm:${jobId}` }]] };
}

const CONFIRM_DATA = /^confirm:([a-z0-9]{6,32})$/;

/** The job id in a "Download all N tracks" button's callback data, or null for other data. */
export function parseConfirmData(data: string): string | null {
  return CONFIRM_DATA.exec(data)?.[1] ?? null;
}

/** Whether a job stopped before downloading because its list needs the user's confirmation. */
export function needsConfirmation(job: Job): boolean {
  return job.state === "failed" && job.error?.code === "needs_confirmation";
}

/**
 * The buttons under a finished job's summary: "Download all N tracks" for a job stopped for
 * its size; none otherwise.
 */
export function summaryKeyboard(job: Job): InlineKeyboard | undefined {
  return needsConfirmation(job) ? confirmKeyboard(job.id, job.progress.total) : undefined;
}

/** Milliseconds between two timestamps as "45 s" / "3 min"; undefined when either is missing. */
function elapsed(from: number | undefined, to: number | undefined): string | undefined {
  if (from === undefined || to === undefined) return undefined;
  return formatSeconds(Math.max(0, to - from) / 1000);
}

/** "7/12 done · 1 skipped · 1 failed" (skipped/failed only when non-zero). */
function countsLine(job: Job): string {
  const { total, done, skipped, failed } = job.progress;
  const parts = [total !== undefined ? `${done}/${total} done` : `${done} done`];
  if (skipped > 0) parts.push(`${skipped} skipped`);
  if (failed > 0) parts.push(`${failed} failed`);
  return parts.join(" · ");
}

function runningLines(job: Job, now: number, showElapsed: boolean): string[] {
  const title = titleOf(job);
  const header = title
    ? `⬇️ Downloading <b>${safe(title, MAX_TITLE)}</b> (${job.kind})`
    : `⬇️ Downloading ${kindPhrase(job.kind)}`;
  const lines = [header];
  const p = job.progress;
  const started = p.total !== undefined || p.done + p.skipped + p.failed > 0 || p.percent > 0;
  if (started) {
    lines.push(progressBar(p.percent), countsLine(job));
  } else {
    lines.push("🔎 Looking up the track list…");
  }
  if (p.current) {
    const stage = p.currentStatus ? ` (${safe(p.currentStatus.toLowerCase(), 40)})` : "";
    lines.push(`Now: ${safe(p.current, MAX_TRACK)}${stage}`);
  }
  const took = showElapsed ? elapsed(job.startedAt ?? job.createdAt, now) : undefined;
  if (took) lines.push(`Elapsed: ${took}`);
  if (job.cancelRequested) lines.push("⏹ Cancelling…");
  else lines.push(`Job <code>${escapeHtml(job.id)}</code>`);
  return lines;
}

/**
 * The status message for a job in any state. Queued and running jobs get the Cancel button
 * (unless a cancel was already requested); final states get a short line, the details being
 * in the summary ({@linkcode renderSummary}). `elapsed: false` leaves out the elapsed-time
 * line (callers compare such texts to skip edits where only the clock moved).
 */
export function renderStatus(
  job: Job,
  options: { position?: number; now: number; elapsed?: boolean },
): RenderedStatus {
  const id = `<code>${escapeHtml(job.id)}</code>`;
  const cancellable = !job.cancelRequested ? cancelKeyboard(job.id) : undefined;
  switch (job.state) {
    case "queued": {
      const where = options.position !== undefined ? ` (position ${options.position})` : "";
      const text = job.cancelRequested
        ? `⏳ Job ${id} is queued; cancelling…`
        : `⏳ Job ${id} is queued${where}.`;
      return { text, replyMarkup: cancellable };
    }
    case "running":
      return {
        text: runningLines(job, options.now, options.elapsed ?? true).join("\n"),
        replyMarkup: cancellable,
      };
    case "succeeded": {
      const title = titleOf(job);
      const what = title ? `<b>${safe(title, MAX_TITLE)}</b>` : kindPhrase(job.kind);
      return { text: `✅ Finished ${what} (job ${id}). Summary below.` };
    }
    case "failed":
      return {
        text: needsConfirmation(job)
          ? `✋ Job ${id} is waiting for your confirmation. Details below.`
          : `❌ Job ${id} failed. Details below.`,
      };
    case "cancelled":
      return { text: `🚫 Job ${id} cancelled.` };
  }
}

/**
 * What to suggest for each failure, when the user message does not say it already. A job
 * stopped for confirmation gets a button instead.
 */
const WHAT_TO_TRY: Record<Exclude<JobError["code"], "needs_confirmation">, string> = {
  downloader_failed: "Try again in a few minutes, or try another link.",
  downloader_missing: "Try again later, once the admin has installed it.",
  timeout: "Try a smaller album or playlist, or try again later.",
  rate_limited: "Spotify is limiting requests right now; try again later.",
  no_results: "Check the link, or try another track.",
  interrupted: "Send the link again with /download.",
  cancelled: "Send the link again with /download to start over.",
  internal: "Try again; if it keeps happening, tell the bot's admin.",
};

function failedSummary(job: Job): string {
  const error = job.error;
  const message = error?.userMessage.trim() || "something went wrong.";
  if (error?.code === "needs_confirmation") {
    return [
      `✋ ${safe(message, MAX_ERROR)}`,
      `Job <code>${escapeHtml(job.id)}</code> · ${job.kind}`,
    ].join("\n");
  }
  const lines = [
    `❌ Download failed: ${safe(message, MAX_ERROR)}`,
    `Job <code>${escapeHtml(job.id)}</code> · ${job.kind}`,
  ];
  if (!/\btry\b/i.test(message)) {
    lines.push(`What to try: ${escapeHtml(WHAT_TO_TRY[error?.code ?? "internal"])}`);
  }
  return lines.join("\n");
}

/** Bullet lines for failed tracks: at most ten, within a character budget, then "…and N more". */
function failedList(names: string[]): string[] {
  const lines: string[] = [];
  let used = 0;
  for (const name of names) {
    const line = `• ${safe(name, MAX_TRACK)}`;
    if (lines.length === MAX_FAILED_LISTED || used + line.length > MAX_FAILED_CHARS) break;
    lines.push(line);
    used += line.length + 1;
  }
  const more = names.length - lines.length;
  if (more > 0) lines.push(`…and ${more} more`);
  return lines;
}

function succeededSummary(job: Job, links: FileLink[]): string {
  const result = job.result;
  const files = result?.files ?? [];
  const p = job.progress;
  const downloaded = p.done === 0 && files.length > 0 ? files.length : p.done;
  const total = p.total ?? Math.max(downloaded + p.skipped + p.failed, files.length);
  const title = titleOf(job);
  const what = title ? `<b>${safe(title, MAX_TITLE)}</b>` : `Your ${job.kind}`;
  const head: string[] = [
    `✅ ${what} — ${total} ${total === 1 ? "track" : "tracks"}`,
    `${downloaded} downloaded · ${p.skipped} skipped · ${p.failed} failed`,
  ];
  if (p.failedTracks.length > 0) head.push("Failed:", ...failedList(p.failedTracks));
  if (result?.totalDurationSeconds !== undefined) {
    head.push(`🎧 Length: ${formatSeconds(result.totalDurationSeconds)}`);
  }
  if (result) head.push(`💾 Size: ${formatBytes(result.totalBytes)}`);
  const took = elapsed(job.startedAt, job.finishedAt);
  if (took) head.push(`⏱ Took ${took}`);
  head.push(`Job <code>${escapeHtml(job.id)}</code>`);

  if (links.length === 0) {
    head.push("", files.length === 0 ? "No files were produced." : "No download links available.");
    return head.join("\n");
  }
  const bundled = links.length === 1 && files.length > 1;
  head.push("", bundled ? `📦 All ${files.length} files:` : "📥 Downloads:");
  return withLinks(head.join("\n"), links);
}

/** Appends link lines while they fit, then "… and N more files" with a hint. */
function withLinks(head: string, links: FileLink[]): string {
  const moreLine = (n: number) =>
    `… and ${n} more ${n === 1 ? "file" : "files"} not listed here ` +
    `(a Telegram message cannot hold all the links).`;
  const reserve = moreLine(links.length).length + 1;
  let text = head;
  let shown = 0;
  for (const link of links) {
    const line = `\n• <a href="${escapeHtml(link.url)}">${safe(link.name, MAX_LINK_NAME)}</a>`;
    const isLast = shown === links.length - 1;
    const limit = isLast ? SUMMARY_MAX_CHARS : SUMMARY_MAX_CHARS - reserve;
    if (text.length + line.length > limit) break;
    text += line;
    shown++;
  }
  if (shown < links.length) text += `\n${moreLine(links.length - shown)}`;
  return text;
}

/**
 * The completion message for a finished job: counts, failed tracks, length, size, time taken
 * and download links (succeeded); the reason and what to try (failed; a job stopped for its
 * size gets the question, to be sent with {@linkcode summaryKeyboard}); a short line
 * (cancelled). A non-final job gets its status text. Never longer than
 * {@linkcode SUMMARY_MAX_CHARS}.
 */
export function renderSummary(
  job: Job,
  options: { links: FileLink[]; now: number },
): string {
  switch (job.state) {
    case "succeeded":
      return succeededSummary(job, options.links);
    case "failed":
      return failedSummary(job);
    case "cancelled":
      return `🚫 Job <code>${escapeHtml(job.id)}</code> cancelled.`;
    default:
      return renderStatus(job, { now: options.now }).text;
  }
}

/**
 * One line for `/status` lists: `<code>id</code> · running 40% · playlist · <b>Title</b> ·
 * 5 min ago`. The age is counted from creation for active jobs and from the end for finished
 * ones.
 */
export function renderJobLine(job: Job, position?: number, now: number = Date.now()): string {
  let state: string;
  switch (job.state) {
    case "queued":
      state = position !== undefined ? `queued #${position}` : "queued";
      break;
    case "running":
      state = `running ${Math.floor(job.progress.percent)}%`;
      break;
    default:
      state = needsConfirmation(job) ? "needs confirmation" : job.state;
  }
  const parts = [`<code>${escapeHtml(job.id)}</code>`, state, job.kind];
  const title = titleOf(job);
  if (title) parts.push(`<b>${safe(title, 40)}</b>`);
  const since = job.state === "queued" || job.state === "running"
    ? job.createdAt
    : job.finishedAt ?? job.updatedAt;
  parts.push(`${formatSeconds(Math.max(0, now - since) / 1000)} ago`);
  return parts.join(" · ");
}
