/**
 * What a finished job owes its chat survives the bot: the real `dlbot run` process is killed
 * (SIGKILL) the moment its summary is on the way, or stopped while Telegram cannot be reached,
 * and the next start on the same data directory sends what is left, once.
 */
import { assertEquals, assertStringIncludes } from "../_assert.ts";
import { tempDir } from "../_test_utils.ts";
import { ALICE, PLAYLIST } from "./_harness.ts";
import { type LiveBot, liveBotEnv, startLiveBot } from "./_live_bot.ts";
import { type ChatMessage, TelegramEmulator } from "../../src/emulator/mod.ts";

const CONFIG = {
  downloader: {
    kill_grace_seconds: 1,
    env: { FAKE_SPOTDL_TRACKS: "2", FAKE_SPOTDL_DELAY: "0.3" },
  },
  shutdown: { grace_seconds: 1 },
  log: { format: "json", level: "info" },
};

/** Starts Alice's playlist download and returns its status message. */
async function startDownload(emulator: TelegramEmulator, bot: LiveBot): Promise<ChatMessage> {
  await bot.waitForLog("connected to Telegram");
  emulator.sendText(ALICE, `/download ${PLAYLIST}`);
  // The status message as first sent (queued, or already running).
  return await emulator.waitForBotMessage(ALICE.id, /is queued|Downloading/, { timeoutMs: 20_000 });
}

/** Holds the next call of `method` unanswered and kills the bot (SIGKILL) while it waits. */
async function killWhileHeld(emulator: TelegramEmulator, bot: LiveBot, method: string) {
  emulator.injectFaults({ method, kind: "hold", times: 1 });
  await emulator.waitFor(() => emulator.stats.injectedFaults === 1 || undefined, {
    intervalMs: 20,
    timeoutMs: 20_000,
    message: `the ${method} call is on its way`,
  });
  bot.kill("SIGKILL");
  await bot.exited();
}

/** Alice's summaries (the bot's messages that reply to the status message). */
function summaries(emulator: TelegramEmulator, status: ChatMessage): ChatMessage[] {
  return emulator.botMessages(ALICE.id).filter((m) => m.messageId > status.messageId);
}

/** Stops a bot cleanly once it told the chat everything, so nothing more can arrive. */
async function stopWhenDelivered(bot: LiveBot): Promise<void> {
  await bot.waitForLog("sending the messages of a finished job again");
  await bot.waitForLog("job summary sent");
  bot.kill("SIGTERM");
  await bot.exited();
}

/** The restarted bot sends the summary the first one owed, and only once. */
async function restartAndSeeOneSummary(
  emulator: TelegramEmulator,
  second: LiveBot,
  status: ChatMessage,
): Promise<void> {
  const summary = await emulator.waitForBotMessage(ALICE.id, /✅/, {
    after: status.messageId,
    timeoutMs: 20_000,
  });
  assertStringIncludes(summary.text ?? "", "2 downloaded");
  await stopWhenDelivered(second);
  assertEquals(summaries(emulator, status).length, 1, "one summary, not two");
}

Deno.test("a bot killed as a job's summary leaves sends it once after the restart", async () => {
  await using dir = await tempDir();
  await using emulator = await TelegramEmulator.start();
  const env = liveBotEnv(emulator, dir.join("data"));
  const config = { ...CONFIG, log: { format: "json", level: "debug" } };

  const first = await startLiveBot({ dir: dir.path, env, config });
  const status = await startDownload(emulator, first);
  await killWhileHeld(emulator, first, "sendMessage");
  assertEquals(summaries(emulator, status), [], "the killed bot sent no summary");

  await restartAndSeeOneSummary(
    emulator,
    await startLiveBot({ dir: dir.path, env, config }),
    status,
  );
  const shown = emulator.chat(ALICE.id).find((m) => m.messageId === status.messageId);
  assertStringIncludes(shown?.text ?? "", "✅ Finished");
  assertEquals(shown?.replyMarkup, undefined, "no Cancel button is left on the status message");
});

Deno.test("a summary Telegram could not take before a shutdown is sent by the next start", async () => {
  await using dir = await tempDir();
  await using emulator = await TelegramEmulator.start();
  const env = liveBotEnv(emulator, dir.join("data"));
  const config = { ...CONFIG, log: { format: "json", level: "debug" } };

  const first = await startLiveBot({ dir: dir.path, env, config });
  const status = await startDownload(emulator, first);
  emulator.injectFaults({ kind: "drop" });
  await first.waitForLog("job finished");
  first.kill("SIGTERM");
  assertEquals((await first.exited()).code, 0);
  assertEquals(summaries(emulator, status), [], "Telegram got nothing while it was gone");

  emulator.clearFaults();
  await restartAndSeeOneSummary(
    emulator,
    await startLiveBot({ dir: dir.path, env, config }),
    status,
  );
});

Deno.test("a bot killed between a list's summary and its audio sends the rest once after the restart", async () => {
  await using dir = await tempDir();
  await using emulator = await TelegramEmulator.start();
  const env = liveBotEnv(emulator, dir.join("data"));
  const config = {
    ...CONFIG,
    downloader: {
      ...CONFIG.downloader,
      env: { FAKE_SPOTDL_TRACKS: "3", FAKE_SPOTDL_DELAY: "0.1" },
    },
    settings: { lists_as_audio: true },
    log: { format: "json", level: "debug" },
  };
  const first = await startLiveBot({ dir: dir.path, env, config });
  const status = await startDownload(emulator, first);
  await killWhileHeld(emulator, first, "sendMediaGroup");
  const before = summaries(emulator, status).filter((m) => /3 downloaded/.test(m.text ?? ""));
  assertEquals(before.length, 1, "the summary went out before the kill");

  const second = await startLiveBot({ dir: dir.path, env, config });
  await emulator.waitFor(
    () =>
      emulator.botMessages(ALICE.id).filter((m) => m.audio !== undefined).length === 3 || undefined,
    { intervalMs: 20, timeoutMs: 20_000, message: "the album after the restart" },
  );
  await second.waitForLog("sending the messages of a finished job again");
  second.kill("SIGTERM");
  await second.exited();
  const after = emulator.botMessages(ALICE.id);
  assertEquals(
    after.filter((m) => /3 downloaded/.test(m.text ?? "")).length,
    1,
    "no second summary",
  );
  assertEquals(after.filter((m) => m.audio !== undefined).length, 3, "each track once");
});
