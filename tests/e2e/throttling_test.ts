import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { parsePrometheusText, sampleValue } from "../metrics/_prom_text.ts";
import type { ChatMessage } from "../../src/emulator/mod.ts";
import { ADMIN, ALICE, BOB, PLAYLIST, startTestBot, type TestBot } from "./_harness.ts";

/** A third whitelisted user for this test. */
const CAROL = { id: 1004, first_name: "Carol" };

const SPAM_COUNT = 15;
const COMMANDS_CAPACITY = 3;

async function rateLimitedCount(bot: TestBot): Promise<number> {
  const response = await fetch(`${bot.httpBase}/metrics`);
  const families = parsePrometheusText(await response.text());
  return sampleValue(families, "dlbot_rejected_total", { reason: "rate_limited" }) ?? 0;
}

/** Asserts each pattern matches exactly one message, and no message is left unmatched. */
function assertExactlyOnceEach(messages: ChatMessage[], patterns: RegExp[], who: string): void {
  const texts = messages.map((m) => m.text ?? m.caption ?? "");
  assertEquals(texts.length, patterns.length, `${who} got ${JSON.stringify(texts)}`);
  for (const pattern of patterns) {
    const hits = texts.filter((t) => pattern.test(t));
    assertEquals(
      hits.length,
      1,
      `${who}: one message matching ${pattern} in ${JSON.stringify(texts)}`,
    );
  }
}

Deno.test("under a command spam no chat gets more than one message a second and Telegram never floods the bot", async () => {
  const bot = await startTestBot({
    telegramLimits: true,
    downloaderEnv: { FAKE_SPOTDL_TRACKS: "2" },
    config: (base) => ({
      ...base,
      telegram: { ...base.telegram, allowed_user_ids: [ALICE.id, BOB.id, CAROL.id] },
      // One token a minute: the spam cannot earn a new command while the test runs.
      rate_limit: { commands_capacity: COMMANDS_CAPACITY, commands_per_minute: 1 },
    }),
  });
  const { emulator } = bot;
  try {
    const spam = ["/start", "/status", "/help"];
    for (let i = 0; i < SPAM_COUNT; i++) emulator.sendText(ALICE, spam[i % spam.length]!);
    emulator.sendText(BOB, `/download ${PLAYLIST}`);
    emulator.sendText(BOB, "/status");
    emulator.sendText(BOB, "/help");
    emulator.sendText(ADMIN, "/start");
    emulator.sendText(ADMIN, "/help");
    emulator.sendText(CAROL, "/status");
    emulator.sendText(CAROL, "/start");
    emulator.sendText(CAROL, "/help");

    // Quiet: every denial was counted and every expected message arrived.
    const expectedDenials = SPAM_COUNT - COMMANDS_CAPACITY;
    await emulator.waitFor(async () => (await rateLimitedCount(bot)) === expectedDenials, {
      intervalMs: 100,
      timeoutMs: 30_000,
      message: `${expectedDenials} rate-limited commands`,
    });
    const want = { [ALICE.id]: 4, [BOB.id]: 4, [ADMIN.id]: 2, [CAROL.id]: 3 };
    await emulator.waitFor(
      () =>
        Object.entries(want).every(([id, n]) => emulator.botMessages(Number(id)).length >= n) &&
        emulator.botMessages(BOB.id).some((m) => /2 tracks/.test(m.text ?? "")),
      { timeoutMs: 30_000, message: "every reply and Bob's summary" },
    );

    const alice = emulator.botMessages(ALICE.id).map((m) => m.text ?? "");
    assertEquals(alice.length, 4, JSON.stringify(alice));
    assertMatch(alice[0]!, /^Hi Alice!/);
    assertMatch(alice[1]!, /^You have no jobs yet/);
    assertMatch(alice[2]!, /^dlbot downloads music/);
    assertMatch(alice[3]!, /^Slow down/);
    assertEquals(alice.filter((t) => /^Slow down/.test(t)).length, 1, "one Slow down message");

    assertExactlyOnceEach(emulator.botMessages(BOB.id), [
      /^✅ Finished .*Summary below/,
      /^✅ Fake Playlist — 2 tracks/,
      /^Your recent jobs/,
      /^dlbot downloads music/,
    ], "Bob");
    assertExactlyOnceEach(
      emulator.botMessages(ADMIN.id),
      [/^Hi Ada!/, /^dlbot downloads music/],
      "Ada",
    );
    assertExactlyOnceEach(
      emulator.botMessages(CAROL.id),
      [/^You have no jobs yet/, /^Hi Carol!/, /^dlbot downloads music/],
      "Carol",
    );

    for (const chatId of emulator.chatIds()) {
      const busiest = emulator.maxPerChatPerSecond(chatId);
      assert(busiest <= 1, `chat ${chatId} got ${busiest} messages within one second`);
    }
    assertEquals(emulator.stats.floodRejections, 0, "no 429 from exceeding Telegram's limits");
  } finally {
    await bot.close();
  }
});

