/**
 * The composition root: builds every service from the configuration and wires them together.
 * Nothing else constructs services; tests pass overrides (a downloader, a clock) through
 * {@linkcode AppOptions}.
 *
 * @module
 */
import type { RunnerHandle } from "@grammyjs/runner";
import { type Config, isKvConnectUrl } from "../config/schema.ts";
import type { AppLogger } from "../log/logger.ts";
import type { Downloader } from "../downloader/types.ts";
import { installHandlers } from "../bot/bot.ts";
import { downloaderFromConfig, resolveExecutable } from "../downloader/mod.ts";
import { envPath } from "../downloader/command.ts";
import { Covers } from "../downloader/cover.ts";
import { ensureQueueCount } from "../jobs/queue_count.ts";
import { KvOutgoingBudget } from "../ratelimit/outgoing_budget.ts";
import { findFfmpeg } from "../downloader/spotdl_check.ts";
import { KvOutbox } from "../jobs/outbox.ts";
import { UserSettings } from "../jobs/user_settings.ts";
import { KvUploadedFiles } from "../jobs/uploaded_files.ts";
import { LibraryDrop } from "../library/drop.ts";
import { jobTimings } from "../jobs/store.ts";
import { wireJobs } from "./wire_jobs.ts";
import { createMetrics, type Metrics } from "../metrics/metrics.ts";
import { LinkSigner, loadOrCreateSigningSecret } from "../http/signing.ts";
import { fileLinksFor } from "../http/file_links.ts";
import { urlHost } from "../runtime/host.ts";
import { type AppPaths, ensureDirectories, isRemoteOrMemory, resolvePaths } from "./paths.ts";
import { takeInstanceLock } from "./instance_lock.ts";
import type { FatalError } from "./connect.ts";
import { botDeps } from "./bot_deps.ts";
import { AdminAlerts } from "./admin_alerts.ts";
import { adminProblems } from "./server_problems.ts";
import { adminReport } from "./admin_report.ts";
import { SpaceGuard } from "./space_guard.ts";
import { diskSpace } from "../runtime/disk.ts";
import { listening, openKvStore, StartupError } from "./startup_error.ts";
import { errorText } from "../runtime/error_text.ts";
import { LinkReader } from "../links/reader.ts";
import { type ChatPace, createTelegramClient, goLive, webhookRoute } from "./telegram.ts";
import { serveHttp } from "./serve_http.ts";

/**
 * What this process does: `all` takes updates and runs downloads; `bot` takes updates only;
 * `worker` runs downloads and tells their chats, but takes no updates (any number of workers may
 * share the store with one bot).
 */
export type AppRole = "all" | "bot" | "worker";

