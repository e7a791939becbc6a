/**
 * The load test's bare baseline: a plain grammY bot that echoes every text message, run with
 * `@grammyjs/runner` and its defaults. No whitelist, no rate limits, no KV, no outgoing throttle,
 * no retries: the floor of what any grammY bot costs, to compare dlbot against.
 *
 * @module
 */
import "../src/runtime/quiet_node_warnings.ts";
import { Bot } from "grammy";
import { run, type RunnerHandle } from "@grammyjs/runner";

/** A running echo bot. */
export interface EchoBot {
  /** Updates that reached the bot's middleware. */
  readonly handled: number;
  /** Replies that failed (for example with 429 Too Many Requests). */
  readonly failedReplies: number;
  /** Stops polling and waits for updates in flight. */
  stop(): Promise<void>;
}

/** Starts an echo bot against the Bot API at `apiRoot` (an emulator). */
export async function startEchoBot(options: { token: string; apiRoot: string }): Promise<EchoBot> {
  const bot = new Bot(options.token, { client: { apiRoot: options.apiRoot } });
  let handled = 0;
  let failedReplies = 0;
  bot.use((_ctx, next) => {
    handled++;
    return next();
  });
  bot.on("message:text", (ctx) => ctx.reply(ctx.message.text));
  bot.catch(() => {
    failedReplies++;
  });
  await bot.init();
  const runner: RunnerHandle = run(bot, {
    runner: { fetch: { allowed_updates: ["message"] }, silent: true },
  });
  return {
    get handled() {
      return handled;
    },
    get failedReplies() {
      return failedReplies;
    },
    async stop() {
      if (runner.isRunning()) await runner.stop();
    },
  };
}
