/**
 * The load test's running-downloads phase: N users each start a long download (the scripted
 * spotDL, `jobs.max_concurrent` = N), and once all N run, other members send `/help` for a while.
 * Measures the `/help` reply latency and how old the progress shown by each status edit was when
 * it arrived: 0 when it showed the download's latest count, else the time since the next song had
 * finished. Everything goes through the Bot API emulator with Telegram's flood limits.
 *
 * @module
 */
import { sleep } from "../../src/runtime/sleep.ts";
import { createApp } from "../../src/app/create_app.ts";
import { configSchema } from "../../src/config/schema.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { TelegramEmulator } from "../../src/emulator/mod.ts";
import { type LatencySummary, summarize } from "./measure.ts";
import { FAKE_SPOTDL } from "./targets.ts";
import { TELEGRAM_FLOOD_LIMIT } from "./phase.ts";

/** What the phase runs. */
export interface RunningPhaseOptions {
  /** Downloads running at once. */
  jobs: number;
  /** Members asking /help, each every {@linkcode ASK_EVERY_MS}. */
  askers: number;
  /** How long they ask, once every download runs. */
  seconds: number;
}

/** What the phase measured. */
export interface RunningPhaseResult extends RunningPhaseOptions {
  helpLatencyMs: LatencySummary;
  /** /help messages no bot message followed. */
  unanswered: number;
  progressAgeMs: LatencySummary;
  floodRejections: number;
}

/** Each asker sends /help this often. */
export const ASK_EVERY_MS = 5000;
/** Longest wait for every download to be running. */
const START_TIMEOUT_MS = 300_000;

/** Runs the phase; everything it starts is stopped. */
export async function runRunningPhase(options: RunningPhaseOptions): Promise<RunningPhaseResult> {
  const { jobs: JOBS, askers: ASKERS, seconds: SECONDS } = options;
  const downloaders = Array.from(
    { length: JOBS },
    (_, i) => ({ id: 10_000 + i, first_name: `D${i}` }),
  );
  const askers = Array.from(
    { length: ASKERS },
    (_, i) => ({ id: 20_000 + i, first_name: `A${i}` }),
  );
  const dir = await Deno.makeTempDir({ prefix: "dlbot-bench-running-" });
  const doneFile = `${dir}/done.tsv`;
  const emulator = await TelegramEmulator.start({
    floodLimit: TELEGRAM_FLOOD_LIMIT,
    recordFileBytes: false,
  });
  const config = phaseConfig(emulator.apiRoot, [...downloaders, ...askers], JOBS, dir);
  const app = await createApp({ config, logger: silentLogger, token: emulator.token });
  await app.start();

  /** When each edit arrived, with the job and the count it showed. */
  const edits: { at: number; jobId: string; done: number }[] = [];
  const asked = new Map<number, number[]>();
  const latencies: number[] = [];
  emulator.onChange((event) => {
    if (event.type === "edit") {
      const job = /<code>([a-z0-9]+)<\/code>/.exec(event.message.rawText ?? "")?.[1];
      const done = /(\d+)\/\d+ done/.exec(event.message.text ?? "")?.[1];
      if (job && done) edits.push({ at: Date.now(), jobId: job, done: Number(done) });
    }
    if (event.type === "message" && event.message.from === "bot") {
      const pending = asked.get(event.chatId);
      const sentAt = pending?.shift();
      if (sentAt !== undefined) latencies.push(performance.now() - sentAt);
    }
  });

  const gauge = async () => (await app.metrics.runningJobs.get()).values[0]?.value ?? 0;
  try {
    downloaders.forEach((user, i) =>
      emulator.sendText(
        user,
        `/download https://open.spotify.com/playlist/${String(i).padStart(22, "0")}`,
      )
    );
    const startWait = performance.now();
    while (await gauge() < JOBS) {
      if (performance.now() - startWait > START_TIMEOUT_MS) {
        throw new Error(`only ${await gauge()} running`);
      }
      await sleep(200);
    }
    const since = Date.now();
    const end = performance.now() + SECONDS * 1000;
    let next = performance.now();
    let n = 0;
    while (performance.now() < end) {
      const user = askers[n++ % askers.length]!;
      const list = asked.get(user.id) ?? [];
      list.push(performance.now());
      asked.set(user.id, list);
      emulator.sendText(user, "/help");
      next += ASK_EVERY_MS / askers.length;
      await sleep(next - performance.now());
    }
    await sleep(5000);
    const ages = await progressAges(doneFile, edits.filter((e) => e.at >= since));
    const unanswered = [...asked.values()].reduce((sum, list) => sum + list.length, 0);
    return {
      ...options,
      helpLatencyMs: summarize(latencies),
      unanswered,
      progressAgeMs: summarize(ages),
      floodRejections: emulator.stats.floodRejections,
    };
  } finally {
    app.abortDownloads();
    await app.stop();
    await emulator.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** The bot's configuration for the phase: long downloads, all of them at once. */
function phaseConfig(apiRoot: string, users: { id: number }[], jobs: number, dir: string) {
  return configSchema.parse({
    telegram: { api_root: apiRoot, allowed_user_ids: users.map((u) => u.id) },
    http: { listen: "127.0.0.1:0" },
    storage: { data_dir: `${dir}/data` },
    jobs: { max_concurrent: jobs },
    downloader: {
      command: FAKE_SPOTDL,
      // Long downloads: 60 songs, a line a second (a song every 6 s or so each), light enough for
      // 200 scripted downloaders on two cores.
      env: {
        FAKE_SPOTDL_TRACKS: "60",
        FAKE_SPOTDL_DELAY: "1",
        FAKE_SPOTDL_BYTES: "1024",
        FAKE_SPOTDL_DONEFILE: `${dir}/done.tsv`,
      },
      share_songs: false,
      kill_grace_seconds: 1,
    },
    shutdown: { grace_seconds: 0 },
  });
}

/**
 * How old each edit's progress was on arrival: 0 when it showed the download's latest count,
 * else the time since its next song had finished (from the fake spotDL's done file).
 */
async function progressAges(
  doneFile: string,
  edits: readonly { at: number; jobId: string; done: number }[],
): Promise<number[]> {
  const doneAt = new Map<string, number[]>();
  for (const line of (await Deno.readTextFile(doneFile)).trim().split("\n")) {
    const [at, cwd, count] = line.split("\t");
    const jobId = cwd?.split("/").at(-1) ?? "";
    const times = doneAt.get(jobId) ?? [];
    times[Number(count)] = Number(at);
    doneAt.set(jobId, times);
  }
  return edits.map((edit) => {
    const nextSong = doneAt.get(edit.jobId)?.[edit.done + 1];
    return nextSong !== undefined && nextSong < edit.at ? edit.at - nextSong : 0;
  });
}

/** The phase's figures as lines of text. */
export function formatRunningPhase(r: RunningPhaseResult): string {
  const fmt = (s: LatencySummary) => `p50 ${s.p50} / p95 ${s.p95} / max ${s.max} ms (${s.count})`;
  return [
    `${r.jobs} downloads running, ${r.askers} members asking /help every ${
      ASK_EVERY_MS / 1000
    } s ` +
    `for ${r.seconds} s`,
    `/help reply latency      ${fmt(r.helpLatencyMs)}, unanswered ${r.unanswered}`,
    `progress age on arrival  ${fmt(r.progressAgeMs)}`,
    `429 flood rejections     ${r.floodRejections}`,
  ].join("\n") + "\n";
}