/** Everything `createApp` needs besides the configuration. */
export interface AppOptions {
  /** Default `all`. */
  role?: AppRole;
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
  chatPace?: ChatPace;
  /** Wait between failed getUpdates calls (default 2 s). */
  pollRetryMs?: number;
  /** How often webhook mode asks Telegram about its webhook (default a minute). */
  webhookProbeMs?: number;
  /** Free and total bytes of the downloads' disk (default: `df`); tests fill the disk with it. */
  disk?: () => Promise<{ free: number; total: number } | undefined>;
  /** How long a free-space measurement is reused (default 10 s). */
  diskCacheMs?: number;
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

/** Builds the whole application. Call `start()` to go live. */
export async function createApp(options: AppOptions): Promise<App> {
  const { config, logger } = options;
  const now = options.now ?? Date.now;
  const timings = jobTimings(config);
  const paths = resolvePaths(config, options.kvPath);
  await ensureDirectories(paths).catch((error) => {
    throw new StartupError(
      `cannot create the data directories under ${paths.dataDir}: ${errorText(error)} ` +
        "(the bot's user must be able to write storage.data_dir)",
      { cause: error },
    );
  });
  const kv = await openKvStore(paths.kvPath, config.storage.kv_access_token);
  const role = options.role ?? "all";
  // One process takes the updates of a local data directory; workers share it on purpose.
  const lock = isRemoteOrMemory(paths.kvPath) || role === "worker"
    ? undefined
    : await takeInstanceLock(kv, { kvPath: paths.kvPath }).catch((error) => {
      kv.close();
      throw error;
    });
  // A store from before the queue's counting tree gets it once, before any job moves.
  await ensureQueueCount(kv);
  const metrics = createMetrics();
  const log = (name: string) => logger.with({ logger_area: name });
  const signer = await LinkSigner.fromSecret(
    await loadOrCreateSigningSecret(kv, config.http.signing_secret),
    { now },
  );
  const downloader = options.downloader ?? downloaderFromConfig(config, log("downloader"));
  const telegram = createTelegramClient({
    token: options.token,
    config,
    metrics,
    logger: log("telegram"),
    now,
    chatPace: options.chatPace,
    // Processes sharing a store (bot and workers, or instances on a denokv server) also share
    // Telegram's limits; a lone process keeps them by itself.
    sharedBudget: role !== "all" || isKvConnectUrl(paths.kvPath)
      ? new KvOutgoingBudget(kv, {
        privateChatIntervalMs: options.chatPace?.privateMs,
        groupChatIntervalMs: options.chatPace?.groupMs,
      })
      : undefined,
  });
  const { bot } = telegram;
  const publicBase = () =>
    config.http.public_base_url ?? `http://${urlHost(server.addr.hostname)}:${server.addr.port}`;
  const fileLinks = fileLinksFor({
    signer,
    ttlSeconds: config.http.link_ttl_hours * 3600,
    now,
    publicBase,
  });

  const problems = adminProblems(
    new AdminAlerts({
      kv,
      api: bot.api,
      adminIds: config.telegram.admin_user_ids,
      logger: log("admin"),
    }),
  );
  telegram.outages.onEnd = (seconds) => void problems.outageEnded(seconds);
  const disk = options.disk ?? (() => diskSpace(paths.downloadsDir));
  const space = new SpaceGuard({
    minFreeMb: config.storage.min_free_mb,
    disk,
    logger: log("disk"),
    onLow: (free) => void problems.diskLow(free),
    cacheMs: options.diskCacheMs,
  });
  let draining = false;
  const instanceId = lock?.owner ?? crypto.randomUUID();
  const outbox = new KvOutbox({
    kv,
    owner: instanceId,
    claimMs: timings.leaseMs,
    now,
    logger: log("chat"),
    deadOwners: lock?.previousOwner === undefined ? [] : [lock.previousOwner],
  });
  const library = config.library.dir === undefined ? undefined : new LibraryDrop({
    dir: config.library.dir,
    downloadsDir: paths.downloadsDir,
    subsonic: config.library.subsonic_url && config.library.subsonic_user &&
        config.library.subsonic_password
      ? {
        url: config.library.subsonic_url,
        user: config.library.subsonic_user,
        password: config.library.subsonic_password,
      }
      : undefined,
    logger: log("library"),
    problem: (text) => void problems.library(text),
    ffprobe: await resolveExecutable("ffprobe", envPath()),
  });
  const uploads = new KvUploadedFiles(kv, timings.retentionMs);
  const covers = new Covers(() => findFfmpeg(config.downloader.args, envPath()));
  const { chatUpdater, worker, jobs } = wireJobs({
    library,
    covers,
    uploads,
    instanceId,
    outbox,
    problems,
    hasSpace: () => space.check(),
    kv,
    config,
    timings,
    downloader,
    api: bot.api,
    fileLinks,
    downloadsDir: paths.downloadsDir,
    metrics,
    log,
    now,
    chatPace: options.chatPace,
    isDraining: () => draining,
    // A worker's files may be on a disk only it has: links to them name its server.
    ...(role === "worker" ? { servedFrom: publicBase } : {}),
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
      settings: new UserSettings(kv, config),
      uploads,
      links: new LinkReader({
        shortLinkBase: config.links.short_link_base,
        maxPerMessage: config.links.max_per_message,
      }),
      statusMessages: chatUpdater,
      fileLinks,
      adminReport: () => adminReport({ jobs, metrics, dataDir: paths.dataDir, now, disk }),
      outgoingWaiting: telegram.outgoingWaiting,
    }),
  );

  const webhook = webhookRoute(bot, config);
  const server = listening(config.http.listen, () =>
    serveHttp({
      kv,
      config,
      signer,
      downloadsDir: paths.downloadsDir,
      covers,
      metrics,
      webhook,
      lastTelegramSuccessAt: telegram.lastSuccessAt,
      downloader,
      diskCheck: () => space.readiness(),
      now,
      logger: log("http"),
    }), () => void (lock?.release() ?? Promise.resolve()).finally(() => kv.close()));

  let runner: RunnerHandle | undefined;
  let stopping: Promise<void> | undefined;
  const stopSignal = new AbortController();
  const fatal = Promise.withResolvers<FatalError>();

  return {
    httpAddress: server.addr,
    paths,
    metrics,
    fatal: fatal.promise,
    abortDownloads() {
      worker.abortAll();
    },
    async start() {
      if (role !== "bot") worker.start();
      runner = await goLive({
        takeUpdates: role !== "worker",
        telegram,
        config,
        logger,
        token: options.token,
        webhook,
        stopSignal: stopSignal.signal,
        onFatal: (error) => fatal.resolve(error),
        pollRetryMs: options.pollRetryMs,
        webhookProbeMs: options.webhookProbeMs,
        httpAddress: server.addr,
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
        outbox.close();
        await server.shutdown();
        await lock?.release();
        kv.close();
        logger.info("shut down cleanly");
      })();
      return stopping;
    },
  };
}
