/**
 * /cancel <job id> and the "Cancel" button under a status message.
 *
 * @module
 */
import { Composer } from "grammy";
import type { BotContext, BotDeps } from "../context.ts";
import { CANCEL_DATA } from "../../chat/keyboards.ts";
import { command, commandArgument } from "./command.ts";
import { JobNotCancellableError } from "../../errors.ts";

/** The /cancel command and the Cancel button. */
export function cancelFeature(deps: BotDeps): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.command(
    "cancel",
    command("cancel", deps, async (ctx) => {
      const id = commandArgument(ctx).toLowerCase();
      if (id === "") {
        await ctx.reply(
          "Which job? Send /cancel &lt;job id&gt;. /status lists your jobs and their ids.",
        );
        return;
      }
      const job = await deps.jobs.cancel(ctx.requester, id);
      ctx.log.info("job cancel requested", { job_id: job.id, state: job.state });
      await ctx.reply(
        job.state === "cancelled"
          ? `Job <code>${job.id}</code> cancelled.`
          : `Stopping job <code>${job.id}</code>…`,
      );
    }),
  );
  composer.callbackQuery(
    CANCEL_DATA,
    command("cancel_button", deps, async (ctx) => {
      const jobId = ctx.match[1] ?? "";
      const pressed = ctx.callbackQuery.message?.message_id;
      try {
        const job = await deps.jobs.cancel(ctx.requester, jobId);
        ctx.log.info("job cancel requested", { job_id: job.id, state: job.state });
        await ctx.answerCallbackQuery({
          text: job.state === "cancelled" ? "Cancelled." : "Stopping…",
        });
        if (pressed !== undefined) deps.statusMessages.replaced(job, pressed);
      } catch (error) {
        // A button left on a copy of the status message (a send whose answer was lost): the
        // copy is brought to the job's state too.
        if (error instanceof JobNotCancellableError && pressed !== undefined) {
          const { job } = await deps.jobs.status(ctx.requester, jobId);
          deps.statusMessages.replaced(job, pressed);
        }
        throw error;
      }
    }),
  );
  return composer;
}
