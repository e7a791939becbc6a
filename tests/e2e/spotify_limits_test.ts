/**
 * Spotify's rate limits through the whole app: a short wait is shown while spotDL sits it out; a
 * long one pauses the job (and every other) until it ends, and the job then continues with the
 * songs it had, without downloading them again.
 */
import { assert, assertEquals, assertStringIncludes } from "../_assert.ts";
import { ALICE, jobIdFrom, PLAYLIST, startTestBot } from "./_harness.ts";

/** A clock that runs with real time, plus whatever the test jumps over. */
function jumpingClock() {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    jump(ms: number) {
      offset += ms;
    },
  };
}

Deno.test("a short Spotify wait shows in the status message and the download goes on", async () => {
  const bot = await startTestBot({
    downloaderEnv: {
      FAKE_SPOTDL_MODE: "rate_limit",
      FAKE_SPOTDL_RETRY_AFTER: "29",
      FAKE_SPOTDL_TIME_SCALE: "0.03",
      FAKE_SPOTDL_STOP_AFTER: "1",
      FAKE_SPOTDL_TRACKS: "2",
    },
  });
  try {
    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    const status = await bot.emulator.waitForBotMessage(ALICE.id, /Job [a-z0-9]+/);
    await bot.emulator.waitFor(
      () =>
        bot.emulator.chat(ALICE.id).find((m) => m.messageId === status.messageId)?.text
          ?.includes("Spotify asked us to wait") || undefined,
      { intervalMs: 20, message: "the wait shown in the status message" },
    );
    const summary = await bot.emulator.waitForBotMessage(ALICE.id, /✅/, {
      after: status.messageId,
      timeoutMs: 15_000,
    });
    assertStringIncludes(summary.text ?? "", "2 downloaded · 0 skipped · 0 failed");
  } finally {
    await bot.close();
  }
});

Deno.test("a long Spotify limit pauses the download until it ends; it then continues with the songs it had", async () => {
  const clock = jumpingClock();
  const dir = await Deno.makeTempDir({ prefix: "dlbot-e2e-spotify-" });
  const runs = `${dir}/runs.txt`;
  const bot = await startTestBot({
    now: clock.now,
    downloaderEnv: {
      FAKE_SPOTDL_MODE: "rate_limit",
      FAKE_SPOTDL_RETRY_AFTER: "7200",
      FAKE_SPOTDL_STOP_AFTER: "1",
      FAKE_SPOTDL_TRACKS: "3",
      FAKE_SPOTDL_RATE_LIMIT_ONCE: `${dir}/limited`,
      FAKE_SPOTDL_RUNSFILE: runs,
    },
  });
  try {
    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    const status = await bot.emulator.waitForBotMessage(ALICE.id, /Job [a-z0-9]+/);
    const jobId = jobIdFrom(status);
    const paused = await bot.emulator.waitFor(
      () => {
        const text = bot.emulator.chat(ALICE.id).find((m) => m.messageId === status.messageId)
          ?.text;
        return text?.includes("paused by Spotify until") ? text : undefined;
      },
      { intervalMs: 20, message: "the pause shown in the status message" },
    );
    assertStringIncludes(paused, "it will continue by itself");

    bot.emulator.sendText(ALICE, `/status ${jobId}`);
    const answer = await bot.emulator.waitForBotMessage(ALICE.id, /paused by Spotify/, {
      after: status.messageId,
    });
    assert(answer.replyMarkup?.inline_keyboard.length === 1, "a paused job can be cancelled");

    clock.jump(7_200_000 + 1_000);
    const summary = await bot.emulator.waitForBotMessage(ALICE.id, /✅/, {
      after: answer.messageId,
      timeoutMs: 15_000,
    });
    assertEquals(jobIdFrom(summary), jobId);
    assertStringIncludes(summary.text ?? "", "3 downloaded · 0 skipped · 0 failed");
    assertEquals(
      (await Deno.readTextFile(runs)).trim().split("\n"),
      ["Artist One - Song One", "Artist Two - Song Two", "Artist Three - Song Three"],
      "every song downloaded once: song one was kept over the pause",
    );
  } finally {
    await bot.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a paused download can be cancelled", async () => {
  const bot = await startTestBot({
    downloaderEnv: { FAKE_SPOTDL_MODE: "rate_limit", FAKE_SPOTDL_RETRY_AFTER: "86400" },
  });
  try {
    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    const status = await bot.emulator.waitForBotMessage(ALICE.id, /Job [a-z0-9]+/);
    const jobId = jobIdFrom(status);
    await bot.emulator.waitFor(
      () =>
        bot.emulator.chat(ALICE.id).find((m) => m.messageId === status.messageId)?.text
          ?.includes("paused by Spotify") || undefined,
      { intervalMs: 20, message: "the pause shown" },
    );
    bot.emulator.sendText(ALICE, `/cancel ${jobId}`);
    const reply = await bot.emulator.waitForBotMessage(ALICE.id, /cancelled/, {
      after: status.messageId,
    });
    assertStringIncludes(reply.text ?? "", `Job ${jobId} cancelled.`);
  } finally {
    await bot.close();
  }
});
