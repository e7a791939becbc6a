/**
 * The bot's connection to Telegram: the grammY bot with its outgoing behaviour (text defaults,
 * monitoring, throttle, retries), and when Telegram last answered (for readiness).
 *
 * @module
 */
import { type Bot, webhookCallback } from "grammy";
import { run, type RunnerHandle } from "@grammyjs/runner";
import { createBot } from "../bot/bot.ts";
import { describeApiError, installApiBehaviour } from "../bot/api.ts";
import type { BotContext } from "../bot/context.ts";
import type { Config } from "../config/schema.ts";
import type { AppLogger, Log } from "../log/logger.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { WebhookRoute } from "../http/server.ts";
import { connectToTelegram, FatalError, isTokenRejected } from "./connect.ts";
import { OutageTracker } from "./outage.ts";
import { COMMANDS } from "../bot/texts.ts";
import type { SharedOutgoingBudget } from "../ratelimit/outgoing_budget.ts";

/** Spacing of calls to one chat, in milliseconds. */
export interface ChatPace {
  privateMs: number;
  groupMs: number;
  /** Least time between any two calls of the bot (default: Telegram's 30 a second). */
  botWideMs?: number;
}

/** The bot and what is known about Telegram's answers. */
export interface TelegramClient {
  bot: Bot<BotContext>;
  /** When Telegram last answered a call or sent an update; undefined before the first. */
  lastSuccessAt(): number | undefined;
  /** Telegram answered just now. */
  markSuccess(): void;
  /** Outages as they start and end. */
  outages: OutageTracker;
  /** Calls waiting in the outgoing throttle: the bot's backlog toward Telegram. */
  outgoingWaiting(): number;
}

/** What {@linkcode createTelegramClient} needs. */
export interface TelegramClientOptions {
  token: string;
  config: Config;
  metrics: Metrics;
  logger: AppLogger;
  now: () => number;
  chatPace?: ChatPace;
  /** Telegram's limits shared with the other processes on the store, if any. */
  sharedBudget?: SharedOutgoingBudget;
}

/** Creates the bot with its outgoing behaviour installed. */
export function createTelegramClient(options: TelegramClientOptions): TelegramClient {
  const { metrics, now } = options;
  let lastSuccess: number | undefined;
  const outages = new OutageTracker({ logger: options.logger, metrics, now });
  const bot = createBot(options.token, { client: { apiRoot: options.config.telegram.api_root } });
  const { outgoingWaiting } = installApiBehaviour(bot.api, {
    logger: options.logger,
    throttleOptions: {
      ...(options.chatPace && {
        privateChatIntervalMs: options.chatPace.privateMs,
        groupChatIntervalMs: options.chatPace.groupMs,
        ...(options.chatPace.botWideMs === undefined
          ? {}
          : { globalIntervalMs: options.chatPace.botWideMs }),
      }),
      ...(options.sharedBudget && { shared: options.sharedBudget }),
    },
    monitor: {
      success() {
        lastSuccess = now();
        outages.answered();
      },
      failure(method, code, willRetry, detail) {
        metrics.telegramApiErrors.inc({ method, code });
        if (willRetry) metrics.telegramRetries.inc();
        if (code === "network" || Number(code) >= 500) outages.failed(method, detail);
      },
    },
  });
  const client: TelegramClient = {
    bot,
    outages,
    outgoingWaiting,
    lastSuccessAt: () => lastSuccess,
    markSuccess() {
      lastSuccess = now();
    },
  };
  bot.use((_ctx, next) => {
    metrics.updatesReceived.inc();
    client.markSuccess();
    return next();
  });
  return client;
}

/** The webhook route of a bot in webhook mode; undefined in polling mode. */
export function webhookRoute(
  bot: Bot<BotContext>,
  config: Config,
): (WebhookRoute & { url: string }) | undefined {
  const { url, secret_token: secretToken } = config.telegram.webhook;
  if (config.telegram.mode !== "webhook" || !url || !secretToken) return undefined;
  return {
    url,
    path: new URL(url).pathname,
    secretToken,
    handle: webhookCallback(bot, "std/http", { secretToken }),
  };
}

/** Updates the bot asks Telegram for. */
export const ALLOWED_UPDATES = ["message", "callback_query"] as const;

/**
 * Wait between failed getUpdates calls. Fixed rather than growing, so polling resumes within
 * seconds of Telegram coming back after an outage of any length.
 */
const POLL_RETRY_MS = 2000;

/** What {@linkcode startPolling} needs. */
export interface PollingOptions {
  logger: Log;
  /** Aborted on shutdown: polling ending then is not fatal. */
  stopSignal: AbortSignal;
  /** Polling ended for good. */
  onFatal(error: FatalError): void;
  retryMs?: number;
}

