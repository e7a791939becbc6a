/**
 * The bot's admins hear of the server's problems (once per kind per hour) and can ask /admin.
 */
import { assertEquals, assertStringIncludes } from "../_assert.ts";
import { ADMIN, ALICE, PLAYLIST, startTestBot, TRACK } from "./_harness.ts";

Deno.test("a missing downloader is told to the admins once, however many downloads fail", async () => {
  const bot = await startTestBot({
    config: (base) => ({
      ...base,
      downloader: { ...base.downloader, command: "/nonexistent/spotdl" },
    }),
  });
  try {
    // Telegram lets a bot write only to people who have started it.
    bot.emulator.sendText(ADMIN, "/start");
    await bot.emulator.waitForBotMessage(ADMIN.id, /^Hi Ada/);
    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    const alert = await bot.emulator.waitForBotMessage(
      ADMIN.id,
      /the downloader cannot be started/,
    );
    assertStringIncludes(alert.text ?? "", "dlbot check-config");
    const first = await bot.emulator.waitForBotMessage(ALICE.id, /^❌ Download failed/);
    assertStringIncludes(first.text ?? "", "The bot admin has been told");

    bot.emulator.sendText(ALICE, `/download ${TRACK}`);
    await bot.emulator.waitForBotMessage(ALICE.id, /^❌ Download failed/, {
      after: first.messageId,
    });
    bot.emulator.sendText(ADMIN, "/status");
    await bot.emulator.waitForBotMessage(ADMIN.id, /recent jobs/);
    assertEquals(
      bot.emulator.botMessages(ADMIN.id).filter((m) => m.text?.includes("cannot be started"))
        .length,
      1,
      "one alert per kind per hour",
    );
  } finally {
    await bot.close();
  }
});

Deno.test("/admin shows the queue, the disk and recent failures to admins only", async () => {
  const bot = await startTestBot({
    config: (base) => ({
      ...base,
      downloader: { ...base.downloader, command: "/nonexistent/spotdl" },
    }),
  });
  try {
    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    await bot.emulator.waitForBotMessage(ALICE.id, /^❌ Download failed/);
    bot.emulator.sendText(ADMIN, "/admin");
    const report = await bot.emulator.waitForBotMessage(ADMIN.id, /dlbot status/);
    const text = report.text ?? "";
    assertStringIncludes(text, "Queue: 0 waiting · 0 running");
    assertStringIncludes(text, "Disk: ");
    assertStringIncludes(text, "Recent failures");
    assertStringIncludes(text, "downloader_missing");

    bot.emulator.sendText(ALICE, "/admin");
    const refused = await bot.emulator.waitForBotMessage(ALICE.id, /admins/);
    assertEquals(refused.text, "This command is for the bot's admins.");
  } finally {
    await bot.close();
  }
});
