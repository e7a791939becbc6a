/**
 * Crash, fault and flood scenarios against the real `dlbot run` process (started as the binary
 * runs, with the flags in `scripts/permissions.txt`) and the Bot API emulator with Telegram's
 * flood limits, printing what users would have seen:
 *
 * - **kill -9**: members ask for downloads while the bot is killed (SIGKILL) at seeded random
 *   moments and started again, `--rounds` times; then it runs until everything is told.
 *   Figures: jobs, summaries lost, summaries sent twice, status messages left with a live
 *   Cancel button.
 * - **lost answers**: 5 % of the Bot API's answers are cut after the call ran. Figures: replies
 *   and summaries sent twice, status messages left with a live button.
 * - **outsider flood**: `--outsiders` outsiders write at once, then a member asks /help.
 *   Figures: how long the member waited, refusals sent and dropped.
 *
 * ```sh
 * scripts/deno run -A scripts/bench/resilience.ts [--rounds 10] [--outsiders 3000] [--seed 1]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type ChatMessage, TelegramEmulator } from "../../src/emulator/mod.ts";
import { seededRandom } from "../../src/emulator/faults.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const FAKE_SPOTDL = `${ROOT}tests/fixtures/fake_spotdl`;
const MEMBERS = [2001, 2002, 2003, 2004].map((id) => ({ id, first_name: `Member ${id}` }));
const FLOOD_LIMIT = { perChatPerSecond: 1, perBotPerSecond: 30 };

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A valid, unique playlist link (22 base-62 characters). */
function playlist(n: number): string {
  return `https://open.spotify.com/playlist/${String(n).padStart(22, "0")}`;
}

/** Starts `dlbot run` on `dataDir` against `emulator`, logging errors only. */
async function startBot(emulator: TelegramEmulator, dataDir: string, env: Record<string, string>) {
  const perms = (await Deno.readTextFile(`${ROOT}scripts/permissions.txt`)).split("\n")
    .map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#"));
  // Every member may ask for every download of a scenario at once; each takes about a second.
  const config = `${dataDir}/bot.toml`;
  await Deno.writeTextFile(
    config,
    [
      "[rate_limit]",
      "downloads_capacity = 100",
      "[jobs]",
      "max_active_per_user = 100",
      "[downloader.env]",
      'FAKE_SPOTDL_TRACKS = "2"',
      'FAKE_SPOTDL_DELAY = "0.1"',
      "",
    ].join("\n"),
  );
  const main = `${ROOT}main.ts`;
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--config",
      `${ROOT}deno.json`,
      ...perms,
      main,
      "run",
      "--config",
      config,
    ],
    cwd: dataDir,
    env: {
      TELEGRAM_BOT_TOKEN: emulator.token,
      TELEGRAM_API_ROOT: emulator.apiRoot,
      TELEGRAM_ALLOWED_USER_IDS: MEMBERS.map((m) => m.id).join(","),
      DLBOT_DATA_DIR: dataDir,
      DLBOT_HTTP_LISTEN: "127.0.0.1:0",
      DLBOT_DOWNLOADER_COMMAND: FAKE_SPOTDL,
      DLBOT_LOG_LEVEL: "error",
      ...env,
    },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** A summary: the reply to a status message (or, without one, a summary's first line). */
function isSummary(m: ChatMessage): boolean {
  return m.replyToMessageId !== undefined ||
    /^(✅ (?!Finished)|❌ Download failed|🚫 Download cancelled)/u.test(m.text ?? "");
}

/** What the members saw: jobs, their summaries, and Cancel buttons left on messages. */
function tally(emulator: TelegramEmulator) {
  const summaries = new Map<string, number>();
  let liveButtons = 0;
  for (const member of MEMBERS) {
    for (const m of emulator.botMessages(member.id)) {
      const id = /<code>([a-z0-9]{6,32})<\/code>/.exec(m.rawText ?? "")?.[1];
      if (id === undefined) continue;
      summaries.set(id, (summaries.get(id) ?? 0) + (isSummary(m) ? 1 : 0));
      const buttons = m.replyMarkup?.inline_keyboard.flat() ?? [];
      if (buttons.some((b) => b.text === "Cancel")) liveButtons++;
    }
  }
  const counts = [...summaries.values()];
  return {
    jobs: summaries.size,
    lost: counts.filter((n) => n === 0).length,
    twice: counts.filter((n) => n > 1).length,
    liveButtons,
  };
}

/** Waits until `done` holds or `ms` pass. */
async function until(done: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (done()) return true;
    await sleep(200);
  }
  return done();
}

