/**
 * Registered last: anything no feature handled gets a pointer to /help, and a button whose data
 * no feature knows (an old keyboard) gets a short notice.
 *
 * @module
 */
import { Composer } from "grammy";
import type { BotContext, BotDeps } from "../context.ts";
import { command } from "./command.ts";

/** Unknown commands, other messages and stale buttons. */
export function fallbackFeature(deps: BotDeps): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.on(
    "message",
    command("unknown", deps, async (ctx) => {
      const isCommand = ctx.message.text?.startsWith("/") ?? false;
      if (ctx.chat.type !== "private" && !isCommand) return;
      await ctx.reply(
        isCommand
          ? "I don't know that command. Send /help to see what I can do."
          : "Send me a Spotify link, or /help to see what I can do.",
      );
    }),
  );
  composer.on(
    "callback_query:data",
    command("button", deps, async (ctx) => {
      await ctx.answerCallbackQuery({ text: "This button is no longer valid." });
    }),
  );
  return composer;
}
