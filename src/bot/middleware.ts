/**
 * Middleware that runs before any feature: per-update logging context, the whitelist, and the
 * per-user command rate limit.
 *
 * @module
 */
import type { MiddlewareFn } from "grammy";
import type { BotContext, BotDeps } from "./context.ts";
import { refusalText } from "./texts.ts";
import { OutgoingDroppedError, withPriority } from "../chat/priority.ts";
import { formatSeconds } from "../runtime/duration.ts";
import { errorText } from "../runtime/error_text.ts";

/** The command an update carries ("/status abc" → "status"), or its kind for other updates. */
export function commandOf(ctx: BotContext): string {
  const text = ctx.message?.text ?? ctx.message?.caption;
  if (text?.startsWith("/")) {
    const name = text.slice(1).split(/[\s@]/, 1)[0]?.toLowerCase();
    if (name) return name;
  }
  if (ctx.callbackQuery) return "button";
  if (ctx.message?.text) return "text";
  return "other";
}

/**
 * Drops updates whose fields do not have the types the Bot API documents (a text that is not a
 * string, a sender without a numeric id): nothing further down has to doubt them. Logged once
 * each, at warning.
 */
export function wellFormed(deps: Pick<BotDeps, "logger">): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    const message = ctx.update.message as Record<string, unknown> | undefined;
    const callback = ctx.update.callback_query as Record<string, unknown> | undefined;
    const from = (message?.from ?? callback?.from) as Record<string, unknown> | undefined;
    const bad = (message && !optionalString(message.text)) ||
      (message && !optionalString(message.caption)) ||
      (callback && !optionalString(callback.data)) ||
      (from !== undefined && typeof from.id !== "number");
    if (bad) {
      deps.logger.warn("dropped a malformed update", { update_id: ctx.update.update_id });
      return;
    }
    await next();
  };
}

function optionalString(value: unknown): boolean {
  return value === undefined || typeof value === "string";
}

/** Attaches `ctx.log` with update, user and chat ids, and logs each update with its duration. */
export function logContext(deps: Pick<BotDeps, "logger">): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    const started = performance.now();
    const command = commandOf(ctx);
    ctx.log = deps.logger.with({
      update_id: ctx.update.update_id,
      user_id: ctx.from?.id,
      chat_id: ctx.chat?.id,
      command,
    });
    try {
      await next();
    } finally {
      ctx.log.info("update handled", { duration_ms: Math.round(performance.now() - started) });
    }
  };
}

/**
 * Lets whitelisted users through. Everyone else gets one refusal that shows their numeric id
 * (rate-limited, so spam is answered once) and nothing they send reaches a handler.
 */
export function whitelist(deps: Pick<BotDeps, "access" | "limits" | "metrics">): MiddlewareFn<
  BotContext
> {
  return async (ctx, next) => {
    const userId = ctx.from?.id;
    if (userId !== undefined && deps.access.isAllowed(userId)) {
      ctx.requester = { userId, isAdmin: deps.access.isAdmin(userId) };
      return await next();
    }
    deps.metrics.rejected("unauthorized");
    ctx.log.warn("unauthorized", { username: ctx.from?.username });
    if (userId === undefined) return;
    const decision = await deps.limits.refusals.take(userId);
    if (ctx.callbackQuery) {
      // The spinner must stop either way; the pop-up counts as the day's refusal.
      await ctx.answerCallbackQuery(
        decision.allowed ? { text: "This bot is private.", show_alert: true } : {},
      );
    } else if (decision.allowed && ctx.chat) {
      try {
        await withPriority("refusal", () => ctx.reply(refusalText(userId)));
      } catch (error) {
        if (!(error instanceof OutgoingDroppedError)) throw error;
        deps.metrics.refusalDropped();
        ctx.log.debug("refusal not sent: the bot is busy");
      }
    }
  };
}

/** What a busy user hears; once a minute at most. */
export const BUSY_TEXT =
  "I'm very busy right now and could not take that: please try again in a minute.";

/** How long a user who heard {@linkcode BUSY_TEXT} is not told again. */
const BUSY_QUIET_MS = 60_000;

/**
 * Under overload, does not run new commands: while `rate_limit.busy_backlog` messages wait to go
 * out, a message is answered "busy" (once a minute per user, without waiting for the answer to
 * leave) and counted, so the handlers never hold the intake and updates keep being read. Button
 * presses still go through (their spinner is answered at once, outside the backlog).
 */
export function busyGuard(deps: Pick<BotDeps, "busy" | "metrics" | "now">): MiddlewareFn<
  BotContext
> {
  const told = new Map<number, number>();
  return async (ctx, next) => {
    const { backlog, waiting } = deps.busy;
    const userId = ctx.from?.id;
    if (backlog === 0 || ctx.callbackQuery || userId === undefined || waiting() < backlog) {
      return await next();
    }
    deps.metrics.rejected("busy");
    const now = deps.now();
    if ((told.get(userId) ?? 0) > now || ctx.chat === undefined) return;
    if (told.size > 10_000) {
      for (const [user, until] of told) if (until <= now) told.delete(user);
    }
    told.set(userId, now + BUSY_QUIET_MS);
    ctx.log.info("busy: command not taken", { waiting: waiting() });
    ctx.reply(BUSY_TEXT).catch((error) => {
      ctx.log.warn("could not tell a user the bot is busy", { error: errorText(error) });
    });
  };
}

/** Per-chat queues {@linkcode commandRateLimit} runs in (both `sequentialize` middleware). */
export interface ChatOrdering {
  /** A short queue for the token decision, so a chat's commands are judged in order. */
  decide: MiddlewareFn<BotContext>;
  /** The chat's reply queue: carries the one "slow down" reply behind earlier answers. */
  reply: MiddlewareFn<BotContext>;
}

/** Runs `fn` inside `queue` (a per-chat `sequentialize` middleware) and returns its result. */
async function inQueue<T>(
  queue: MiddlewareFn<BotContext> | undefined,
  ctx: BotContext,
  fn: () => Promise<T>,
): Promise<T> {
  if (queue === undefined) return await fn();
  const box: { value?: T } = {};
  await queue(ctx, async () => {
    box.value = await fn();
  });
  return box.value as T;
}

/**
 * Per-user command bucket: a throttled user hears once when to try again, then silence.
 * With `ordering`, it runs before the chat's reply queue: denied messages never wait behind
 * throttled replies, yet decisions and the "slow down" reply keep the chat's message order.
 */
export function commandRateLimit(
  deps: Pick<BotDeps, "limits" | "metrics">,
  ordering?: ChatOrdering,
): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    const userId = ctx.from?.id;
    if (userId === undefined) return;
    const decision = await inQueue(ordering?.decide, ctx, () => deps.limits.commands.take(userId));
    if (decision.allowed) return await next();
    deps.metrics.rejected("rate_limited");
    ctx.log.info("rate limited", { retry_after_s: decision.retryAfterSeconds });
    const text = `Slow down a little: try again in ${formatSeconds(decision.retryAfterSeconds)}.`;
    if (ctx.callbackQuery) await ctx.answerCallbackQuery({ text });
    else if (decision.firstDenial) await inQueue(ordering?.reply, ctx, () => ctx.reply(text));
  };
}
