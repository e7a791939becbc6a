/**
 * /settings: a user picks format and bitrate with buttons; their next download asks spotDL for
 * them and is a download of its own (not the earlier mp3 of the same link). Buttons of someone
 * else's settings, stale ones and values the admins do not allow change nothing.
 */
import { assert, assertEquals, assertStringIncludes } from "../_assert.ts";
import { ALICE, BOB, PLAYLIST, startTestBot, type TestBot } from "./_harness.ts";
import type { ChatMessage, SimulatedUser } from "../../src/emulator/mod.ts";

function buttonsOf(message: ChatMessage | undefined): { text: string; data: string }[] {
  return (message?.replyMarkup?.inline_keyboard ?? []).flat().map((b) => ({
    text: b.text,
    data: (b as { callback_data?: string }).callback_data ?? "",
  }));
}

async function press(bot: TestBot, user: SimulatedUser, message: ChatMessage, text: string) {
  const button = buttonsOf(current(bot, message)).find((b) => b.text === text);
  assert(button, `no button ${text} in ${JSON.stringify(buttonsOf(current(bot, message)))}`);
  const before = bot.emulator.callbackAnswers().length;
  bot.emulator.pressButton(user, message, button.data);
  return await bot.emulator.waitFor(
    () => bot.emulator.callbackAnswers().slice(before)[0],
    { intervalMs: 10, message: `the answer to ${text}` },
  );
}

function current(bot: TestBot, message: ChatMessage): ChatMessage | undefined {
  return bot.emulator.chat(message.chatId).find((m) => m.messageId === message.messageId);
}

Deno.test("a user's /settings choice is what their next download asks spotDL for", async () => {
  const argsFile = await Deno.makeTempFile();
  const bot = await startTestBot({ downloaderEnv: { FAKE_SPOTDL_ARGSFILE: argsFile } });
  try {
    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    await bot.emulator.waitForBotMessage(ALICE.id, /3 downloaded/, { timeoutMs: 15_000 });

    bot.emulator.sendText(ALICE, "/settings");
    const settings = await bot.emulator.waitForBotMessage(ALICE.id, /Your settings/);
    assertStringIncludes(settings.text ?? "", "Format: mp3 · Bitrate: 128k");
    assertEquals((await press(bot, ALICE, settings, "m4a")).text, "Format: m4a");
    assertEquals((await press(bot, ALICE, settings, "320k")).text, "Bitrate: 320k");
    await bot.emulator.waitFor(
      () => /Format: m4a · Bitrate: 320k/.test(current(bot, settings)?.text ?? "") || undefined,
      { intervalMs: 10, message: "the message shows the new choice" },
    );
    assert(buttonsOf(current(bot, settings)).some((b) => b.text === "✓ m4a"));

    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    const summary = await bot.emulator.waitForBotMessage(ALICE.id, /3 downloaded/, {
      after: settings.messageId,
      timeoutMs: 15_000,
    });
    assert(!/downloaded this recently/.test(summary.text ?? ""), "a new download, not the mp3 one");
    assertStringIncludes(summary.text ?? "", ".m4a");
    // Each list is saved first (spotDL's `save`), then downloaded.
    const runs = (await Deno.readTextFile(argsFile)).split("--\n")
      .filter((r) => r.startsWith("download\n"));
    assertEquals(runs.length, 2);
    const last = runs[1]!.trim().split("\n");
    assertEquals(last.slice(-4), ["--format", "m4a", "--bitrate", "320k"]);
    assert(!runs[0]!.includes("m4a"), "the first download used the defaults");
  } finally {
    await bot.close();
    await Deno.remove(argsFile);
  }
});

Deno.test("buttons of someone else's settings, stale buttons and disallowed values change nothing", async () => {
  const bot = await startTestBot();
  const group = { chatId: -500, chatType: "group" as const };
  try {
    bot.emulator.sendText(ALICE, "/settings", group);
    const alices = await bot.emulator.waitForBotMessage(-500, /Your settings/);
    const answer = await press(bot, BOB, alices, "flac");
    assertStringIncludes(answer.text ?? "", "someone else's settings");
    bot.emulator.sendText(BOB, "/settings");
    const bobs = await bot.emulator.waitForBotMessage(BOB.id, /Your settings/);
    assertStringIncludes(bobs.text ?? "", "Format: mp3", "Bob's settings did not change");
    bot.emulator.sendText(ALICE, "/settings");
    const own = await bot.emulator.waitForBotMessage(ALICE.id, /Your settings/);
    assertStringIncludes(own.text ?? "", "Format: mp3", "nor Alice's");
  } finally {
    await bot.close();
  }
});

Deno.test("with 'List tracks as audio' a playlist's tracks also arrive as audio albums of up to 10, in order", async () => {
  const bot = await startTestBot({
    telegramLimits: true,
    downloaderEnv: {
      FAKE_SPOTDL_TRACKS: "12",
      FAKE_SPOTDL_DELAY: "0.001",
      FAKE_SPOTDL_BYTES: "512",
    },
  });
  const { emulator } = bot;
  try {
    bot.emulator.sendText(ALICE, "/settings");
    const settings = await bot.emulator.waitForBotMessage(ALICE.id, /Your settings/);
    assertEquals((await press(bot, ALICE, settings, "🎵 List tracks as audio")).text, "Lists: on");
    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    await bot.emulator.waitForBotMessage(ALICE.id, /12 downloaded/, { timeoutMs: 20_000 });
    const audio = await bot.emulator.waitFor(() => {
      const sent = bot.emulator.botMessages(ALICE.id).filter((m) => m.audio !== undefined);
      return sent.length >= 12 ? sent : undefined;
    }, { intervalMs: 50, timeoutMs: 20_000, message: "12 audio messages" });
    const words = ["One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten"];
    const title = (i: number) => `Song ${words[i] ?? String(i + 1)}`;
    assertEquals(audio.map((m) => m.audio?.title), Array.from({ length: 12 }, (_, i) => title(i)));
    assertEquals(audio[0]?.audio?.performer, "Artist One");
    const groups = await bot.emulator.waitFor(() => {
      const calls = bot.emulator.callsTo("sendMediaGroup").filter((c) => c.ok);
      return calls.length === 2 ? calls : undefined;
    }, { intervalMs: 20, message: "two album calls" });
    assertEquals(groups.map((c) => (c.params.media as unknown[]).length), [10, 2]);
    assertEquals(emulator.stats.floodRejections, 0, "no 429");
  } finally {
    await bot.close();
  }
});
