/**
 * /download <link>, and a bare Spotify link pasted into the chat.
 *
 * @module
 */
import { Composer } from "grammy";
import type { BotContext, BotDeps } from "../context.ts";
import { parseSpotifyLink } from "../../links/spotify.ts";
import { InvalidLinkError, RateLimitedError } from "../../errors.ts";
import { EXAMPLE_LINK } from "../../links/spotify.ts";
import { cancelKeyboard, renderStatus, renderSummary } from "../../progress/render.ts";
import { isFinal } from "../../jobs/model.ts";
import { command, commandArgument } from "./command.ts";

/** Does this text look like the user meant a Spotify link? */
export function looksLikeSpotifyLink(text: string): boolean {
  return /^\s*(https?:\/\/)?(open|play)\.spotify\.com\//i.test(text) || /^\s*spotify:/i.test(text);
}

/** The /download command and pasted links. */
export function downloadFeature(deps: BotDeps): Composer<BotContext> {
  const handle = async (ctx: BotContext, text: string) => {
    if (text === "") {
      throw new InvalidLinkError(
        `Send the link after the command, for example:\n/download ${EXAMPLE_LINK}`,
        text,
      );
    }
    const link = parseSpotifyLink(text);
    const userId = ctx.from!.id;
    const chatId = ctx.chat!.id;
    const decision = await deps.limits.downloads.take(userId);
    if (!decision.allowed) throw new RateLimitedError(decision.retryAfterSeconds, "downloads");
    const { job, created, position } = await deps.jobs.submit({ userId, chatId, link });
    ctx.log.info(created ? "job submitted" : "job reused", { job_id: job.id, url: link.url });
    const now = deps.now();
    if (!created && job.state === "succeeded") {
      const links = await deps.fileLinks(job);
      await ctx.reply(
        `You downloaded this recently, so here it is again.\n\n${
          renderSummary(job, { links, now })
        }`,
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
    const latest = await deps.jobs.status({ userId, isAdmin: false }, job.id);
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
  };

  const composer = new Composer<BotContext>();
  composer.command(
    "download",
    command("download", deps, (ctx) => handle(ctx, commandArgument(ctx))),
  );
  composer.on(
    "message:text",
    async (ctx, next) => {
      if (ctx.message.text.startsWith("/") || !looksLikeSpotifyLink(ctx.message.text)) {
        return await next();
      }
      await command("download", deps, (c) => handle(c, c.message!.text!))(ctx);
    },
  );
  return composer;
}
