/**
 * /start and /help.
 *
 * @module
 */
import { Composer } from "grammy";
import type { BotContext, BotDeps } from "../context.ts";
import { HELP_TEXT, startText } from "../texts.ts";
import { command } from "./command.ts";

/** The /start and /help commands. */
export function helpFeature(deps: BotDeps): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.command(
    "start",
    command("start", deps, async (ctx) => {
      await ctx.reply(startText(ctx.from?.first_name));
    }),
  );
  composer.command(
    "help",
    command("help", deps, async (ctx) => {
      await ctx.reply(HELP_TEXT);
    }),
  );
  return composer;
}
