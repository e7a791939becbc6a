/**
 * The live status message of a job (queued, running, final) and its one-line entry in `/status`
 * lists. Pure functions producing Telegram HTML.
 *
 * @module
 */
import { needsConfirmation } from "../jobs/errors.ts";
import { isFinal, type Job, titleOf } from "../jobs/model.ts";
import { formatSeconds } from "../runtime/duration.ts";
import { elapsed, escapeHtml, formatUtcTime, kindPhrase, progressBar, safe } from "./format.ts";
import { type CancelKeyboard, cancelKeyboard } from "./keyboards.ts";

/** Longest title shown (characters, before escaping). */
export const MAX_TITLE = 120;
/** Longest track name shown. */
export const MAX_TRACK = 100;

/** A rendered status message. */
export interface RenderedStatus {
  /** HTML text. */
  text: string;
  /** The Cancel button while the job can still be cancelled; absent otherwise. */
  replyMarkup?: CancelKeyboard;
}

/** "7/12 done · 1 skipped · 1 failed" (skipped/failed only when non-zero). */
function countsLine(job: Job): string {
  const { total, done, skipped, skippedExplicit, failed } = job.progress;
  const parts = [total !== undefined ? `${done}/${total} done` : `${done} done`];
  if (skipped > 0) parts.push(`${skipped} skipped`);
  if (skippedExplicit > 0) parts.push(`${skippedExplicit} explicit skipped`);
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
  if (p.waitingUntil !== undefined && p.waitingUntil > now) {
    // The seconds left count down only in the shown text, not in the one compared for edits.
    const left = showElapsed ? ` ${formatSeconds((p.waitingUntil - now) / 1000)}` : "";
    lines.push(`⏳ Spotify asked us to wait${left}…; the download goes on by itself.`);
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
      const paused = job.pausedUntil !== undefined && job.pausedUntil > options.now;
      const text = job.cancelRequested
        ? `⏳ Job ${id} is queued; cancelling…`
        : paused
        ? `⏸ Job ${id} is paused by Spotify until ${
          formatUtcTime(job.pausedUntil ?? 0, options.now)
        }; it will continue by itself${where}.`
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
 * One line for `/status` lists: `<code>id</code> · running 40% · playlist · <b>Title</b> ·
 * 5 min ago`. The age is counted from creation for active jobs and from the end for finished
 * ones.
 */
export function renderJobLine(job: Job, position?: number, now: number = Date.now()): string {
  let state: string;
  switch (job.state) {
    case "queued":
      state = position !== undefined ? `queued #${position}` : "queued";
      if (job.pausedUntil !== undefined && job.pausedUntil > now) {
        state += `, paused by Spotify until ${formatUtcTime(job.pausedUntil, now)}`;
      }
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

/**
 * An older message of a job that a newer one replaced (the job was asked for again, or the
 * button was pressed on a copy): the final state once there is one, otherwise where to look; no
 * buttons either way.
 */
export function renderReplaced(job: Job, now: number): string {
  if (isFinal(job.state)) return renderStatus(job, { now }).text;
  return `⤵️ Job <code>${escapeHtml(job.id)}</code> is shown in a newer message below.`;
}
