/**
 * Shared wrapper for command handlers: measures them, turns typed user errors into a reply, and
 * records the outcome in metrics. Unexpected errors propagate to the bot's error boundary.
 *
 * @module
 */
import type { BotContext, BotDeps } from "../context.ts";
import { QueueFullError, RateLimitedError, UserFacingError } from "../../errors.ts";
import { escapeHtml } from "../../chat/format.ts";

/** A handler for one command, typed with the (narrowed) context grammY gives it. */
export type CommandHandler<C extends BotContext = BotContext> = (ctx: C) => Promise<void>;

/** Wraps a handler with error replies and metrics under the command's name. */
export function command<C extends BotContext>(
  name: string,
  deps: Pick<BotDeps, "metrics">,
  handler: CommandHandler<C>,
): CommandHandler<C> {
  return async (ctx) => {
    const started = performance.now();
    let outcome = "ok";
    try {
      await handler(ctx);
    } catch (error) {
      if (!(error instanceof UserFacingError)) {
        outcome = "error";
        throw error;
      }
      outcome = error instanceof RateLimitedError ? "rate_limited" : "user_error";
      if (error instanceof QueueFullError) deps.metrics.rejected("queue_full");
      if (error instanceof RateLimitedError) deps.metrics.rejected("rate_limited");
      ctx.log.info("user error", { code: error.code, detail: error.message });
      if (ctx.callbackQuery) await ctx.answerCallbackQuery({ text: error.userMessage });
      else await ctx.reply(escapeHtml(error.userMessage));
    } finally {
      deps.metrics.command(name, outcome, (performance.now() - started) / 1000);
    }
  };
}

/** The text after the command, trimmed ("/status  abc " → "abc"). */
export function commandArgument(ctx: BotContext): string {
  return typeof ctx.match === "string" ? ctx.match.trim() : "";
}
