/**
 * /status (recent jobs) and /status <job id> (one job).
 *
 * @module
 */
import { Composer } from "grammy";
import type { BotContext, BotDeps } from "../context.ts";
import type { Requester } from "../../jobs/service.ts";
import { isFinal } from "../../jobs/model.ts";
import {
  cancelKeyboard,
  renderJobLine,
  renderStatus,
  renderSummary,
  summaryKeyboard,
} from "../../progress/render.ts";
import { command, commandArgument } from "./command.ts";

/** How many jobs `/status` lists. */
export const STATUS_LIST_LIMIT = 10;

/** The requester for the user behind an update. */
export function requesterOf(ctx: BotContext, deps: Pick<BotDeps, "access">): Requester {
  const userId = ctx.from!.id;
  return { userId, isAdmin: deps.access.isAdmin(userId) };
}

/** The /status command. */
export function statusFeature(deps: BotDeps): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.command(
    "status",
    command("status", deps, async (ctx) => {
      const requester = requesterOf(ctx, deps);
      const id = commandArgument(ctx).toLowerCase();
      const now = deps.now();
      if (id === "") {
        const views = await deps.jobs.list(requester, STATUS_LIST_LIMIT);
        if (views.length === 0) {
          await ctx.reply("You have no jobs yet. Send /download <link> to start one.");
          return;
        }
        const lines = views.map((v) => renderJobLine(v.job, v.position, now));
        await ctx.reply(
          `<b>Your recent jobs</b>\n${lines.join("\n")}\n\nDetails: /status &lt;job id&gt;`,
          { parse_mode: "HTML" },
        );
        return;
      }
      const { job, position } = await deps.jobs.status(requester, id);
      if (isFinal(job.state)) {
        const links = job.state === "succeeded" ? await deps.fileLinks(job) : [];
        await ctx.reply(renderSummary(job, { links, now }), {
          parse_mode: "HTML",
          reply_markup: summaryKeyboard(job),
          link_preview_options: { is_disabled: true },
        });
        return;
      }
      await ctx.reply(renderStatus(job, { position, now }).text, {
        parse_mode: "HTML",
        reply_markup: cancelKeyboard(job.id),
        link_preview_options: { is_disabled: true },
      });
    }),
  );
  return composer;
}
