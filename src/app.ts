/**
 * The composition root: builds every service from the configuration and wires them together.
 * Nothing else constructs services; tests pass overrides (a downloader, a clock) through
 * {@linkcode AppOptions}.
 *
 * @module
 */
import { Api, GrammyError, webhookCallback } from "grammy";
import { run, type RunnerHandle } from "@grammyjs/runner";
import type { Config } from "./config/schema.ts";
import type { AppLogger } from "./log/logger.ts";
import type { Downloader } from "./downloader/types.ts";
import type { Job } from "./jobs/model.ts";
import { createBot, installHandlers } from "./bot/bot.ts";
import { describeApiError, installApiBehaviour } from "./bot/api.ts";
import { COMMANDS } from "./bot/texts.ts";
import type { BotDeps } from "./bot/context.ts";
import { downloaderFromConfig, inspectOutput } from "./downloader/mod.ts";
import { JobWorker } from "./jobs/worker.ts";
import { KvJobService } from "./jobs/kv_service.ts";
import { queuePosition } from "./jobs/queue.ts";
import { TokenBucketLimiter } from "./ratelimit/token_bucket.ts";
import { ChatUpdater } from "./progress/chat_updater.ts";
import { createMetrics, type Metrics } from "./metrics/metrics.ts";
import { LinkSigner, loadOrCreateSigningSecret, publicFileUrl } from "./http/signing.ts";
import { createHealthChecks } from "./http/health.ts";
import { createHttpHandler, startHttpServer } from "./http/server.ts";

/** Resolved filesystem locations. */
export interface AppPaths {
  dataDir: string;
  kvPath: string;
  downloadsDir: string;
}

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

/** Why the bot cannot keep running. */
export class FatalError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FatalError";
  }
}

/** Telegram answers these to a bad token: retrying cannot help. */
function isTokenRejected(error: unknown): boolean {
  return error instanceof GrammyError && (error.error_code === 401 || error.error_code === 404);
}

/** Resolves data, KV and download paths from the configuration. */
export function resolvePaths(config: Config, kvOverride?: string): AppPaths {
  const dataDir = config.storage.data_dir;
  const join = (dir: string, name: string) => `${dir.replace(/\/+$/, "")}/${name}`;
  return {
    dataDir,
    kvPath: kvOverride ?? config.storage.kv_path ?? join(dataDir, "dlbot.kv"),
    downloadsDir: config.storage.downloads_dir ?? join(dataDir, "downloads"),
  };
}

function isRemoteOrMemory(kvPath: string): boolean {
  return kvPath === ":memory:" || /^https?:\/\//.test(kvPath);
}

