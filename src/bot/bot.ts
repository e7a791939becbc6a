/**
 * The bot factory: middleware order and features. Services come in through {@linkcode BotDeps}.
 *
 * Order: per-chat sequencing (for the runner) → logging context → whitelist → command rate limit
 * → features → fallback, all inside one error boundary.
 *
 * @module
 */
import { Bot, type BotConfig } from "grammy";
import { sequentialize } from "@grammyjs/runner";
import type { BotContext, BotDeps } from "./context.ts";
import { commandRateLimit, logContext, whitelist } from "./middleware.ts";
import { helpFeature } from "./features/help.ts";
import { downloadFeature } from "./features/download.ts";
import { statusFeature } from "./features/status.ts";
import { cancelFeature } from "./features/cancel.ts";
import { fallbackFeature } from "./features/fallback.ts";
import { INTERNAL_ERROR_TEXT } from "./texts.ts";
import { describeApiError } from "./api.ts";

/** Creates the bot object; handlers come with {@linkcode installHandlers}. */
export function createBot(token: string, config?: BotConfig<BotContext>): Bot<BotContext> {
  return new Bot<BotContext>(token, config);
}

/** Installs the middleware and every feature on a bot. */
export function installHandlers(bot: Bot<BotContext>, deps: BotDeps): void {
  bot.use(sequentialize((ctx) => ctx.chat?.id.toString() ?? ctx.from?.id.toString()));
  bot.use(logContext(deps));
  bot.errorBoundary(async (err) => {
    const ctx = err.ctx;
    ctx.log.error("update failed", describeApiError(err.error));
    try {
      if (ctx.callbackQuery) await ctx.answerCallbackQuery({ text: INTERNAL_ERROR_TEXT });
      else if (ctx.chat) await ctx.reply(INTERNAL_ERROR_TEXT);
    } catch (replyError) {
      ctx.log.warn("could not tell the user about an error", describeApiError(replyError));
    }
  })
    .use(whitelist(deps))
    .use(commandRateLimit(deps))
    .use(helpFeature(deps))
    .use(downloadFeature(deps))
    .use(statusFeature(deps))
    .use(cancelFeature(deps))
    .use(fallbackFeature(deps));
  bot.catch((err) => {
    deps.logger.error("unhandled bot error", {
      update_id: err.ctx.update.update_id,
      ...describeApiError(err.error),
    });
  });
}
