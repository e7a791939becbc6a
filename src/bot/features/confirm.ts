/**
 * The "Download all N tracks" button under the question of a job stopped because its list is
 * longer than `jobs.confirm_above_tracks`: starts the confirmed job and shows it like /download.
 *
 * @module
 */
import { Composer } from "grammy";
import type { BotContext, BotDeps } from "../context.ts";
import type { Job } from "../../jobs/model.ts";
import { CONFIRM_DATA } from "../../chat/keyboards.ts";
import { command } from "./command.ts";
import { showSubmittedJob } from "./job_message.ts";

/** The "Download all N tracks" button. */
export function confirmFeature(deps: BotDeps): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.callbackQuery(
    CONFIRM_DATA,
    command("confirm_button", deps, async (ctx) => {
      const id = ctx.match[1] ?? "";
      const submitted = await deps.jobs.confirm(ctx.requester, id);
      const { job, created } = submitted;
      ctx.log.info(created ? "confirmed job submitted" : "confirmation repeated", {
        confirmed_job_id: id,
        job_id: job.id,
      });
      if (!created) {
        await ctx.answerCallbackQuery({ text: alreadyText(job) });
        return;
      }
      await ctx.answerCallbackQuery({ text: "Starting…" });
      await showSubmittedJob(ctx, deps, submitted);
    }),
  );
  return composer;
}

/** The answer to a repeated press: the job the first press started, without a new message. */
function alreadyText(job: Job): string {
  switch (job.state) {
    case "queued":
    case "running":
      return `Already started: job ${job.id}.`;
    case "succeeded":
      return `Already downloaded: job ${job.id}. Send /status ${job.id} to see it again.`;
    default:
      return `Job ${job.id} already ${job.state}. Send the link again with /download to retry.`;
  }
}
