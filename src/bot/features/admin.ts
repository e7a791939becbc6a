/**
 * /admin: the bot's state for its admins (`telegram.admin_user_ids`); others are told it is not
 * for them.
 *
 * @module
 */
import { Composer } from "grammy";
import type { BotContext, BotDeps } from "../context.ts";
import { command } from "./command.ts";

/** The /admin command. */
export function adminFeature(deps: BotDeps): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.command(
    "admin",
    command("admin", deps, async (ctx) => {
      if (!ctx.requester.isAdmin) {
        await ctx.reply("This command is for the bot's admins.");
        return;
      }
      await ctx.reply(await deps.adminReport());
    }),
  );
  return composer;
}
