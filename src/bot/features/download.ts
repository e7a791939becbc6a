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
import { command, commandArgument } from "./command.ts";
import { showSubmittedJob } from "./job_message.ts";

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
    const submitted = await deps.jobs.submit({ userId, chatId, link });
    ctx.log.info(submitted.created ? "job submitted" : "job reused", {
      job_id: submitted.job.id,
      url: link.url,
    });
    await showSubmittedJob(ctx, deps, submitted, { userId, isAdmin: false });
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
