/**
 * Graceful shutdown of the real `dlbot run` process (as systemd or Docker stop it): SIGTERM drains,
 * re-queues the running job and exits 0; the next start resumes the job; a second signal exits at
 * once; a bot that cannot reach Telegram still stops promptly.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../_assert.ts";
import { tempDir, withEmulator } from "../_test_utils.ts";
import { readJob } from "../../src/jobs/store.ts";
import { ALICE, jobIdFrom, PLAYLIST, TRACK } from "./_harness.ts";
import {
  freePort,
  HANG_GUARD_MS,
  isProcessRunning,
  liveBotEnv,
  type LiveExit,
  type LogRecord,
  nonLogLines,
  startLiveBot,
} from "./_live_bot.ts";
import { TelegramEmulator } from "../../src/emulator/mod.ts";
import { FAKE_SPOTDL } from "../_fixtures.ts";

const RESTARTING = /The bot is restarting\. Please try again in a minute\./;

/** The config file: short grace periods, JSON logs, and the fake downloader's behaviour. */
function botConfig(graceSeconds: number, downloaderEnv: Record<string, string>) {
  return {
    shutdown: { grace_seconds: graceSeconds },
    downloader: { kill_grace_seconds: 1, env: downloaderEnv },
    jobs: { lease_seconds: 5 },
    log: { format: "json", level: "info" },
  };
}

function assertCleanStderr(exit: LiveExit): void {
  assertEquals(nonLogLines(exit.stderr), [], "standard error holds only JSON log lines");
  for (const noise of ["DeprecationWarning", "punycode", "    at "]) {
    assert(!exit.stderr.includes(noise), `unexpected ${JSON.stringify(noise)} in:\n${exit.stderr}`);
  }
}

async function pidsIn(pidfile: string): Promise<number[]> {
  const text = await Deno.readTextFile(pidfile);
  return text.split("\n").filter((line) => line.trim() !== "").map(Number);
}

Deno.test("SIGTERM drains: new downloads hear 'restarting', the running job is re-queued and resumes after a restart", async () => {
  await using dir = await tempDir();
  const dataDir = dir.join("data");
  const pidfile = dir.join("spotdl.pid");
  await withEmulator(async (emulator) => {
    const env = liveBotEnv(emulator, dataDir);
    let jobId: string;
    {
      await using bot = await startLiveBot({
        dir: dir.path,
        env,
        config: botConfig(3, { FAKE_SPOTDL_MODE: "hang", FAKE_SPOTDL_PIDFILE: pidfile }),
      });
      await bot.waitForLog("connected to Telegram");
      emulator.sendText(ALICE, `/download ${PLAYLIST}`);
      const status = await emulator.waitForBotMessage(ALICE.id, /Downloading/, {
        timeoutMs: HANG_GUARD_MS,
      });
      jobId = jobIdFrom(status.rawText);

      bot.kill("SIGTERM");
      await bot.waitForLog("shutting down");
      emulator.sendText(ALICE, `/download ${TRACK}`);
      await emulator.waitForBotMessage(ALICE.id, RESTARTING, {
        after: status.messageId,
        timeoutMs: HANG_GUARD_MS,
      });

      const exit = await bot.exited();
      assertEquals(exit.code, 0, exit.stderr);
      assertCleanStderr(exit);
      const messages = bot.logs().map((record) => record.msg);
      assert(messages.some((msg) => msg.startsWith("shutting down")), exit.stderr);
      assert(messages.includes("shut down cleanly"), exit.stderr);
    }

    const pids = await pidsIn(pidfile);
    assertEquals(pids.length, 2, "the fake spotDL and its child sleep");
    for (const pid of pids) {
      await emulator.waitFor(async () => !(await isProcessRunning(pid)), {
        intervalMs: 50,
        timeoutMs: HANG_GUARD_MS,
        message: `downloader process ${pid} to be gone`,
      });
    }

    {
      using kv = await Deno.openKv(`${dataDir}/dlbot.kv`);
      const stored = await readJob(kv, jobId);
      assertEquals(stored?.job.state, "queued");
      assertEquals(stored?.job.attempts, 1, "a shutdown does not use up an attempt");
    }

    await Deno.remove(pidfile);
    await using restarted = await startLiveBot({
      dir: dir.path,
      env,
      config: botConfig(3, { FAKE_SPOTDL_MODE: "ok", FAKE_SPOTDL_DELAY: "0.01" }),
    });
    const finished = await emulator.waitForBotMessage(
      ALICE.id,
      new RegExp(`✅ Finished .*job ${jobId}`),
      { timeoutMs: HANG_GUARD_MS },
    );
    assertStringIncludes(finished.text ?? "", jobId);
    await emulator.waitForBotMessage(ALICE.id, /✅ .*3 tracks/, { timeoutMs: HANG_GUARD_MS });
    restarted.kill("SIGTERM");
    const exit = await restarted.exited();
    assertEquals(exit.code, 0, exit.stderr);
    assertCleanStderr(exit);
    using kv = await Deno.openKv(`${dataDir}/dlbot.kv`);
    assertEquals((await readJob(kv, jobId))?.job.state, "succeeded");
  });
});

