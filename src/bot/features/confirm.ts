/**
 * The "Download all N tracks" button under the question of a job stopped because its list is
 * longer than `jobs.confirm_above_tracks`: starts the confirmed job and shows it like /download.
 * Other callback data passes on to the next feature.
 *
 * @module
 */
import { Composer } from "grammy";
import type { BotContext, BotDeps } from "../context.ts";
import type { Job } from "../../jobs/model.ts";
import { parseConfirmData } from "../../progress/render.ts";
import { command } from "./command.ts";
import { showSubmittedJob } from "./job_message.ts";
import { requesterOf } from "./status.ts";

/** The "Download all N tracks" button. */
export function confirmFeature(deps: BotDeps): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.on("callback_query:data", async (ctx, next) => {
    const id = parseConfirmData(ctx.callbackQuery.data);
    if (id === null) return await next();
    await command("confirm_button", deps, async (c) => {
      const requester = requesterOf(c, deps);
      const submitted = await deps.jobs.confirm(requester, id);
      const { job, created } = submitted;
      c.log.info(created ? "confirmed job submitted" : "confirmation repeated", {
        confirmed_job_id: id,
        job_id: job.id,
      });
      if (!created) {
        await c.answerCallbackQuery({ text: alreadyText(job) });
        return;
      }
      await c.answerCallbackQuery({ text: "Starting…" });
      await showSubmittedJob(c, deps, submitted, requester);
    })(ctx);
  });
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
