/**
 * The composition root: builds every service from the configuration and wires them together.
 * Nothing else constructs services; tests pass overrides (a downloader, a clock) through
 * {@linkcode AppOptions}.
 *
 * @module
 */
import { webhookCallback } from "grammy";
import { run, type RunnerHandle } from "@grammyjs/runner";
import type { Config } from "../config/schema.ts";
import type { AppLogger } from "../log/logger.ts";
import type { Downloader } from "../downloader/types.ts";
import { createBot, installHandlers } from "../bot/bot.ts";
import { describeApiError, installApiBehaviour } from "../bot/api.ts";
import { COMMANDS } from "../bot/texts.ts";
import { downloaderFromConfig, inspectOutput } from "../downloader/mod.ts";
import { JobWorker } from "../jobs/worker.ts";
import { KvJobService } from "../jobs/kv_service.ts";
import { jobTimings } from "../jobs/store.ts";
import { ChatUpdater } from "../chat/updater.ts";
import { createMetrics, type Metrics } from "../metrics/metrics.ts";
import { LinkSigner, loadOrCreateSigningSecret } from "../http/signing.ts";
import { fileLinksFor } from "../http/file_links.ts";
import { createHealthChecks } from "../http/health.ts";
import { createHttpHandler, startHttpServer } from "../http/server.ts";
import { urlHost } from "../runtime/host.ts";
import { type AppPaths, ensureDirectories, resolvePaths } from "./paths.ts";
import { connectToTelegram, FatalError, isTokenRejected } from "./connect.ts";
import { botDeps } from "./bot_deps.ts";

export { FatalError } from "./connect.ts";
export type { AppPaths } from "./paths.ts";

/** Everything `createApp` needs besides the configuration. */
export interface AppOptions {
  config: Config;
  logger: AppLogger;
  /** Bot token (already validated as present by the caller). */
  token: string;
  /** Replaces the configured downloader (tests). */
  downloader?: Downloader;
  /** KV location override (the sandbox uses its own file). */
  kvPath?: string;
  /** Extra whitelisted users (the sandbox's terminal user). */
  extraAllowedUserIds?: readonly number[];
  /** The clock (milliseconds since the epoch) for jobs, limits and link expiry; tests inject one. */
  now?: () => number;
  /**
   * Least time between two calls to one chat, in milliseconds (default: Telegram's limits, one a
   * second in private chats, twenty a minute in groups). Only a Bot API without flood limits (an
   * emulator in tests) may be paced faster.
   */
  chatPace?: { privateMs: number; groupMs: number };
  /** Wait between failed getUpdates calls (default 2 s). */
  pollRetryMs?: number;
}

/** A running bot. */
export interface App {
  /** Where the HTTP server listens (port resolved when configured as 0). */
  readonly httpAddress: { hostname: string; port: number };
  readonly paths: AppPaths;
  readonly metrics: Metrics;
  /** Starts polling (or registers the webhook), the job worker and the HTTP server. */
  start(): Promise<void>;
  /**
   * Graceful stop: new downloads are refused, running jobs get `shutdown.grace_seconds` to
   * finish and are then stopped and re-queued, polling stops, KV closes.
   */
  stop(): Promise<void>;
  /** Signals every running download to stop at once (before an immediate exit). */
  abortDownloads(): void;
  /**
   * Settles with the reason when the bot cannot go on (the token was rejected, polling ended
   * for good); the CLI then stops and exits non-zero so the supervisor notices.
   */
  readonly fatal: Promise<FatalError>;
}

/**
 * Wait between failed getUpdates calls. Fixed rather than growing, so polling resumes within
 * seconds of Telegram coming back after an outage of any length.
 */
const POLL_RETRY_MS = 2000;

/** Updates the bot asks Telegram for. */
const ALLOWED_UPDATES = ["message", "callback_query"] as const;

