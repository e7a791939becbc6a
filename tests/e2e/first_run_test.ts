/**
 * The first run, as the README describes it: no allowed users yet. The bot starts with a loud
 * warning and answers everyone with their numeric id only, so people can send it to the admin.
 */
import { assertEquals, assertStringIncludes } from "../_assert.ts";
import { tempDir, withEmulator } from "../_test_utils.ts";
import { MALLORY } from "./_harness.ts";
import { freePort, nonLogLines, startLiveBot } from "./_live_bot.ts";
import { FAKE_SPOTDL } from "../_fixtures.ts";

Deno.test("with an empty allowlist the bot starts, warns, and answers /start with the id only", async () => {
  await using dir = await tempDir();
  await withEmulator(async (emulator) => {
    await using bot = await startLiveBot({
      dir: dir.path,
      env: {
        TELEGRAM_BOT_TOKEN: emulator.token,
        TELEGRAM_API_ROOT: emulator.apiRoot,
        DLBOT_DATA_DIR: dir.join("data"),
        DLBOT_HTTP_LISTEN: `127.0.0.1:${freePort()}`,
        PUBLIC_BASE_URL: "https://dl.example.test",
        DLBOT_DOWNLOADER_COMMAND: FAKE_SPOTDL,
        DLBOT_LOG_FORMAT: "json",
      },
    });
    const warning = await bot.waitForLog(/telegram\.allowed_user_ids is empty/);
    assertEquals(warning.level, "warn");
    await bot.waitForLog("connected to Telegram");
    emulator.sendText(MALLORY, "/start");
    const reply = await emulator.waitForBotMessage(MALLORY.id, /user id/);
    assertStringIncludes(reply.text ?? "", String(MALLORY.id));
    emulator.sendText(MALLORY, "/download https://open.spotify.com/track/4cOdK2wGLETKBW3PvgPWqT");
    emulator.sendText(MALLORY, "/help");
    // Each update is logged as handled once its answer (if any) was sent.
    await bot.waitForLog("update handled", (r) => r.command === "help");
    assertEquals(emulator.botMessages(MALLORY.id).length, 1, "nothing but the id, once a day");
    bot.kill("SIGTERM");
    const exit = await bot.exited();
    assertEquals(exit.code, 0);
    assertEquals(nonLogLines(exit.stderr), [], "the warning is a log line like the rest");
  });
});