/** Builds the whole application. Call `start()` to go live. */
export async function createApp(options: AppOptions): Promise<App> {
  const { config, logger } = options;
  const now = options.now ?? Date.now;
  const paths = resolvePaths(config, options.kvPath);
  await Deno.mkdir(paths.downloadsDir, { recursive: true });
  if (!isRemoteOrMemory(paths.kvPath)) {
    const parent = paths.kvPath.replace(/\/[^/]*$/, "");
    if (parent && parent !== paths.kvPath) await Deno.mkdir(parent, { recursive: true });
  }
  const kv = await Deno.openKv(paths.kvPath);
  const metrics = createMetrics();
  const log = (name: string) => logger.with({ logger_area: name });

  const signer = await LinkSigner.fromSecret(
    await loadOrCreateSigningSecret(kv, config.http.signing_secret),
    { now },
  );
  const downloader = options.downloader ?? downloaderFromConfig(config, log("downloader"));

  let draining = false;
  let lastTelegramSuccess: number | undefined;

  const allowed = new Set([
    ...config.telegram.allowed_user_ids,
    ...config.telegram.admin_user_ids,
    ...(options.extraAllowedUserIds ?? []),
  ]);
  const admins = new Set(config.telegram.admin_user_ids);

  const bot = createBot(options.token, { client: { apiRoot: config.telegram.api_root } });
  installApiBehaviour(bot.api, {
    logger: log("telegram"),
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

  const linkTtlSeconds = config.http.link_ttl_hours * 3600;
  const publicBase = () => {
    if (config.http.public_base_url) return config.http.public_base_url;
    const { hostname, port } = server.addr;
    return `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
  };
  const fileLinks = async (job: Job) => {
    const expiresAt = Math.floor(now() / 1000) + linkTtlSeconds;
    return await Promise.all((job.result?.files ?? []).map(async (file) => ({
      name: file.name,
      url: publicFileUrl(
        publicBase(),
        await signer.sign(`/files/${job.id}/${encodeURIComponent(file.name)}`, expiresAt),
      ),
    })));
  };

  const chatUpdater = new ChatUpdater({
    api: bot.api,
    now,
    fileLinks,
    uploadLimitBytes: config.telegram.upload_limit_mb * 1024 * 1024,
    openFile: (job, name) => Promise.resolve(`${paths.downloadsDir}/${job.id}/${name}`),
    positionOf: (jobId) => queuePosition(kv, jobId),
    logger: log("chat"),
  });
  const worker = new JobWorker({
    kv,
    config,
    downloader,
    observer: chatUpdater,
    inspectOutput: (dir) => inspectOutput(dir),
    downloadsDir: paths.downloadsDir,
    logger: log("jobs"),
    metrics: metrics.jobSink(),
    now,
  });
  const jobs = new KvJobService({ kv, config, worker, now, isDraining: () => draining });

  const bucket = (name: string, capacity: number, refillPerSecond: number) =>
    new TokenBucketLimiter(kv, { bucket: name, capacity, refillPerSecond, now });
  const deps: BotDeps = {
    jobs,
    access: {
      isAllowed: (userId) => allowed.has(userId),
      isAdmin: (userId) => admins.has(userId),
    },
    limits: {
      commands: bucket(
        "commands",
        config.rate_limit.commands_capacity,
        config.rate_limit.commands_per_minute / 60,
      ),
      downloads: bucket(
        "downloads",
        config.rate_limit.downloads_capacity,
        config.rate_limit.downloads_per_hour / 3600,
      ),
      refusals: bucket("refusals", REFUSAL_BURST, REFUSAL_REFILL_PER_SECOND),
    },
    metrics: {
      command(name, outcome, seconds) {
        metrics.commands.inc({ command: name, outcome });
        metrics.commandLatency.observe({ command: name }, seconds);
      },
      rejected(reason) {
        metrics.rejected.inc({ reason });
      },
    },
    logger: log("bot"),
    fileLinks,
    now,
  };
  bot.use((_ctx, next) => {
    metrics.updatesReceived.inc();
    lastTelegramSuccess = now();
    return next();
  });
  installHandlers(bot, deps);

  const webhook = config.telegram.mode === "webhook"
    ? {
      path: new URL(config.telegram.webhook.url!).pathname,
      secretToken: config.telegram.webhook.secret_token!,
      handle: webhookCallback(bot, "std/http", {
        secretToken: config.telegram.webhook.secret_token,
      }),
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

  /**
   * Fetches the bot's identity, logging every failed attempt. A bare client is used on purpose:
   * `bot.init()` and the auto-retry transformer retry network errors silently and forever, so an
   * unreachable Telegram would never show up in the log.
   */
  async function connect(): Promise<void> {
    const probe = new Api(options.token, {
      apiRoot: config.telegram.api_root,
      timeoutSeconds: CONNECT_ATTEMPT_TIMEOUT_SECONDS,
    });
    for (let attempt = 1;; attempt++) {
      try {
        bot.botInfo = await probe.getMe();
        lastTelegramSuccess = now();
        return;
      } catch (error) {
        if (stopSignal.signal.aborted) throw error;
        if (isTokenRejected(error)) {
          throw new FatalError(
            "Telegram rejected the bot token (401 Unauthorized): check TELEGRAM_BOT_TOKEN " +
              "(or the token file/credential); a revoked token needs a new one from @BotFather",
            { cause: error },
          );
        }
        const retryAfterMs = error instanceof GrammyError
          ? (error.parameters.retry_after ?? 0) * 1000
          : 0;
        const waitMs = Math.max(retryAfterMs, Math.min(60_000, 1000 * 2 ** Math.min(attempt, 6)));
        logger.warn("cannot reach Telegram yet; retrying", {
          attempt,
          retry_in_ms: waitMs,
          ...describeApiError(error),
        });
        await abortableSleep(waitMs, stopSignal.signal);
      }
    }
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
      await connect();
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
        await bot.api.setWebhook(config.telegram.webhook.url!, {
          secret_token: config.telegram.webhook.secret_token,
          allowed_updates: ["message", "callback_query"],
        });
        return;
      }
      await bot.api.deleteWebhook();
      runner = run(bot, {
        runner: {
          fetch: { allowed_updates: ["message", "callback_query"], timeout: 30 },
          maxRetryTime: Number.MAX_SAFE_INTEGER,
          retryInterval: POLL_RETRY_MS,
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

/** Longest wait for one `getMe` while connecting (a black-holed address would hang otherwise). */
const CONNECT_ATTEMPT_TIMEOUT_SECONDS = 15;

/**
 * Wait between failed getUpdates calls. Fixed rather than growing, so polling resumes within
 * seconds of Telegram coming back after an outage of any length.
 */
const POLL_RETRY_MS = 2000;

/** Outsiders get at most this many refusals in a row… */
const REFUSAL_BURST = 2;
/** …and one more every ten minutes after that. */
const REFUSAL_REFILL_PER_SECOND = 1 / 600;

/** Sleeps, waking early (without error) when the signal aborts. */
function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
