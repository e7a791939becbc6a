import { assert, assertEquals, assertMatch, assertNotMatch } from "../_assert.ts";
import { ALICE, BOB, jobIdFrom, PLAYLIST, startTestBot } from "./_harness.ts";
import { exists } from "../_test_utils.ts";

Deno.test("a playlist above the track limit asks first; the button downloads it all, once, for its owner only", async () => {
  const bot = await startTestBot({
    downloaderEnv: { FAKE_SPOTDL_TRACKS: "5" },
    config: (base) => ({ ...base, jobs: { ...base.jobs, confirm_above_tracks: 3 } }),
  });
  const { emulator } = bot;
  try {
    emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    const status = await emulator.waitForBotMessage(ALICE.id, /queued|Downloading|Looking/);
    const stoppedId = jobIdFrom(status.rawText);
    const question = await emulator.waitForBotMessage(ALICE.id, /has 5 tracks/, {
      after: status.messageId,
      timeoutMs: 20_000,
    });
    assertMatch(question.text ?? "", /more than the limit of 3 without confirmation/);
    assertNotMatch(question.text ?? "", /What to try/);
    const button = question.replyMarkup?.inline_keyboard[0]?.[0] as
      | { text: string; callback_data?: string }
      | undefined;
    assertEquals(button?.text, "Download all 5 tracks");
    assertEquals(button?.callback_data, `confirm:${stoppedId}`);
    assertEquals(
      await exists(`${bot.dataDir}/downloads/${stoppedId}`),
      false,
      "partial files removed",
    );
    const at = { chatId: ALICE.id, messageId: question.messageId };
    const answersFor = (from: number) =>
      emulator.callbackAnswers(ALICE.id).filter((a) => a.messageId === question.messageId)
        .slice(from);

    // Someone else pressing the button (e.g. in a group) gets "not found" and starts nothing.
    emulator.pressButton(BOB, at, button!.callback_data!);
    const refused = await emulator.waitFor(() => answersFor(0)[0]);
    assertMatch(refused.text ?? "", new RegExp(`No job with id ${stoppedId}`));
    emulator.sendText(BOB, "/status");
    await emulator.waitForBotMessage(BOB.id, /no jobs/);

    emulator.pressButton(ALICE, at, button!.callback_data!);
    const started = await emulator.waitFor(() => answersFor(1)[0]);
    assertEquals(started.text, "Starting…");
    const newStatus = await emulator.waitForBotMessage(ALICE.id, /queued|Downloading|Looking/, {
      after: question.messageId,
    });
    const newId = jobIdFrom(newStatus.rawText);
    assert(newId !== stoppedId, "a new job");
    const summary = await emulator.waitForBotMessage(ALICE.id, /✅/, {
      after: newStatus.messageId,
      timeoutMs: 20_000,
    });
    assertMatch(summary.text ?? "", /5 tracks/);
    assertMatch(summary.text ?? "", /5 downloaded/);
    assertEquals(jobIdFrom(summary.rawText), newId);

    // A second press neither starts a third job nor posts another status message.
    const messagesBefore = emulator.botMessages(ALICE.id).length;
    emulator.pressButton(ALICE, at, button!.callback_data!);
    const repeated = await emulator.waitFor(() => answersFor(2)[0]);
    assertEquals(
      repeated.text,
      `Already downloaded: job ${newId}. Send /status ${newId} to see it again.`,
    );
    emulator.sendText(ALICE, "/status");
    const list = await emulator.waitForBotMessage(ALICE.id, /recent jobs/, {
      after: summary.messageId,
    });
    const ids = [...(list.rawText ?? "").matchAll(/<code>([a-z0-9]{6,32})<\/code>/g)].map((m) =>
      m[1]
    );
    assertEquals(ids.sort(), [newId, stoppedId].sort(), "exactly two jobs");
    assertMatch(list.text ?? "", /needs confirmation/);
    assertEquals(
      emulator.botMessages(ALICE.id).length,
      messagesBefore + 1,
      "only the /status reply",
    );
  } finally {
    await bot.close();
  }
});
