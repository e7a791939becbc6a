/**
 * Crash recovery through the whole app: the bot runs as the binary does (`main.ts run`, a
 * subprocess), is killed with SIGKILL in the middle of a download, and is started again on the
 * same data directory. The user must hear about the same job: its summary once it is resumed, or
 * a failure explaining the restart once its attempts are used up.
 */
import { assert, assertEquals, assertStringIncludes } from "../_assert.ts";
import { TelegramEmulator } from "../../src/emulator/mod.ts";
import { exists, mainArgs } from "../_test_utils.ts";
import { ALICE, FAKE_SPOTDL, jobIdFrom, PLAYLIST, startTestBot, type TestBot } from "./_harness.ts";
import { readJob } from "../../src/jobs/store.ts";
import { childEnv } from "../_fixtures.ts";

/** Everything one recovery scenario uses; `dispose()` removes all of it. */
interface Scene {
  emulator: TelegramEmulator;
  dataDir: string;
  pidFile: string;
  dispose(): Promise<void>;
}

async function scene(): Promise<Scene> {
  const emulator = await TelegramEmulator.start();
  const dataDir = await Deno.makeTempDir({ prefix: "dlbot-e2e-recovery-" });
  const pidFile = `${dataDir}/fake.pids`;
  return {
    emulator,
    dataDir,
    pidFile,
    async dispose() {
      await killFake(pidFile);
      await emulator.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

/** Kills the orphaned fake spotDL (its process group), as the service manager would. */
async function killFake(pidFile: string): Promise<void> {
  let pids: number[];
  try {
    pids = (await Deno.readTextFile(pidFile)).split("\n").filter((l) => l.trim()).map(Number);
  } catch {
    return;
  }
  for (const [i, pid] of pids.entries()) {
    try {
      Deno.kill(i === 0 ? -pid : pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

/** Starts `dlbot run` as a subprocess with a hanging fake spotDL; the first instance. */
async function startBinary(
  s: Scene,
  maxAttempts: number,
  stopAfter: number,
): Promise<Deno.ChildProcess> {
  const configPath = `${s.dataDir}/bot.toml`;
  await Deno.writeTextFile(
    configPath,
    [
      "[telegram]",
      `api_root = "${s.emulator.apiRoot}"`,
      `allowed_user_ids = [${ALICE.id}]`,
      "[http]",
      `listen = "127.0.0.1:0"`,
      `public_base_url = "http://files.example.test/dl"`,
      "[storage]",
      `data_dir = "${s.dataDir}"`,
      "[downloader]",
      `command = "${FAKE_SPOTDL}"`,
      "kill_grace_seconds = 1",
      "[downloader.env]",
      `FAKE_SPOTDL_MODE = "hang"`,
      `FAKE_SPOTDL_STOP_AFTER = "${stopAfter}"`,
      `FAKE_SPOTDL_DELAY = "0.02"`,
      `FAKE_SPOTDL_PIDFILE = "${s.pidFile}"`,
      "[jobs]",
      "lease_seconds = 5",
      `max_attempts = ${maxAttempts}`,
      "[log]",
      `level = "error"`,
      "",
    ].join("\n"),
  );
  return new Deno.Command(Deno.execPath(), {
    args: mainArgs("run", "--config", configPath),
    cwd: s.dataDir,
    clearEnv: true,
    env: childEnv({ TELEGRAM_BOT_TOKEN: s.emulator.token }),
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/**
 * Runs the first instance until Alice's download is running, then kills it with SIGKILL (no
 * graceful stop, no re-queue) and kills its orphaned downloader. Returns the job id and the
 * status message.
 */
async function crashMidDownload(s: Scene, maxAttempts: number, stopAfter = 0) {
  const child = await startBinary(s, maxAttempts, stopAfter);
  try {
    s.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    const status = await s.emulator.waitForBotMessage(ALICE.id, /Downloading/, {
      timeoutMs: 30_000,
      message: "the first instance shows the download running",
    });
    const jobId = jobIdFrom(status);
    if (stopAfter > 0) await songsStored(s, jobId, stopAfter);
    return { jobId, status };
  } finally {
    child.kill("SIGKILL");
    await child.status;
    await killFake(s.pidFile);
  }
}

/** Waits (bounded) until the running instance has stored `done` finished songs in KV. */
async function songsStored(s: Scene, jobId: string, done: number): Promise<void> {
  const kv = await Deno.openKv(`${s.dataDir}/dlbot.kv`);
  try {
    await s.emulator.waitFor(async () => {
      const entry = await readJob(kv, jobId);
      return (entry?.job.progress.done ?? 0) >= done || undefined;
    }, { intervalMs: 50, message: `${done} songs stored` });
  } finally {
    kv.close();
  }
}

/**
 * Starts the app again, in this process, on the same data dir, with a working fake spotDL, at
 * once: the dead instance's lease has not run out, but the data directory's lock says whose it
 * was and that its process is gone.
 */
function restart(s: Scene, maxAttempts: number, runsFile?: string): Promise<TestBot> {
  return startTestBot({
    emulator: s.emulator,
    downloaderEnv: runsFile ? { FAKE_SPOTDL_RUNSFILE: runsFile } : {},
    dataDir: s.dataDir,
    config: (base) => ({
      ...base,
      telegram: { ...base.telegram, allowed_user_ids: [ALICE.id] },
      jobs: { ...base.jobs, max_attempts: maxAttempts },
    }),
  });
}

Deno.test("a download killed mid-playlist continues after the restart with the songs it had", async () => {
  const s = await scene();
  let bot: TestBot | undefined;
  const runs = `${s.dataDir}/runs.txt`;
  try {
    const { jobId, status } = await crashMidDownload(s, 2, 1);
    const dir = `${s.dataDir}/downloads/${jobId}`;
    assertEquals(
      (await Deno.stat(`${dir}/Artist Two - Song Two.mp3`)).size,
      100,
      "the crash cut song two off",
    );

    bot = await restart(s, 2, runs);
    const summary = await s.emulator.waitForBotMessage(ALICE.id, /✅/, {
      after: status.messageId,
      timeoutMs: 15_000,
    });
    assertEquals(jobIdFrom(summary), jobId, "the summary is for the interrupted job");
    assertStringIncludes(summary.text ?? "", "3 downloaded · 0 skipped · 0 failed");
    const edited = s.emulator.chat(ALICE.id).find((m) => m.messageId === status.messageId)!;
    assertStringIncludes(edited.text ?? "", "✅ Finished");
    assertEquals(
      (await Deno.readTextFile(runs)).trim().split("\n"),
      ["Artist Two - Song Two", "Artist Three - Song Three"],
      "song one was kept, the cut-off song two downloaded again",
    );
    assertEquals((await Deno.stat(`${dir}/Artist Two - Song Two.mp3`)).size, 65536);

    s.emulator.sendText(ALICE, `/status ${jobId}`);
    const answer = await s.emulator.waitForBotMessage(ALICE.id, new RegExp(jobId), {
      after: summary.messageId,
    });
    assertStringIncludes(answer.text ?? "", "✅");
  } finally {
    await bot?.close();
    await s.dispose();
  }
});

Deno.test("a download interrupted with no attempts left fails after the restart, telling the user why", async () => {
  const s = await scene();
  let bot: TestBot | undefined;
  try {
    const { jobId, status } = await crashMidDownload(s, 1);

    bot = await restart(s, 1);
    const failure = await s.emulator.waitForBotMessage(ALICE.id, /^❌ Download failed/, {
      after: status.messageId,
      timeoutMs: 15_000,
    });
    assertEquals(jobIdFrom(failure), jobId);
    assertStringIncludes(failure.text ?? "", "The bot restarted while this download was running");
    assertStringIncludes(failure.text ?? "", "/download again");
    const edited = s.emulator.chat(ALICE.id).find((m) => m.messageId === status.messageId)!;
    assertStringIncludes(edited.text ?? "", "failed");
    assertEquals(edited.replyMarkup?.inline_keyboard.length ?? 0, 0, "no Cancel button left");
    assertEquals(
      s.emulator.botMessages(ALICE.id).filter((m) => m.text?.startsWith("✅")).length,
      0,
      "the job was not run again",
    );
    const dirGone = await s.emulator.waitFor(
      async () => !(await exists(`${s.dataDir}/downloads/${jobId}`)) || undefined,
      { intervalMs: 50, message: "the interrupted job's files removed" },
    );
    assert(dirGone);
  } finally {
    await bot?.close();
    await s.dispose();
  }
});
