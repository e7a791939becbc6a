/**
 * The two bots the load test drives: the real dlbot (`createApp`, in-process, temp data dir, the
 * scripted spotDL) and the bare grammY echo bot. Both talk to a Bot API emulator.
 *
 * @module
 */
import { createApp } from "../../src/app/create_app.ts";
import { configSchema } from "../../src/config/schema.ts";
import { jobSchema } from "../../src/jobs/model.ts";
import { PREFIX } from "../../src/kv/keys.ts";
import { silentLogger } from "../../src/log/logger.ts";
import type { TelegramEmulator } from "../../src/emulator/mod.ts";
import { startEchoBot } from "../echo_bot.ts";
import type { DownloadLimits, SimUser, UserKind } from "./traffic.ts";

/** Which bot a phase drives. */
export type BotName = "dlbot" | "bare";

/** Every bot, in run order (the bare baseline first, so its memory figure is not inflated). */
export const BOT_NAMES: readonly BotName[] = ["bare", "dlbot"];

/** The scripted spotDL the load test runs instead of the real one. */
export const FAKE_SPOTDL = new URL("../../tests/fixtures/fake_spotdl", import.meta.url).pathname;

/** Jobs in the store when the bot stopped. */
export interface JobCounts {
  /** Jobs per kind of user who asked for them, and in total. */
  created: Record<UserKind | "total", number>;
  /** Jobs per state ("succeeded", "queued", …). */
  byState: Record<string, number>;
}

/** A bot under test. */
export interface Target {
  /** Updates that reached the bot's middleware so far. */
  handled(): Promise<number>;
  /** Download jobs waiting and running (always zero for the bare bot). */
  jobsInFlight(): Promise<{ queued: number; running: number }>;
  /** Per-user download limits (dlbot only). */
  readonly downloadLimits?: DownloadLimits;
  /** Stops the bot; for dlbot, returns the jobs it created and removes its data. */
  stop(): Promise<JobCounts | null>;
}

/** Options for {@linkcode startTarget}. */
export interface TargetOptions {
  emulator: TelegramEmulator;
  users: readonly SimUser[];
  /** FAKE_SPOTDL_DELAY: seconds between the scripted downloader's output lines. */
  downloaderDelaySeconds: number;
}

/** Starts one bot against the emulator. */
export function startTarget(name: BotName, options: TargetOptions): Promise<Target> {
  return name === "dlbot" ? startDlbot(options) : startBare(options);
}

async function startBare(options: TargetOptions): Promise<Target> {
  const bot = await startEchoBot({
    token: options.emulator.token,
    apiRoot: options.emulator.apiRoot,
  });
  return {
    handled: () => Promise.resolve(bot.handled),
    jobsInFlight: () => Promise.resolve({ queued: 0, running: 0 }),
    async stop() {
      await bot.stop();
      return null;
    },
  };
}

async function gaugeValue(gauge: { get(): Promise<{ values: { value: number }[] }> }) {
  return (await gauge.get()).values[0]?.value ?? 0;
}

async function startDlbot(options: TargetOptions): Promise<Target> {
  const dataDir = await Deno.makeTempDir({ prefix: "dlbot-loadtest-" });
  const config = configSchema.parse({
    telegram: {
      api_root: options.emulator.apiRoot,
      allowed_user_ids: options.users.filter((u) => u.kind !== "outsider").map((u) => u.id),
    },
    http: { listen: "127.0.0.1:0" },
    storage: { data_dir: dataDir },
    downloader: {
      command: FAKE_SPOTDL,
      env: {
        FAKE_SPOTDL_DELAY: String(options.downloaderDelaySeconds),
        FAKE_SPOTDL_BYTES: "4096",
      },
      kill_grace_seconds: 1,
    },
    shutdown: { grace_seconds: 1 },
  });
  const kindOf = new Map(options.users.map((u) => [u.id, u.kind]));
  try {
    const app = await createApp({ config, logger: silentLogger, token: options.emulator.token });
    await app.start();
    return {
      downloadLimits: {
        capacity: config.rate_limit.downloads_capacity,
        refillPerSecond: config.rate_limit.downloads_per_hour / 3600,
      },
      handled: () => gaugeValue(app.metrics.updatesReceived),
      async jobsInFlight() {
        return {
          queued: await gaugeValue(app.metrics.queueDepth),
          running: await gaugeValue(app.metrics.runningJobs),
        };
      },
      async stop() {
        await app.stop();
        try {
          return await countJobs(app.paths.kvPath, (userId) => kindOf.get(userId));
        } finally {
          await Deno.remove(dataDir, { recursive: true });
        }
      },
    };
  } catch (error) {
    await Deno.remove(dataDir, { recursive: true });
    throw error;
  }
}

/** Reads every job record from the (stopped) bot's KV file. */
async function countJobs(
  kvPath: string,
  kindOf: (userId: number) => UserKind | undefined,
): Promise<JobCounts> {
  const created: Record<UserKind | "total", number> = {
    total: 0,
    normal: 0,
    spammer: 0,
    outsider: 0,
  };
  const byState: Record<string, number> = {};
  const kv = await Deno.openKv(kvPath);
  try {
    for await (const entry of kv.list({ prefix: [PREFIX, "job"] })) {
      const job = jobSchema.parse(entry.value);
      created.total++;
      const kind = kindOf(job.userId);
      if (kind !== undefined) created[kind]++;
      byState[job.state] = (byState[job.state] ?? 0) + 1;
    }
  } finally {
    kv.close();
  }
  return { created, byState };
}
