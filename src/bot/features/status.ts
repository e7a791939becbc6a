/**
 * /status (recent jobs) and /status <job id> (one job).
 *
 * @module
 */
import { Composer } from "grammy";
import type { BotContext, BotDeps } from "../context.ts";
import { isFinal } from "../../jobs/model.ts";
import { cancelKeyboard, summaryKeyboard } from "../../chat/keyboards.ts";
import { renderJobLine, renderStatus } from "../../chat/status.ts";
import { renderSummary } from "../../chat/summary.ts";
import { command, commandArgument } from "./command.ts";

/** How many jobs `/status` lists. */
export const STATUS_LIST_LIMIT = 10;

/** The /status command. */
export function statusFeature(deps: BotDeps): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.command(
    "status",
    command("status", deps, async (ctx) => {
      const requester = ctx.requester;
      const id = commandArgument(ctx).toLowerCase();
      const now = deps.now();
      if (id === "") {
        const views = await deps.jobs.list(requester, STATUS_LIST_LIMIT);
        if (views.length === 0) {
          await ctx.reply("You have no jobs yet. Send /download &lt;link&gt; to start one.");
          return;
        }
        const lines = views.map((v) => renderJobLine(v.job, v.position, now));
        await ctx.reply(
          `<b>Your recent jobs</b>\n${lines.join("\n")}\n\nDetails: /status &lt;job id&gt;`,
        );
        return;
      }
      const { job, position } = await deps.jobs.status(requester, id);
      if (isFinal(job.state)) {
        const links = job.state === "succeeded" ? await deps.fileLinks(job) : [];
        await ctx.reply(renderSummary(job, { links, now }), {
          reply_markup: summaryKeyboard(job),
        });
        return;
      }
      await ctx.reply(renderStatus(job, { position, now }).text, {
        reply_markup: cancelKeyboard(job.id),
      });
    }),
  );
  return composer;
}
