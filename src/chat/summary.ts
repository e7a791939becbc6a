/**
 * The completion summary of a finished job: counts, failed tracks, length, size, time taken and
 * download links (in list order, in follow-up messages when one cannot hold them all); or the
 * reason and what to try. Each message within {@linkcode SUMMARY_MAX_CHARS} as Telegram counts.
 *
 * @module
 */
import { type Job, type JobError, titleOf } from "../jobs/model.ts";
import { formatSeconds } from "../runtime/duration.ts";
import {
  elapsed,
  escapeHtml,
  failureLines,
  formatBytes,
  safe,
  unavailableLine,
  visibleLength,
} from "./format.ts";
import { MAX_TITLE, MAX_TRACK, renderStatus } from "./status.ts";

/**
 * Upper bound for each message of {@linkcode renderSummaryMessages} as Telegram counts it
 * ({@linkcode visibleLength}). Below Telegram's 4096-character limit so callers may prepend a
 * short sentence ("You downloaded this recently…").
 */
export const SUMMARY_MAX_CHARS = 3800;

/** Upper bound of a message's raw HTML (tags and link URLs included). */
const MAX_RAW_CHARS = 32_000;

/** Longest file name shown as link text. */
const MAX_LINK_NAME = 80;
/** Longest error text shown. */
const MAX_ERROR = 500;
/** Failed track names listed in a summary before "and N more". */
const MAX_FAILED_LISTED = 10;
/** Characters the failed-track list may take in a summary. */
const MAX_FAILED_CHARS = 1200;

/** A download link shown in a summary: one file, or the whole set as a zip or a playlist. */
export interface FileLink {
  name: string;
  url: string;
  kind?: "file" | "zip" | "m3u8";
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
  spotify_not_found:
    "Check the link opens in Spotify, or copy the songs to a playlist of your own.",
  spotify_forbidden: "Try again once the admin has updated spotDL.",
  ffmpeg_missing: "Try again later, once the admin has installed ffmpeg.",
  youtube_blocked: "Try again later.",
  network: "Try again in a few minutes.",
  disk_full: "Send the link again with /download in a while.",
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

function succeededSummary(job: Job, links: FileLink[], followUps: boolean): string[] {
  const result = job.result;
  const files = result?.files ?? [];
  const p = job.progress;
  const downloaded = p.done === 0 && files.length > 0 ? files.length : p.done;
  const total = p.total ??
    Math.max(downloaded + p.skipped + p.skippedExplicit + p.failed, files.length);
  const title = titleOf(job);
  const what = title ? `<b>${safe(title, MAX_TITLE)}</b>` : `Your ${job.kind}`;
  const head: string[] = [
    `✅ ${what} — ${total} ${total === 1 ? "track" : "tracks"}`,
    [
      `${downloaded} downloaded`,
      `${p.skipped} skipped`,
      ...(p.skippedExplicit > 0 ? [`${p.skippedExplicit} explicit skipped`] : []),
      `${p.failed} failed`,
    ].join(" · "),
  ];
  if (p.failed > 0) {
    head.push(
      "Failed:",
      ...failureLines(p.failures, p.failed, {
        max: MAX_FAILED_LISTED,
        maxChars: MAX_FAILED_CHARS,
        maxName: MAX_TRACK,
      }),
    );
  }
  const unavailable = unavailableLine(p.unavailable);
  if (unavailable) head.push(unavailable);
  if (result?.totalDurationSeconds !== undefined) {
    head.push(`🎧 Length: ${formatSeconds(result.totalDurationSeconds)}`);
  }
  if (result) head.push(`💾 Size: ${formatBytes(result.totalBytes)}`);
  const took = elapsed(job.startedAt, job.finishedAt);
  if (took) head.push(`⏱ Took ${took}`);
  head.push(`Job <code>${escapeHtml(job.id)}</code>`);

  if (links.length === 0) {
    head.push("", files.length === 0 ? "No files were produced." : "No download links available.");
    return [head.join("\n")];
  }
  const count = files.length + (result?.unlistedFiles ?? 0);
  const bundles = links.filter((link) => link.kind === "zip" || link.kind === "m3u8");
  const singles = links.filter((link) => link.kind !== "zip" && link.kind !== "m3u8");
  if (bundles.length > 0) head.push("");
  for (const link of bundles) {
    const href = escapeHtml(link.url);
    head.push(
      link.kind === "zip"
        ? `📦 <a href="${href}">All ${count} tracks as one zip</a> (${
          formatBytes(result?.totalBytes ?? 0)
        })`
        : `🎵 <a href="${href}">Playlist for your player</a> (m3u8)`,
    );
  }
  const bundled = singles.length === 1 && files.length > 1;
  head.push("", bundled ? `📦 All ${files.length} files:` : "📥 Downloads:");
  const more = (n: number) =>
    bundles.length > 0
      ? `… and ${n} more in the zip above.`
      : `… and ${n} more ${n === 1 ? "file" : "files"} not listed here ` +
        `(a Telegram message cannot hold all the links).`;
  const next = `📥 More downloads of job <code>${escapeHtml(job.id)}</code>:`;
  const pages = linkPages(head.join("\n"), singles, next);
  const unlisted = result?.unlistedFiles ?? 0;
  if (!followUps && pages.length > 1) {
    const rest = pages.slice(1).join("").split("\n• ").length - 1 + unlisted;
    return [`${pages[0] ?? ""}\n${more(rest)}`];
  }
  if (unlisted > 0) pages.push(`${pages.pop() ?? ""}\n${more(unlisted)}`);
  return pages;
}

/**
 * The head followed by one line per link, split into as many messages as the links need (each
 * within {@linkcode SUMMARY_MAX_CHARS} as Telegram counts it, with room for one more line);
 * follow-ups start with `next`.
 */
function linkPages(head: string, links: FileLink[], next: string): string[] {
  const pages: string[] = [];
  let text = head;
  for (const link of links) {
    const line = `\n• <a href="${escapeHtml(link.url)}">${safe(link.name, MAX_LINK_NAME)}</a>`;
    const candidate = text + line;
    if (visibleLength(candidate) + 120 > SUMMARY_MAX_CHARS || candidate.length > MAX_RAW_CHARS) {
      pages.push(text);
      text = next + line;
    } else {
      text = candidate;
    }
  }
  pages.push(text);
  return pages;
}

/**
 * The completion message for a finished job in one message: counts, failed tracks, length,
 * size, time taken and download links (succeeded; links that do not fit are summed up, pointing
 * at the zip); the reason and what to try (failed; a job stopped for its size gets the question,
 * to be sent with {@linkcode summaryKeyboard}); a short line (cancelled). A non-final job gets
 * its status text. Within Telegram's limit as it counts it.
 */
export function renderSummary(
  job: Job,
  options: { links: FileLink[]; now: number },
): string {
  return renderSummaryMessages(job, { ...options, followUps: false })[0] ?? "";
}

/**
 * {@linkcode renderSummary} with every link: the summary, then as many follow-up messages with
 * the rest of the links as they need, in list order.
 */
export function renderSummaryMessages(
  job: Job,
  options: { links: FileLink[]; now: number; followUps?: boolean },
): string[] {
  switch (job.state) {
    case "succeeded":
      return succeededSummary(job, options.links, options.followUps ?? true);
    case "failed":
      return [failedSummary(job)];
    case "cancelled":
      return [`🚫 Job <code>${escapeHtml(job.id)}</code> cancelled.`];
    default:
      return [renderStatus(job, { now: options.now }).text];
  }
}
