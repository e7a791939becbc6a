/**
 * Shows a submitted job in the chat: the status message with its Cancel button (remembered as
 * the job's status message, so progress edits land there), or the summary of a recent download
 * that was reused. Shared by /download and the "Download all N tracks" button.
 *
 * @module
 */
import type { BotContext, BotDeps } from "../context.ts";
import type { Requester, SubmitResult } from "../../jobs/service.ts";
import { isFinal } from "../../jobs/model.ts";
import { cancelKeyboard, renderStatus, renderSummary } from "../../progress/render.ts";

/** Sends the message for a submit's result and stores it as the job's status message. */
export async function showSubmittedJob(
  ctx: BotContext,
  deps: Pick<BotDeps, "jobs" | "fileLinks" | "now">,
  submitted: SubmitResult,
  requester: Requester,
): Promise<void> {
  const { job, created, position } = submitted;
  const chatId = ctx.chat!.id;
  const now = deps.now();
  if (!created && job.state === "succeeded") {
    const links = await deps.fileLinks(job);
    await ctx.reply(
      `You downloaded this recently, so here it is again.\n\n${renderSummary(job, { links, now })}`,
      { parse_mode: "HTML", link_preview_options: { is_disabled: true } },
    );
    return;
  }
  const status = renderStatus(job, { position, now }).text;
  const prefix = created ? "" : "You already asked for this link; here is that job.\n\n";
  const message = await ctx.reply(prefix + status, {
    parse_mode: "HTML",
    reply_markup: cancelKeyboard(job.id),
    link_preview_options: { is_disabled: true },
  });
  await deps.jobs.setStatusMessage(job.id, message.message_id);
  // A job can finish before its status message id was stored (e.g. the downloader is
  // missing); the updater could not edit it then, so settle the message here.
  const latest = await deps.jobs.status(requester, job.id);
  if (isFinal(latest.job.state)) {
    await ctx.api.editMessageText(
      chatId,
      message.message_id,
      renderStatus(latest.job, { now }).text,
      {
        parse_mode: "HTML",
        link_preview_options: { is_disabled: true },
      },
    ).catch((error) => ctx.log.debug("status message already final", { error: String(error) }));
  }
}
