/**
 * Shows a submitted job in the chat: the status message (stored as the job's status message and
 * handed to the chat updater, which adds its Cancel button and keeps it current from then on), or
 * the summary of a recent download that was reused. Shared by /download and the "Download all N
 * tracks" button.
 *
 * @module
 */
import type { BotContext, BotDeps } from "../context.ts";
import type { SubmitResult } from "../../jobs/service.ts";
import type { Job } from "../../jobs/model.ts";
import { audioMessageOptions, uploadableTrack } from "../../chat/audio.ts";
import { renderStatus } from "../../chat/status.ts";
import { renderSummaryMessages } from "../../chat/summary.ts";

/** Sends the message for a submit's result and stores it as the job's status message. */
export async function showSubmittedJob(
  ctx: BotContext,
  deps: Pick<BotDeps, "jobs" | "fileLinks" | "now" | "statusMessages" | "uploads">,
  submitted: SubmitResult,
): Promise<void> {
  const { job, created, position } = submitted;
  const now = deps.now();
  if (!created && job.state === "succeeded") {
    const links = await deps.fileLinks(job);
    const [summary, ...followUps] = renderSummaryMessages(job, { links, now });
    await ctx.reply(`You downloaded this recently, so here it is again.\n\n${summary}`);
    for (const text of followUps) await ctx.reply(text);
    await resendTrack(ctx, deps, job);
    return;
  }
  const status = renderStatus(job, { position, now }).text;
  const prefix = created ? "" : "You already asked for this link; here is that job.\n\n";
  // Sent without its Cancel button: a copy left by a send whose answer was lost (and which was
  // sent again) has no button that would outlive the job; the updater's first edit adds it to
  // the message whose id is known. The job may also have moved on (even finished) before its
  // message id was stored; the updater brings the message up to date either way.
  const message = await ctx.reply(prefix + status);
  const stored = await deps.jobs.setStatusMessage(job.id, message.message_id);
  deps.statusMessages.attached(stored);
  const previous = job.statusMessageId;
  if (previous !== undefined && previous !== message.message_id) {
    deps.statusMessages.replaced(stored, previous);
  }
}

/** A single track's audio once more, by the file id of its first upload (no upload at all). */
async function resendTrack(ctx: BotContext, deps: Pick<BotDeps, "uploads">, job: Job) {
  const file = uploadableTrack(job, Number.POSITIVE_INFINITY);
  if (file === undefined) return;
  const fileId = await deps.uploads.get(job.id, file);
  if (fileId !== undefined) await ctx.replyWithAudio(fileId, audioMessageOptions(job, file));
}