async function killNine(rounds: number, seed: number) {
  const rand = seededRandom(seed);
  await using emulator = await TelegramEmulator.start({ floodLimit: FLOOD_LIMIT });
  const dataDir = await Deno.makeTempDir({ prefix: "dlbot-bench-kill-" });
  let n = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      const bot = await startBot(emulator, dataDir, {});
      await sleep(1500);
      for (const member of MEMBERS) emulator.sendText(member, `/download ${playlist(++n)}`);
      await sleep(500 + rand() * 3500);
      bot.kill("SIGKILL");
      await bot.status;
    }
    const bot = await startBot(emulator, dataDir, {});
    await until(() => {
      const t = tally(emulator);
      return t.jobs === n && t.lost === 0 && t.liveButtons === 0;
    }, 120_000);
    bot.kill("SIGTERM");
    await bot.status;
    return { asked: n, ...tally(emulator), floodRejections: emulator.stats.floodRejections };
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

async function lostAnswers(seed: number) {
  await using emulator = await TelegramEmulator.start({ floodLimit: FLOOD_LIMIT, seed });
  const dataDir = await Deno.makeTempDir({ prefix: "dlbot-bench-lost-" });
  try {
    const bot = await startBot(emulator, dataDir, {});
    await sleep(1500);
    emulator.injectFaults({ kind: "drop_response", probability: 0.05, method: /^(send|edit)/ });
    let n = 0;
    for (let i = 0; i < 10; i++) {
      for (const member of MEMBERS) {
        emulator.sendText(member, `/download ${playlist(1000 + ++n)}`);
        emulator.sendText(member, "/help");
      }
      await sleep(1000);
    }
    await until(() => {
      const t = tally(emulator);
      return t.jobs >= n && t.lost === 0 && t.liveButtons === 0;
    }, 90_000);
    emulator.clearFaults();
    bot.kill("SIGTERM");
    await bot.status;
    const help = MEMBERS.map((m) =>
      emulator.botMessages(m.id).filter((x) => /^dlbot downloads music/.test(x.text ?? "")).length
    ).reduce((a, b) => a + b, 0);
    return {
      asked: n,
      ...tally(emulator),
      helpAsked: n,
      helpAnswers: help,
      faults: emulator.stats.injectedFaults,
    };
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

async function outsiderFlood(outsiders: number) {
  await using emulator = await TelegramEmulator.start({ floodLimit: FLOOD_LIMIT });
  const dataDir = await Deno.makeTempDir({ prefix: "dlbot-bench-flood-" });
  try {
    const bot = await startBot(emulator, dataDir, {});
    await sleep(1500);
    for (let i = 0; i < outsiders; i++) {
      emulator.sendText({ id: 900_000 + i, first_name: `Outsider ${i}` }, "/start");
    }
    const member = MEMBERS[0] ?? { id: 2001, first_name: "Member" };
    const asked = performance.now();
    emulator.sendText(member, "/help");
    await emulator.waitForBotMessage(member.id, /^dlbot downloads music/, { timeoutMs: 600_000 });
    const waitedMs = Math.round(performance.now() - asked);
    await sleep(15_000);
    const refusals = emulator.callsTo("sendMessage")
      .filter((c) => c.ok && c.params.chat_id !== member.id).length;
    bot.kill("SIGTERM");
    await bot.status;
    return { outsiders, memberWaitedMs: waitedMs, refusalsSent: refusals };
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "10" },
    outsiders: { type: "string", default: "3000" },
    seed: { type: "string", default: "1" },
  },
});
const seed = Number(values.seed);
console.log("kill -9:", JSON.stringify(await killNine(Number(values.rounds), seed)));
console.log("lost answers (5 %):", JSON.stringify(await lostAnswers(seed)));
console.log("outsider flood:", JSON.stringify(await outsiderFlood(Number(values.outsiders))));
