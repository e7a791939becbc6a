import { assert, assertEquals } from "../_assert.ts";
import { TelegramEmulator } from "../../src/emulator/mod.ts";
import { recordingLogger } from "../_fixtures.ts";
import type { ChatMessage, FaultKind } from "../../src/emulator/mod.ts";
import { ADMIN, ALICE, BOB, PLAYLIST, startTestBot, type TestBot } from "./_harness.ts";

const ALBUM = "https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy";

/** Asserts each pattern matches exactly one message, and no message is left unmatched. */
function assertExactlyOnceEach(messages: ChatMessage[], patterns: RegExp[], who: string): void {
  const texts = messages.map((m) => m.text ?? m.caption ?? "");
  assertEquals(texts.length, patterns.length, `${who} got ${JSON.stringify(texts)}`);
  for (const pattern of patterns) {
    const hits = texts.filter((t) => pattern.test(t)).length;
    assertEquals(hits, 1, `${who}: one message matching ${pattern} in ${JSON.stringify(texts)}`);
  }
}

/** How many calls to `method` an injected fault of `kind` hit. */
function faultsHit(emulator: TelegramEmulator, method: string, kind: FaultKind): number {
  return emulator.callsTo(method).filter((c) => c.fault === kind).length;
}

async function assertHealthy(bot: TestBot): Promise<void> {
  const response = await fetch(`${bot.httpBase}/healthz`);
  const body = await response.json() as { status: string };
  assertEquals(response.status, 200);
  assertEquals(body.status, "ok");
}

Deno.test("with 429s, 500s and dropped connections every reply arrives exactly once", async () => {
  const emulator = await TelegramEmulator.start({ seed: 20240611 });
  const bot = await startTestBot({ emulator, downloaderEnv: { FAKE_SPOTDL_TRACKS: "2" } });
  try {
    const sends = /^(sendMessage|editMessageText)$/;
    // One of each kind for certain, then a seeded share of later calls. The shares are capped so
    // that even if they all hit one message, its 429s and 500s stay within auto-retry's attempts.
    emulator.injectFaults({ method: "getUpdates", kind: "drop", times: 1 });
    emulator.injectFaults({ method: "getUpdates", kind: "500", times: 1 });
    emulator.injectFaults({ method: "sendMessage", kind: "500", times: 1 });
    emulator.injectFaults({ method: "sendMessage", kind: "429", retryAfter: 1, times: 1 });
    emulator.injectFaults({ method: "editMessageText", kind: "drop", times: 1 });
    emulator.injectFaults({
      method: sends,
      kind: "429",
      retryAfter: 1,
      probability: 0.2,
      times: 2,
    });
    emulator.injectFaults({ method: "sendMessage", kind: "drop", probability: 0.15, times: 1 });
    emulator.injectFaults({ method: sends, kind: "500", probability: 0.1, times: 1 });
    emulator.injectFaults({
      method: "getUpdates",
      kind: "429",
      retryAfter: 1,
      probability: 0.3,
      times: 1,
    });

    emulator.sendText(ALICE, "/start");
    emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    emulator.sendText(ALICE, "/status");
    emulator.sendText(BOB, "/start");
    emulator.sendText(BOB, `/download ${ALBUM}`);
    emulator.sendText(BOB, "/help");
    emulator.sendText(ADMIN, "/start");
    emulator.sendText(ADMIN, "/help");

    const finished = (chatId: number) =>
      emulator.botMessages(chatId).some((m) => /^✅ Finished/.test(m.text ?? "")) &&
      emulator.botMessages(chatId).some((m) => /^✅ Fake Playlist — 2 tracks/.test(m.text ?? ""));
    await emulator.waitFor(
      () =>
        finished(ALICE.id) && finished(BOB.id) && emulator.botMessages(ALICE.id).length >= 4 &&
        emulator.botMessages(BOB.id).length >= 4 && emulator.botMessages(ADMIN.id).length >= 2,
      { timeoutMs: 60_000, message: "every reply, status edit and summary" },
    );

    // A later command is answered once too: the bot kept working, and nothing more trickled in.
    emulator.sendText(ALICE, "/help");
    await emulator.waitForBotMessage(ALICE.id, /^dlbot downloads music/, { timeoutMs: 30_000 });

    assertExactlyOnceEach(emulator.botMessages(ALICE.id), [
      /^Hi Alice!/,
      /^✅ Finished Fake Playlist .*Summary below/,
      /^✅ Fake Playlist — 2 tracks/,
      /^Your recent jobs/,
      /^dlbot downloads music/,
    ], "Alice");
    assertExactlyOnceEach(emulator.botMessages(BOB.id), [
      /^Hi Bob!/,
      /^✅ Finished Fake Playlist .*Summary below/,
      /^✅ Fake Playlist — 2 tracks/,
      /^dlbot downloads music/,
    ], "Bob");
    assertExactlyOnceEach(
      emulator.botMessages(ADMIN.id),
      [/^Hi Ada!/, /^dlbot downloads music/],
      "Ada",
    );

    assert(faultsHit(emulator, "sendMessage", "500") >= 1, "a sendMessage got 500");
    assert(faultsHit(emulator, "sendMessage", "429") >= 1, "a sendMessage got 429");
    assert(faultsHit(emulator, "editMessageText", "drop") >= 1, "an edit was dropped");
    assert(faultsHit(emulator, "getUpdates", "drop") >= 1, "a getUpdates was dropped");
    assert(faultsHit(emulator, "getUpdates", "500") >= 1, "a getUpdates got 500");
    await assertHealthy(bot);
  } finally {
    await bot.close();
    await emulator.close();
  }
});

