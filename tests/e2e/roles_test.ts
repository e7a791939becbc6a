/**
 * Several processes on one store: a `dlbot run --role bot` takes the updates and two
 * `--role worker` processes run the downloads, all on one KV file, through the emulator. Every
 * job is told to its chat exactly once, a worker killed with SIGKILL mid-download leaves its
 * job to the other, and together they keep Telegram's flood limits (their budget is shared
 * through the store).
 */
import { assert, assertEquals } from "../_assert.ts";
import { tempDir } from "../_test_utils.ts";
import { ADMIN, ALICE, BOB, jobIdFrom, TELEGRAM_FLOOD_LIMIT } from "./_harness.ts";
import { type LiveBot, liveBotEnv, startLiveBot } from "./_live_bot.ts";
import { TelegramEmulator } from "../../src/emulator/mod.ts";

const USERS = [ALICE, BOB, ADMIN];

function playlist(n: number): string {
  return `https://open.spotify.com/playlist/${String(n).padStart(22, "0")}`;
}

Deno.test("one bot and two workers share one KV file: every job once, a killed worker's job goes to the other", async () => {
  await using dir = await tempDir();
  // Telegram's flood limits: the bot's replies and the workers' edits meet in the same chats.
  await using emulator = await TelegramEmulator.start({ floodLimit: TELEGRAM_FLOOD_LIMIT });
  const env = liveBotEnv(emulator, dir.join("data"), {
    TELEGRAM_ALLOWED_USER_IDS: USERS.map((u) => u.id).join(","),
  });
  const config = {
    downloader: {
      kill_grace_seconds: 1,
      env: { FAKE_SPOTDL_TRACKS: "2", FAKE_SPOTDL_DELAY: "0.3" },
    },
    jobs: { lease_seconds: 5, max_concurrent: 2 },
    shutdown: { grace_seconds: 1 },
    log: { format: "json", level: "info" },
  };
  const start = (role: string, name: string) =>
    startLiveBot({
      dir: dir.path,
      env,
      config,
      args: ["--role", role],
      configName: `${name}.toml`,
    });
  const bot = await start("bot", "bot");
  const workerA = await start("worker", "a");
  let workerB: LiveBot | undefined;
  try {
    await bot.waitForLog("connected to Telegram");
    const connected = await workerA.waitForLog("connected to Telegram");
    assertEquals(connected.mode, "worker");
    const ready = await fetch(`http://${connected.http}/readyz`);
    assertEquals(ready.status, 200, "a worker with nothing to do is ready");
    await ready.body?.cancel();
    let n = 0;
    for (const user of USERS) {
      for (let i = 0; i < 2; i++) emulator.sendText(user, `/download ${playlist(++n)}`);
    }
    const started = await workerA.waitForLog("job started");
    workerA.kill("SIGKILL");
    await workerA.exited();
    workerB = await start("worker", "b");

    const summaries = await emulator.waitFor(() => {
      const all = USERS.flatMap((u) =>
        emulator.botMessages(u.id).filter((m) => /2 downloaded/.test(m.text ?? ""))
      );
      return all.length >= 6 ? all : undefined;
    }, { intervalMs: 100, timeoutMs: 60_000, message: "six summaries" });
    const ids = summaries.map((m) => jobIdFrom(m));
    assertEquals(new Set(ids).size, 6, `six jobs, each told once: ${ids}`);
    assert(
      ids.includes(String(started.job_id)),
      "the killed worker's job was finished by the other",
    );
    assert(
      workerB.logs().some((r) => r.msg === "job started" && r.job_id === started.job_id),
      "worker B ran it",
    );
    assert(!bot.logs().some((r) => r.msg === "job started"), "the bot runs no downloads");
    assertEquals(emulator.stats.floodRejections, 0, "the three processes kept Telegram's limits");
    for (const user of USERS) {
      const busiest = emulator.maxPerChatPerSecond(user.id);
      assert(busiest <= 1, `chat ${user.id} got ${busiest} messages within one second`);
    }
  } finally {
    for (const process of [bot, workerB]) {
      process?.kill("SIGTERM");
      await process?.exited();
    }
  }
});