/** Builds the whole application. Call `start()` to go live. */
export async function createApp(options: AppOptions): Promise<App> {
  const { config, logger } = options;
  const now = options.now ?? Date.now;
  const paths = resolvePaths(config, options.kvPath);
  await ensureDirectories(paths);
  const kv = await Deno.openKv(paths.kvPath);
  const metrics = createMetrics();
  const log = (name: string) => logger.with({ logger_area: name });
  const timings = jobTimings(config);

  const signer = await LinkSigner.fromSecret(
    await loadOrCreateSigningSecret(kv, config.http.signing_secret),
    { now },
  );
  const downloader = options.downloader ?? downloaderFromConfig(config, log("downloader"));

  let draining = false;
  let lastTelegramSuccess: number | undefined;

  const bot = createBot(options.token, { client: { apiRoot: config.telegram.api_root } });
  installApiBehaviour(bot.api, {
    logger: log("telegram"),
    throttleOptions: options.chatPace && {
      privateChatIntervalMs: options.chatPace.privateMs,
      groupChatIntervalMs: options.chatPace.groupMs,
    },
    monitor: {
      success() {
        lastTelegramSuccess = now();
      },
      failure(method, code, willRetry) {
        metrics.telegramApiErrors.inc({ method, code });
        if (willRetry) metrics.telegramRetries.inc();
      },
    },
  });

  const fileLinks = fileLinksFor({
    signer,
    ttlSeconds: config.http.link_ttl_hours * 3600,
    now,
    publicBase: () =>
      config.http.public_base_url ??
        `http://${urlHost(server.addr.hostname)}:${server.addr.port}`,
  });

  const chatUpdater = new ChatUpdater({
    api: bot.api,
    now,
    minEditIntervalMs: options.chatPace?.privateMs,
    groupMinEditIntervalMs: options.chatPace?.groupMs,
    fileLinks,
    uploadLimitBytes: config.telegram.upload_limit_mb * 1024 * 1024,
    openFile: (job, name) => Promise.resolve(`${paths.downloadsDir}/${job.id}/${name}`),
    positionOf: (jobId): Promise<number | undefined> => jobs.positionOf(jobId),
    logger: log("chat"),
  });
  const worker = new JobWorker({
    kv,
    config,
    timings,
    downloader,
    observer: chatUpdater,
    inspectOutput: (dir) => inspectOutput(dir),
    downloadsDir: paths.downloadsDir,
    logger: log("jobs"),
    metrics: metrics.jobSink(),
    now,
  });
  const jobs = new KvJobService({ kv, config, timings, worker, now, isDraining: () => draining });

  bot.use((_ctx, next) => {
    metrics.updatesReceived.inc();
    lastTelegramSuccess = now();
    return next();
  });
  installHandlers(
    bot,
    botDeps({
      kv,
      config,
      metrics,
      logger: log("bot"),
      now,
      extraAllowedUserIds: options.extraAllowedUserIds,
      jobs,
      statusMessages: chatUpdater,
      fileLinks,
    }),
  );

  const { url: webhookUrl, secret_token: secretToken } = config.telegram.webhook;
  const webhook = config.telegram.mode === "webhook" && webhookUrl && secretToken
    ? {
      url: webhookUrl,
      path: new URL(webhookUrl).pathname,
      secretToken,
      handle: webhookCallback(bot, "std/http", { secretToken }),
    }
    : undefined;
  const health = createHealthChecks({
    kv,
    telegram: { lastSuccessAt: () => lastTelegramSuccess },
    downloaderCheck: async () => {
      const check = await downloader.check();
      return check.ok ? { ok: true } : { ok: false, message: `${check.message}; ${check.hint}` };
    },
    now,
  });
  const server = startHttpServer({
    listen: config.http.listen,
    handler: createHttpHandler({
      signer,
      downloadsDir: paths.downloadsDir,
      health,
      metrics,
      webhook,
      logger: log("http"),
    }),
  });

  let runner: RunnerHandle | undefined;
  let stopping: Promise<void> | undefined;
  const stopSignal = new AbortController();
  const fatal = Promise.withResolvers<FatalError>();

  function startPolling(): void {
    runner = run(bot, {
      runner: {
        fetch: { allowed_updates: ALLOWED_UPDATES, timeout: 30 },
        maxRetryTime: Number.MAX_SAFE_INTEGER,
        retryInterval: options.pollRetryMs ?? POLL_RETRY_MS,
        silent: true,
      },
      // Updates waiting in a chat's queue (behind replies throttled to 1 a second) hold a
      // slot, so a low limit lets a few busy chats stall everyone: keep the runner's default.
      sink: { concurrency: 500 },
    });
    runner.task()?.catch((error) => {
      if (stopSignal.signal.aborted) return;
      logger.error("polling stopped for good", describeApiError(error));
      fatal.resolve(
        new FatalError(
          isTokenRejected(error)
            ? "Telegram rejected the bot token while polling"
            : "polling for updates failed and cannot continue (is another instance polling with this token?)",
          { cause: error },
        ),
      );
    });
  }

  return {
    httpAddress: server.addr,
    paths,
    metrics,
    fatal: fatal.promise,
    abortDownloads() {
      worker.abortAll();
    },
    async start() {
      worker.start();
      bot.botInfo = await connectToTelegram({
        token: options.token,
        apiRoot: config.telegram.api_root,
        logger,
        signal: stopSignal.signal,
      });
      lastTelegramSuccess = now();
      logger.info("connected to Telegram", {
        bot_username: bot.botInfo.username,
        api_root: config.telegram.api_root,
        mode: config.telegram.mode,
        http: `${server.addr.hostname}:${server.addr.port}`,
      });
      try {
        await bot.api.setMyCommands(COMMANDS);
      } catch (error) {
        logger.warn("could not set the command menu", describeApiError(error));
      }
      if (webhook) {
        await bot.api.setWebhook(webhook.url, {
          secret_token: webhook.secretToken,
          allowed_updates: ALLOWED_UPDATES,
        });
        return;
      }
      await bot.api.deleteWebhook();
      startPolling();
    },
    stop() {
      stopping ??= (async () => {
        draining = true;
        stopSignal.abort();
        logger.info("shutting down: draining running jobs", {
          grace_seconds: config.shutdown.grace_seconds,
          running: worker.runningCount(),
        });
        await worker.stop({ graceMs: config.shutdown.grace_seconds * 1000 });
        if (runner?.isRunning()) await runner.stop();
        await chatUpdater.close();
        await server.shutdown();
        kv.close();
        logger.info("shut down cleanly");
      })();
      return stopping;
    },
  };
}
