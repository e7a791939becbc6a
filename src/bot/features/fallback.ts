/**
 * Registered last: anything no feature handled gets a pointer to /help.
 *
 * @module
 */
import { Composer } from "grammy";
import type { BotContext, BotDeps } from "../context.ts";
import { command } from "./command.ts";

/** Unknown commands and other messages. */
export function fallbackFeature(deps: BotDeps): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.on(
    "message",
    command("unknown", deps, async (ctx) => {
      if (ctx.chat?.type !== "private" && !ctx.message?.text?.startsWith("/")) return;
      const text = ctx.message?.text?.startsWith("/")
        ? "I don't know that command. Send /help to see what I can do."
        : "Send me a Spotify link, or /help to see what I can do.";
      await ctx.reply(text);
    }),
  );
  return composer;
}