Deno.test("after polling fails several times in a row, a message sent meanwhile is answered once", async () => {
  const bot = await startTestBot();
  const { emulator } = bot;
  try {
    await emulator.waitFor(() => emulator.longPollWaiting, { message: "the bot to poll" });
    emulator.injectFaults({ method: "getUpdates", kind: "drop", times: 5 });
    // The long poll already waiting delivers this one; the polls after it are dropped.
    emulator.sendText(ALICE, "/start");
    await emulator.waitForBotMessage(ALICE.id, /^Hi Alice!/);
    await emulator.waitFor(() => faultsHit(emulator, "getUpdates", "drop") >= 1, {
      message: "polling to fail",
    });

    emulator.sendText(BOB, "/help");
    await emulator.waitForBotMessage(BOB.id, /^dlbot downloads music/, { timeoutMs: 30_000 });
    assertEquals(faultsHit(emulator, "getUpdates", "drop"), 5, "every injected drop was hit");

    emulator.sendText(ALICE, "/status");
    await emulator.waitForBotMessage(ALICE.id, /^You have no jobs yet/);
    assertExactlyOnceEach(
      emulator.botMessages(ALICE.id),
      [/^Hi Alice!/, /^You have no jobs yet/],
      "Alice",
    );
    assertExactlyOnceEach(emulator.botMessages(BOB.id), [/^dlbot downloads music/], "Bob");
    await assertHealthy(bot);
  } finally {
    await bot.close();
  }
});

Deno.test("a Telegram outage is logged once when it starts and once when it ends, with its length", async () => {
  const { logger, records } = recordingLogger();
  const bot = await startTestBot({ logger });
  const { emulator } = bot;
  try {
    emulator.sendText(ALICE, "/start");
    await emulator.waitForBotMessage(ALICE.id, /^Hi Alice!/);
    await emulator.waitFor(() => emulator.longPollWaiting, { message: "the bot to poll again" });
    // Every call fails for a while (the poll already waiting delivers Bob's message).
    emulator.injectFaults({ kind: "500", times: 6 });
    emulator.sendText(BOB, "/help");
    await emulator.waitForBotMessage(BOB.id, /^dlbot downloads music/, { timeoutMs: 30_000 });
    // The bot reads the answer to its reply a moment after the emulator shows the message.
    // The bot reads the answer to its reply a moment after the emulator shows the message.
    const ended = await emulator.waitFor(() => {
      const lines = records.filter((r) => r.message === "Telegram is reachable again");
      return lines.length > 0 ? lines : undefined;
    }, { intervalMs: 20, message: "the end of the outage logged" });
    const started = records.filter((r) => r.message === "Telegram is unreachable; retrying");
    assertEquals(started.length, 1, "one line for the start, not one per retry");
    assertEquals(started[0]?.level, "warn");
    assertEquals(typeof started[0]?.props.error, "string");
    assertEquals(ended.length, 1);
    assertEquals(typeof ended[0]?.props.outage_seconds, "number");
    const metrics = await bot.app.metrics.render();
    assertEquals(/^dlbot_telegram_outages_total 1$/m.test(metrics), true, metrics);
    assertEquals(/^dlbot_telegram_reachable 1$/m.test(metrics), true);
  } finally {
    await bot.close();
  }
});

Deno.test("a reply whose answer keeps getting lost is sent again once at most, not until one answer arrives", async () => {
  const bot = await startTestBot();
  const { emulator } = bot;
  try {
    emulator.sendText(ALICE, "/start");
    await emulator.waitForBotMessage(ALICE.id, /^Hi Alice!/);
    // The call runs, its answer is cut: the bot cannot tell whether it went through.
    emulator.injectFaults({ method: "sendMessage", kind: "drop_response", times: 4 });
    emulator.sendText(ALICE, "/help");
    await emulator.waitFor(() => faultsHit(emulator, "sendMessage", "drop_response") >= 2, {
      message: "the reply sent and sent again",
    });
    emulator.sendText(BOB, "/status");
    await emulator.waitForBotMessage(BOB.id, /^You have no jobs yet/, { timeoutMs: 30_000 });
    const helps = emulator.botMessages(ALICE.id).filter((m) =>
      m.text?.startsWith("dlbot downloads")
    );
    assertEquals(helps.length, 2, "the first try and one retry, then no more copies");
  } finally {
    await bot.close();
  }
});
