/**
 * The bot factory: middleware order and features. Services come in through {@linkcode BotDeps}.
 *
 * Order: logging context → whitelist → command rate limit → busy guard (under overload) →
 * per-chat sequencing (for the runner) → features → fallback, all inside one error boundary. Refusals and rate-limit denials come
 * before the per-chat queue, so a spammer's dropped messages never wait in it (and never hold one
 * of the runner's concurrent slots while earlier replies to that chat are throttled); the one
 * "slow down" reply still queues, so it arrives after the answers to earlier commands.
 *
 * @module
 */
import { Bot, type BotConfig } from "grammy";
import { sequentialize } from "@grammyjs/runner";
import type { BotContext, BotDeps } from "./context.ts";
import { busyGuard, commandRateLimit, logContext, wellFormed, whitelist } from "./middleware.ts";
import { helpFeature } from "./features/help.ts";
import { downloadFeature } from "./features/download.ts";
import { statusFeature } from "./features/status.ts";
import { settingsFeature } from "./features/settings.ts";
import { cancelFeature } from "./features/cancel.ts";
import { confirmFeature } from "./features/confirm.ts";
import { fallbackFeature } from "./features/fallback.ts";
import { adminFeature } from "./features/admin.ts";
import { INTERNAL_ERROR_TEXT } from "./texts.ts";
import { describeApiError } from "./api.ts";

/** Creates the bot object; handlers come with {@linkcode installHandlers}. */
export function createBot(token: string, config?: BotConfig<BotContext>): Bot<BotContext> {
  return new Bot<BotContext>(token, config);
}

/** Installs the middleware and every feature on a bot. */
export function installHandlers(bot: Bot<BotContext>, deps: BotDeps): void {
  const chatKey = (ctx: BotContext) => ctx.chat?.id.toString() ?? ctx.from?.id.toString();
  const inChatOrder = sequentialize<BotContext>(chatKey);
  bot.use(wellFormed(deps));
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
    .use(commandRateLimit(deps, { decide: sequentialize(chatKey), reply: inChatOrder }))
    .use(busyGuard(deps))
    .use(inChatOrder)
    .use(helpFeature(deps))
    .use(downloadFeature(deps))
    .use(statusFeature(deps))
    .use(confirmFeature(deps))
    .use(cancelFeature(deps))
    .use(settingsFeature(deps))
    .use(adminFeature(deps))
    .use(fallbackFeature(deps));
  bot.catch((err) => {
    deps.logger.error("unhandled bot error", {
      update_id: err.ctx.update.update_id,
      ...describeApiError(err.error),
    });
  });
}
