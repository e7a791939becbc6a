/**
 * Command replies and progress freshness while many downloads run: N users each start a long
 * download (the scripted spotDL, `jobs.max_concurrent` = N), and once all N run, other members
 * send `/help` for a while. Prints the `/help` reply latency and how old the progress shown by
 * each status edit was when it arrived: 0 when it showed the download's latest count, else the
 * time since the next song had finished. Everything goes through the Bot API emulator with
 * Telegram's flood limits.
 *
 * ```sh
 * scripts/deno run -A scripts/bench/running.ts [--jobs 200] [--askers 50] [--seconds 30]
 * ```
 *
 * @module
 */
import "../../src/runtime/quiet_node_warnings.ts";
import { parseArgs } from "node:util";
import { createApp } from "../../src/app/create_app.ts";
import { configSchema } from "../../src/config/schema.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { TelegramEmulator } from "../../src/emulator/mod.ts";
import { summarize } from "../loadtest/measure.ts";
import { FAKE_SPOTDL } from "../loadtest/targets.ts";
import { TELEGRAM_FLOOD_LIMIT } from "../loadtest/phase.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    jobs: { type: "string", default: "200" },
    askers: { type: "string", default: "50" },
    seconds: { type: "string", default: "30" },
  },
});
const JOBS = Number(values.jobs);
const ASKERS = Number(values.askers);
const SECONDS = Number(values.seconds);
/** Each asker sends /help this often. */
const ASK_EVERY_MS = 5000;

const downloaders = Array.from(
  { length: JOBS },
  (_, i) => ({ id: 10_000 + i, first_name: `D${i}` }),
);
const askers = Array.from({ length: ASKERS }, (_, i) => ({ id: 20_000 + i, first_name: `A${i}` }));
const dir = await Deno.makeTempDir({ prefix: "dlbot-bench-running-" });
const doneFile = `${dir}/done.tsv`;
const emulator = await TelegramEmulator.start({
  floodLimit: TELEGRAM_FLOOD_LIMIT,
  recordFileBytes: false,
});
const config = configSchema.parse({
  telegram: {
    api_root: emulator.apiRoot,
    allowed_user_ids: [...downloaders, ...askers].map((u) => u.id),
  },
  http: { listen: "127.0.0.1:0" },
  storage: { data_dir: `${dir}/data` },
  jobs: { max_concurrent: JOBS },
  downloader: {
    command: FAKE_SPOTDL,
    // Long downloads: 60 songs, a line a second (a song every 6 s or so each), light enough for
    // 200 scripted downloaders on two cores.
    env: {
      FAKE_SPOTDL_TRACKS: "60",
      FAKE_SPOTDL_DELAY: "1",
      FAKE_SPOTDL_BYTES: "1024",
      FAKE_SPOTDL_DONEFILE: doneFile,
    },
    share_songs: false,
    kill_grace_seconds: 1,
  },
  shutdown: { grace_seconds: 0 },
});
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
    if (performance.now() - startWait > 300_000) throw new Error(`only ${await gauge()} running`);
    await new Promise((r) => setTimeout(r, 200));
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
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
  }
  await new Promise((r) => setTimeout(r, 5000));
  const doneAt = new Map<string, number[]>();
  for (const line of (await Deno.readTextFile(doneFile)).trim().split("\n")) {
    const [at, cwd, count] = line.split("\t");
    const jobId = cwd?.split("/").at(-1) ?? "";
    const times = doneAt.get(jobId) ?? [];
    times[Number(count)] = Number(at);
    doneAt.set(jobId, times);
  }
  const ages = edits.filter((e) => e.at >= since).map((edit) => {
    const nextSong = doneAt.get(edit.jobId)?.[edit.done + 1];
    return nextSong !== undefined && nextSong < edit.at ? edit.at - nextSong : 0;
  });
  const unanswered = [...asked.values()].reduce((sum, list) => sum + list.length, 0);
  const fmt = (s: ReturnType<typeof summarize>) =>
    `p50 ${s.p50} / p95 ${s.p95} / max ${s.max} ms (${s.count})`;
  console.log(
    `${JOBS} downloads running, ${ASKERS} members asking /help every ${
      ASK_EVERY_MS / 1000
    } s for ${SECONDS} s`,
  );
  console.log(`/help reply latency      ${fmt(summarize(latencies))}, unanswered ${unanswered}`);
  console.log(`progress age on arrival  ${fmt(summarize(ages))}`);
  console.log(`429 flood rejections     ${emulator.stats.floodRejections}`);
} finally {
  app.abortDownloads();
  await app.stop();
  await emulator.close();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
