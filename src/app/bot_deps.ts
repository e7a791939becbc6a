/**
 * The services the bot's handlers receive, built from the configuration: the whitelist, the
 * per-user rate limits in KV and the metrics adapters.
 *
 * @module
 */
import type { BotDeps } from "../bot/context.ts";
import type { Config } from "../config/schema.ts";
import type { AppLogger } from "../log/logger.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { TokenBucketLimiter } from "../ratelimit/token_bucket.ts";

/** What {@linkcode botDeps} wires besides the configuration. */
export interface BotDepsOptions {
  kv: Deno.Kv;
  config: Config;
  metrics: Metrics;
  logger: AppLogger;
  now: () => number;
  /** Extra whitelisted users (the sandbox's terminal user). */
  extraAllowedUserIds?: readonly number[];
  jobs: BotDeps["jobs"];
  settings: BotDeps["settings"];
  uploads: BotDeps["uploads"];
  links: BotDeps["links"];
  statusMessages: BotDeps["statusMessages"];
  fileLinks: BotDeps["fileLinks"];
  adminReport: BotDeps["adminReport"];
  /** Calls waiting in the outgoing throttle. */
  outgoingWaiting: () => number;
}

/** Builds the handlers' {@linkcode BotDeps}. */
export function botDeps(options: BotDepsOptions): BotDeps {
  const { kv, config, metrics, now } = options;
  const allowed = new Set([
    ...config.telegram.allowed_user_ids,
    ...config.telegram.admin_user_ids,
    ...(options.extraAllowedUserIds ?? []),
  ]);
  const admins = new Set(config.telegram.admin_user_ids);
  const bucket = (name: string, capacity: number, refillPerSecond: number) =>
    new TokenBucketLimiter(kv, { bucket: name, capacity, refillPerSecond, now });
  const limits = config.rate_limit;
  return {
    jobs: options.jobs,
    settings: options.settings,
    uploads: options.uploads,
    links: options.links,
    statusMessages: options.statusMessages,
    access: {
      isAllowed: (userId) => allowed.has(userId),
      isAdmin: (userId) => admins.has(userId),
    },
    limits: {
      commands: bucket("commands", limits.commands_capacity, limits.commands_per_minute / 60),
      downloads: bucket("downloads", limits.downloads_capacity, limits.downloads_per_hour / 3600),
      refusals: bucket(
        "refusals",
        limits.outsider_refusals_per_day,
        limits.outsider_refusals_per_day / 86_400,
      ),
    },
    metrics: {
      command(name, outcome, seconds) {
        metrics.commands.inc({ command: name, outcome });
        metrics.commandLatency.observe({ command: name }, seconds);
      },
      rejected(reason) {
        metrics.rejected.inc({ reason });
      },
      refusalDropped() {
        metrics.refusalsDropped.inc();
      },
    },
    logger: options.logger,
    fileLinks: options.fileLinks,
    adminReport: options.adminReport,
    busy: { waiting: options.outgoingWaiting, backlog: limits.busy_backlog },
    now,
  };
}