/** Starts long polling with grammY's runner. */
export function startPolling(bot: Bot<BotContext>, options: PollingOptions): RunnerHandle {
  const runner = run(bot, {
    runner: {
      fetch: { allowed_updates: ALLOWED_UPDATES, timeout: 30 },
      maxRetryTime: Number.MAX_SAFE_INTEGER,
      retryInterval: options.retryMs ?? POLL_RETRY_MS,
      silent: true,
    },
    // Updates waiting in a chat's queue (behind replies throttled to 1 a second) hold a
    // slot, so a low limit lets a few busy chats stall everyone: keep the runner's default.
    sink: { concurrency: 500 },
  });
  runner.task()?.catch((error) => {
    if (options.stopSignal.aborted) return;
    options.logger.error("polling stopped for good", describeApiError(error));
    options.onFatal(
      new FatalError(
        isTokenRejected(error)
          ? "Telegram rejected the bot token while polling"
          : "polling for updates failed and cannot continue (is another instance polling with this token?)",
        { cause: error },
      ),
    );
  });
  return runner;
}

/** What {@linkcode goLive} needs. */
export interface GoLiveOptions {
  telegram: TelegramClient;
  config: Config;
  logger: AppLogger;
  token: string;
  webhook: ReturnType<typeof webhookRoute>;
  stopSignal: AbortSignal;
  onFatal: (error: FatalError) => void;
  pollRetryMs?: number;
  /** How often webhook mode probes Telegram (default a minute). */
  webhookProbeMs?: number;
  httpAddress: { hostname: string; port: number };
  /** False for a worker: connect and keep readiness fresh, but take no updates. */
  takeUpdates?: boolean;
}

/**
 * Connects to Telegram, sets the command menu, then registers the webhook or starts polling
 * (returning the runner).
 */
export async function goLive(o: GoLiveOptions): Promise<RunnerHandle | undefined> {
  const { bot } = o.telegram;
  bot.botInfo = await connectToTelegram({
    token: o.token,
    apiRoot: o.config.telegram.api_root,
    logger: o.logger,
    signal: o.stopSignal,
  });
  o.telegram.markSuccess();
  o.logger.info("connected to Telegram", {
    bot_username: bot.botInfo.username,
    api_root: o.config.telegram.api_root,
    mode: o.takeUpdates === false ? "worker" : o.config.telegram.mode,
    http: `${o.httpAddress.hostname}:${o.httpAddress.port}`,
  });
  if (o.takeUpdates === false) {
    // A worker calls Telegram only for its jobs' chats: getMe keeps "Telegram answered" fresh.
    startProbe(() => bot.api.getMe(), {
      logger: o.logger,
      signal: o.stopSignal,
      intervalMs: o.webhookProbeMs,
    });
    return undefined;
  }
  // The command menu does not hold up taking updates: it goes out beside them.
  const menu = bot.api.setMyCommands(COMMANDS).catch((error) => {
    o.logger.warn("could not set the command menu", describeApiError(error));
  });
  if (o.webhook) {
    await menu;
    await bot.api.setWebhook(o.webhook.url, {
      secret_token: o.webhook.secretToken,
      allowed_updates: ALLOWED_UPDATES,
    });
    startWebhookProbe(bot, {
      logger: o.logger,
      signal: o.stopSignal,
      intervalMs: o.webhookProbeMs,
    });
    return undefined;
  }
  await bot.api.deleteWebhook();
  return startPolling(bot, {
    logger: o.logger,
    stopSignal: o.stopSignal,
    onFatal: o.onFatal,
    retryMs: o.pollRetryMs,
  });
}

/** Calls `call` every `intervalMs` (a minute) until `signal` aborts; failures are only logged. */
function startProbe(
  call: () => Promise<unknown>,
  options: { logger: Log; signal: AbortSignal; intervalMs?: number },
): void {
  const timer = setInterval(() => {
    call().catch((error) => options.logger.debug("Telegram probe failed", describeApiError(error)));
  }, options.intervalMs ?? WEBHOOK_PROBE_MS);
  options.signal.addEventListener("abort", () => clearInterval(timer), { once: true });
}

/** How often a bot in webhook mode asks Telegram about its webhook when nobody writes. */
const WEBHOOK_PROBE_MS = 60_000;

/**
 * In webhook mode nothing calls Telegram while nobody writes, so readiness could not tell a quiet
 * bot from a cut-off one: `getWebhookInfo` every minute keeps "Telegram answered" fresh, and the
 * errors Telegram met delivering updates to the webhook are logged (once each).
 */
export function startWebhookProbe(
  bot: Bot<BotContext>,
  options: { logger: Log; signal: AbortSignal; intervalMs?: number },
): void {
  let lastErrorDate = 0;
  const probe = async () => {
    try {
      const info = await bot.api.getWebhookInfo();
      if (info.last_error_date !== undefined && info.last_error_date > lastErrorDate) {
        lastErrorDate = info.last_error_date;
        options.logger.warn("Telegram could not deliver updates to the webhook", {
          error: info.last_error_message,
          pending_updates: info.pending_update_count,
        });
      }
    } catch (error) {
      options.logger.debug("webhook probe failed", describeApiError(error));
    }
  };
  const timer = setInterval(probe, options.intervalMs ?? WEBHOOK_PROBE_MS);
  options.signal.addEventListener("abort", () => clearInterval(timer), { once: true });
}