Deno.test("while more replies wait than Telegram lets out in a second, a chat's next reply still comes a second later", async () => {
  // 60 users' replies fill two seconds of the bot-wide limit; Alice's first reply waits behind
  // them and her next ones are only made once it was answered, when that queue is short again.
  const crowd = Array.from({ length: 60 }, (_, i) => ({ id: 3000 + i, first_name: `User ${i}` }));
  const bot = await startTestBot({
    telegramLimits: true,
    config: (base) => ({
      ...base,
      telegram: { ...base.telegram, allowed_user_ids: [ALICE.id, ...crowd.map((u) => u.id)] },
    }),
  });
  const { emulator } = bot;
  try {
    for (const user of crowd) emulator.sendText(user, "/help");
    emulator.sendText(ALICE, "/help");
    emulator.sendText(ALICE, "/start");
    emulator.sendText(ALICE, "/status");

    await emulator.waitFor(
      () =>
        crowd.every((u) => emulator.botMessages(u.id).length >= 1) &&
        emulator.botMessages(ALICE.id).length >= 3,
      { timeoutMs: 30_000, message: "a reply for everyone" },
    );

    const alice = emulator.botMessages(ALICE.id).map((m) => m.text ?? "");
    assertEquals(alice.length, 3, JSON.stringify(alice));
    assertMatch(alice[0]!, /^dlbot downloads music/);
    assertMatch(alice[1]!, /^Hi Alice!/);
    assertMatch(alice[2]!, /^You have no jobs yet/);
    for (const user of crowd) {
      const texts = emulator.botMessages(user.id).map((m) => m.text ?? "");
      assertEquals(texts.length, 1, `${user.first_name} got ${JSON.stringify(texts)}`);
      assertMatch(texts[0]!, /^dlbot downloads music/);
    }
    const busiest = emulator.maxPerChatPerSecond();
    assert(busiest <= 1, `a chat got ${busiest} messages within one second`);
    assertEquals(emulator.stats.floodRejections, 0, "no 429 from exceeding Telegram's limits");
  } finally {
    await bot.close();
  }
});

Deno.test("an outsider flood does not hold up a member's reply: refusals go last and the excess is dropped", async () => {
  const OUTSIDERS = 400;
  const bot = await startTestBot({ telegramLimits: true });
  const { emulator } = bot;
  try {
    for (let i = 0; i < OUTSIDERS; i++) {
      emulator.sendText({ id: 700_000 + i, first_name: `Outsider ${i}` }, "/start");
    }
    emulator.sendText(ALICE, "/help");
    await emulator.waitForBotMessage(ALICE.id, /^dlbot downloads music/, { timeoutMs: 30_000 });
    const before = emulator.callsTo("sendMessage").filter((c) => c.ok).length;
    // Whatever refusals had already left when Alice's update was read; never the whole flood.
    assert(before < 40, `${before} refusals went out before Alice's reply`);

    await emulator.waitFor(
      async () => {
        const response = await fetch(`${bot.httpBase}/metrics`);
        const families = parsePrometheusText(await response.text());
        const dropped = sampleValue(families, "dlbot_refusals_dropped_total", {}) ?? 0;
        const refused = emulator.callsTo("sendMessage")
          .filter((c) => c.ok && c.params.chat_id !== ALICE.id).length;
        return dropped + refused === OUTSIDERS || undefined;
      },
      {
        intervalMs: 200,
        timeoutMs: 30_000,
        message: "every outsider refused or counted as dropped",
      },
    );
    assertEquals(emulator.stats.floodRejections, 0, "no 429 from exceeding Telegram's limits");
  } finally {
    await bot.close();
  }
});

Deno.test("under overload new commands get one 'busy' answer each and the rest are answered", async () => {
  const crowd = Array.from({ length: 30 }, (_, i) => ({ id: 5000 + i, first_name: `User ${i}` }));
  // A slow Telegram (a call every 100 ms) makes the backlog certain whatever the machine's speed.
  const bot = await startTestBot({
    botWidePaceMs: 100,
    config: (base) => ({
      ...base,
      telegram: { ...base.telegram, allowed_user_ids: crowd.map((u) => u.id) },
      rate_limit: { ...base.rate_limit, busy_backlog: 5 },
    }),
  });
  const { emulator } = bot;
  try {
    for (const user of crowd) emulator.sendText(user, "/help");
    await emulator.waitFor(
      () => crowd.every((u) => emulator.botMessages(u.id).length >= 1) || undefined,
      { intervalMs: 50, timeoutMs: 30_000, message: "an answer for everyone" },
    );
    const texts = crowd.map((u) => emulator.botMessages(u.id).map((m) => m.text ?? ""));
    for (const [i, got] of texts.entries()) {
      assertEquals(got.length, 1, `${crowd[i]!.first_name} got ${JSON.stringify(got)}`);
      assertMatch(got[0]!, /^(dlbot downloads music|I'm very busy right now)/);
    }
    const busy = texts.filter(([t]) => /^I'm very busy/.test(t ?? "")).length;
    assert(busy > 0 && busy < crowd.length, `${busy} of ${crowd.length} were told it is busy`);
    const response = await fetch(`${bot.httpBase}/metrics`);
    const families = parsePrometheusText(await response.text());
    assertEquals(sampleValue(families, "dlbot_rejected_total", { reason: "busy" }), busy);

    // Once the backlog is gone, the same users are served again.
    const first = crowd.find((_, i) => /^I'm very busy/.test(texts[i]![0] ?? ""))!;
    emulator.sendText(first, "/help");
    await emulator.waitForBotMessage(first.id, /^dlbot downloads music/, { timeoutMs: 30_000 });
  } finally {
    await bot.close();
  }
});
