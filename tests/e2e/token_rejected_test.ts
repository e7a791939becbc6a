/**
 * A revoked or mistyped token is not retried forever: `dlbot run` says what is wrong and exits 1,
 * so systemd's restart limit (or the admin watching the terminal) notices.
 */
import { assertEquals, assertStringIncludes } from "../_assert.ts";
import { tempDir, withEmulator } from "../_test_utils.ts";
import { ALICE } from "./_harness.ts";
import { freePort, nonLogLines, startLiveBot } from "./_live_bot.ts";
import { FAKE_SPOTDL } from "../_fixtures.ts";

const WRONG_TOKEN = "987654321:AAWrongTokenWrongTokenWrongToken_xyz12";

Deno.test("run exits 1 with a clear message when Telegram rejects the token", async () => {
  await using dir = await tempDir();
  await withEmulator(async (emulator) => {
    await using bot = await startLiveBot({
      dir: dir.path,
      env: {
        TELEGRAM_BOT_TOKEN: WRONG_TOKEN,
        TELEGRAM_API_ROOT: emulator.apiRoot,
        TELEGRAM_ALLOWED_USER_IDS: String(ALICE.id),
        DLBOT_DATA_DIR: dir.join("data"),
        DLBOT_HTTP_LISTEN: `127.0.0.1:${freePort()}`,
        DLBOT_DOWNLOADER_COMMAND: FAKE_SPOTDL,
        DLBOT_LOG_FORMAT: "json",
      },
    });
    const exit = await bot.exited();
    assertEquals(exit.code, 1);
    const plain = nonLogLines(exit.stderr).join("\n");
    assertStringIncludes(plain, "Telegram rejected the bot token");
    assertStringIncludes(plain, "TELEGRAM_BOT_TOKEN");
    assertEquals(exit.stderr.includes(WRONG_TOKEN), false, "the token never reaches the output");
    assertEquals(exit.stderr.includes("AAWrongToken"), false);
    assertEquals(plain.includes("    at "), false, "no stack trace outside the JSON log");
  });
});