Deno.test("a second SIGTERM during the drain exits at once with code 130", async () => {
  await using dir = await tempDir();
  const pidfile = dir.join("spotdl.pid");
  await withEmulator(async (emulator) => {
    await using bot = await startLiveBot({
      dir: dir.path,
      env: liveBotEnv(emulator, dir.join("data")),
      // A grace far longer than the hang guard: only the second signal can end the process in time.
      config: botConfig(600, { FAKE_SPOTDL_MODE: "hang", FAKE_SPOTDL_PIDFILE: pidfile }),
    });
    try {
      await bot.waitForLog("connected to Telegram");
      emulator.sendText(ALICE, `/download ${PLAYLIST}`);
      await emulator.waitForBotMessage(ALICE.id, /Downloading/, { timeoutMs: HANG_GUARD_MS });

      bot.kill("SIGTERM");
      await bot.waitForLog("shutting down");
      bot.kill("SIGTERM");
      const exit = await bot.exited();
      assertEquals(exit.code, 130, exit.stderr);
      assertStringIncludes(exit.stderr, "Received SIGTERM again: exiting now.");
      assert(!exit.stderr.includes("    at "), exit.stderr);
      // The downloader runs in its own process group; the immediate exit still stops it.
      for (const pid of await pidsIn(pidfile)) {
        await emulator.waitFor(async () => !(await isProcessRunning(pid)), {
          intervalMs: 50,
          timeoutMs: HANG_GUARD_MS,
          message: `downloader process ${pid} survived the immediate exit`,
        });
      }
    } finally {
      await killDownloader(pidfile);
    }
  });
});

Deno.test("a bot that cannot reach Telegram keeps retrying and still stops promptly on SIGTERM", async () => {
  await using dir = await tempDir();
  const closedPort = freePort();
  await using bot = await startLiveBot({
    dir: dir.path,
    env: {
      TELEGRAM_BOT_TOKEN: "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi",
      TELEGRAM_API_ROOT: `http://127.0.0.1:${closedPort}`,
      TELEGRAM_ALLOWED_USER_IDS: String(ALICE.id),
      DLBOT_DATA_DIR: dir.join("data"),
      DLBOT_HTTP_LISTEN: "127.0.0.1:0",
      DLBOT_DOWNLOADER_COMMAND: FAKE_SPOTDL,
    },
    config: botConfig(20, {}),
  });
  const retry = (attempt: number) => (record: LogRecord) => record.attempt === attempt;
  await bot.waitForLog("cannot reach Telegram yet; retrying", retry(1));
  await bot.waitForLog("cannot reach Telegram yet; retrying", retry(2));
  bot.kill("SIGTERM");
  const exit = await bot.exited();
  assertEquals(exit.code, 0, exit.stderr);
  assertCleanStderr(exit);
  assert(bot.logs().some((record) => record.msg === "shut down cleanly"), exit.stderr);
  assert(!bot.logs().some((record) => record.msg === "connected to Telegram"), exit.stderr);
  assert(!exit.stderr.includes("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi"), "the token is never logged");
  assertMatch(exit.stderr, /retry_in_ms/);
});

/** Kills whatever the fake spotDL left running (its process group), for tests that cut it off. */
async function killDownloader(pidfile: string): Promise<void> {
  let pids: number[];
  try {
    pids = await pidsIn(pidfile);
  } catch {
    return;
  }
  for (const pid of pids) {
    for (const target of [-pid, pid]) {
      try {
        Deno.kill(target, "SIGKILL");
      } catch {
        // Gone already.
      }
    }
  }
}

Deno.test("SIGTERM while Telegram is gone and a job's summary is pending still exits", async () => {
  await using dir = await tempDir();
  const emulator = await TelegramEmulator.start();
  let closed = false;
  try {
    await using bot = await startLiveBot({
      dir: dir.path,
      env: liveBotEnv(emulator, dir.join("data")),
      config: botConfig(1, { FAKE_SPOTDL_TRACKS: "2", FAKE_SPOTDL_DELAY: "0.3" }),
    });
    await bot.waitForLog("connected to Telegram");
    emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    await emulator.waitForBotMessage(ALICE.id, /Downloading/);
    await emulator.close();
    closed = true;
    await bot.waitForLog("job finished");
    bot.kill("SIGTERM");
    const exit = await bot.exited();
    assertEquals(exit.code, 0, exit.stderr);
    assertCleanStderr(exit);
    assert(
      bot.logs().some((r) => r.msg.startsWith("stopping took")),
      exit.stderr,
    );
  } finally {
    if (!closed) await emulator.close();
  }
});

Deno.test("a second bot on the same data directory is refused at start-up with one clear line", async () => {
  await using dir = await tempDir();
  await withEmulator(async (emulator) => {
    const env = liveBotEnv(emulator, dir.join("data"));
    await using first = await startLiveBot({ dir: dir.path, env, config: botConfig(1, {}) });
    await first.waitForLog("connected to Telegram");
    await using second = await startLiveBot({ dir: dir.path, env, config: botConfig(1, {}) });
    const refused = await second.exited();
    assertEquals(refused.code, 1);
    assertStringIncludes(
      nonLogLines(refused.stderr).join("\n"),
      `another dlbot (pid ${first.pid} on`,
    );
    assertEquals(/^\s+at /m.test(refused.stderr), false, "no stack trace");

    first.kill("SIGTERM");
    assertEquals((await first.exited()).code, 0);
    await using third = await startLiveBot({ dir: dir.path, env, config: botConfig(1, {}) });
    await third.waitForLog("connected to Telegram");
  });
});
