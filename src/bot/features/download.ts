/**
 * /download <link>, and a bare Spotify link pasted into the chat.
 *
 * @module
 */
import { Composer } from "grammy";
import type { Chat } from "grammy/types";
import type { BotContext, BotDeps } from "../context.ts";
import { EXAMPLE_LINK, parseSpotifyLink } from "../../links/spotify.ts";
import { InvalidLinkError, RateLimitedError } from "../../errors.ts";
import { command, commandArgument } from "./command.ts";
import { showSubmittedJob } from "./job_message.ts";

/** Does this text look like the user meant a Spotify link? */
export function looksLikeSpotifyLink(text: string): boolean {
  return /^\s*(https?:\/\/)?(open|play)\.spotify\.com\//i.test(text) || /^\s*spotify:/i.test(text);
}

/** A context in a chat (a command or a pasted link). */
type ChatContext = BotContext & { chat: Chat };

/** The /download command and pasted links. */
export function downloadFeature(deps: BotDeps): Composer<BotContext> {
  const handle = async (ctx: ChatContext, text: string) => {
    if (text === "") {
      throw new InvalidLinkError(
        `Send the link after the command, for example:\n/download ${EXAMPLE_LINK}`,
        text,
      );
    }
    const link = parseSpotifyLink(text);
    const { userId } = ctx.requester;
    const decision = await deps.limits.downloads.take(userId);
    if (!decision.allowed) throw new RateLimitedError(decision.retryAfterSeconds, "downloads");
    const submitted = await deps.jobs.submit({ userId, chatId: ctx.chat.id, link });
    ctx.log.info(submitted.created ? "job submitted" : "job reused", {
      job_id: submitted.job.id,
      url: link.url,
    });
    await showSubmittedJob(ctx, deps, submitted);
  };

  const composer = new Composer<BotContext>();
  composer.command(
    "download",
    command("download", deps, (ctx) => handle(ctx, commandArgument(ctx))),
  );
  const pasted = composer.on("message:text").filter((ctx) =>
    !ctx.message.text.startsWith("/") && looksLikeSpotifyLink(ctx.message.text)
  );
  pasted.use(command("download", deps, (ctx) => handle(ctx, ctx.message.text)));
  return composer;
}
