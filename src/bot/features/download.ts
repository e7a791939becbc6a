/**
 * /download <link>, and any message with a Spotify link in it: each link (up to
 * `links.max_per_message`) becomes a job; links that are not valid get their refusal.
 *
 * @module
 */
import { Composer } from "grammy";
import type { Chat } from "grammy/types";
import type { BotContext, BotDeps } from "../context.ts";
import { EXAMPLE_LINK, parseSpotifyLink, type SpotifyLink } from "../../links/spotify.ts";
import { LinkReader } from "../../links/reader.ts";
import { InvalidLinkError, RateLimitedError } from "../../errors.ts";
import { escapeHtml } from "../../chat/format.ts";
import { command, commandArgument } from "./command.ts";
import { showSubmittedJob } from "./job_message.ts";

/** Does this text have a Spotify link in it? */
export function looksLikeSpotifyLink(text: string): boolean {
  return LinkReader.mentionsSpotify(text);
}

/** A context in a chat (a command or a pasted link). */
type ChatContext = BotContext & { chat: Chat };

/** The /download command and pasted links. */
export function downloadFeature(deps: BotDeps): Composer<BotContext> {
  const start = async (ctx: ChatContext, link: SpotifyLink) => {
    const { userId } = ctx.requester;
    const decision = await deps.limits.downloads.take(userId);
    if (!decision.allowed) throw new RateLimitedError(decision.retryAfterSeconds, "downloads");
    const { chosenAudio: audio, listsAsAudio } = await deps.settings.of(userId);
    const submitted = await deps.jobs.submit({
      userId,
      chatId: ctx.chat.id,
      link,
      ...(audio === undefined ? {} : { audio }),
      ...(listsAsAudio && link.kind !== "track" ? { asAudio: true } : {}),
    });
    ctx.log.info(submitted.created ? "job submitted" : "job reused", {
      job_id: submitted.job.id,
      url: link.url,
    });
    await showSubmittedJob(ctx, deps, submitted);
  };

  const handle = async (ctx: ChatContext, text: string) => {
    if (text === "") {
      throw new InvalidLinkError(
        `Send the link after the command, for example:\n/download ${EXAMPLE_LINK}`,
        text,
      );
    }
    const read = await deps.links.read(text);
    if (read.links.length === 0) {
      // Nothing valid: the one refusal that says best what is wrong.
      throw read.refused[0] ?? linkRefusal(text);
    }
    for (const refusal of read.refused) await ctx.reply(escapeHtml(refusal.userMessage));
    if (read.ignored > 0) {
      await ctx.reply(
        `Only the first ${read.limit} links of a message are taken: send the other ` +
          `${read.ignored} in another message.`,
      );
    }
    for (const link of read.links) await start(ctx, link);
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

/** Why a text with no Spotify link in it is refused (parsing it names the reason). */
function linkRefusal(text: string): InvalidLinkError {
  try {
    parseSpotifyLink(text);
  } catch (error) {
    if (error instanceof InvalidLinkError) return error;
    throw error;
  }
  return new InvalidLinkError("That message has no Spotify link in it.", text);
}
