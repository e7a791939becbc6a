/**
 * `dlbot healthcheck` (what Docker's HEALTHCHECK and compose run) against a real `dlbot run`
 * process: healthy while it runs, unreachable once it stopped, unhealthy when its downloader is
 * missing; without `--url` it finds the bot through DLBOT_HTTP_LISTEN.
 */
import { assertEquals, assertMatch, assertStringIncludes } from "../_assert.ts";
import { tempDir, withEmulator } from "../_test_utils.ts";
import { assertCleanOutput, runCli } from "../cli/_spawn.ts";
import { freePort, type LiveBot, liveBotEnv, startLiveBot } from "./_live_bot.ts";
import type { TelegramEmulator } from "../../src/emulator/mod.ts";
import { FAKE_SPOTDL } from "../_fixtures.ts";

function botEnv(
  emulator: TelegramEmulator,
  dataDir: string,
  listen: string,
  downloader = FAKE_SPOTDL,
): Record<string, string> {
  return liveBotEnv(emulator, dataDir, {
    DLBOT_HTTP_LISTEN: listen,
    DLBOT_DOWNLOADER_COMMAND: downloader,
    DLBOT_LOG_FORMAT: "json",
  });
}

/** The readiness URL of a running bot, from the address it logged when it connected. */
async function readyzUrl(bot: LiveBot): Promise<string> {
  const connected = await bot.waitForLog("connected to Telegram");
  return `http://${connected.http}/readyz`;
}

Deno.test("healthcheck: healthy (exit 0) against a running bot, unreachable (exit 2) once it stopped", async (t) => {
  await using dir = await tempDir();
  const listen = `127.0.0.1:${freePort()}`;
  await withEmulator(async (emulator) => {
    await using bot = await startLiveBot({
      dir: dir.path,
      env: botEnv(emulator, dir.join("data"), listen),
    });
    const url = await readyzUrl(bot);
    assertEquals(url, `http://${listen}/readyz`);

    await t.step("--url: exit 0 and a healthy line listing every check", async () => {
      const run = await runCli(["healthcheck", "--url", url]);
      assertEquals(run.code, 0, run.stdout + run.stderr);
      assertMatch(run.stdout, /^healthy: ready \(.*kv ok.*\)\n$/);
      assertStringIncludes(run.stdout, "telegram ok");
      assertStringIncludes(run.stdout, "downloader ok");
      assertCleanOutput(run);
    });

    await t.step("without --url: the address comes from DLBOT_HTTP_LISTEN", async () => {
      const run = await runCli(["healthcheck"], { env: { DLBOT_HTTP_LISTEN: listen } });
      assertEquals(run.code, 0, run.stdout + run.stderr);
      assertMatch(run.stdout, /^healthy: ready/);
      assertCleanOutput(run);
    });

    await t.step("after SIGTERM: exit 2 and an unreachable line", async () => {
      bot.kill("SIGTERM");
      const exit = await bot.exited();
      assertEquals(exit.code, 0, exit.stderr);
      for (const args of [["healthcheck", "--url", url], ["healthcheck"]]) {
        const run = await runCli(args, { env: { DLBOT_HTTP_LISTEN: listen } });
        assertEquals(run.code, 2, run.stdout + run.stderr);
        assertMatch(
          run.stdout,
          /^unreachable: connection refused at http:\/\/127\.0\.0\.1:\d+\/readyz/,
        );
        assertCleanOutput(run);
      }
    });
  });
});

Deno.test("healthcheck: unhealthy (exit 1) naming the downloader when the bot's downloader is missing", async () => {
  await using dir = await tempDir();
  await withEmulator(async (emulator) => {
    await using bot = await startLiveBot({
      dir: dir.path,
      env: botEnv(emulator, dir.join("data"), "127.0.0.1:0", "/nonexistent/spotdl"),
    });
    const url = await readyzUrl(bot);
    const run = await runCli(["healthcheck", "--url", url]);
    assertEquals(run.code, 1, run.stdout + run.stderr);
    assertMatch(run.stdout, /^unhealthy: not_ready \(downloader: /);
    assertStringIncludes(run.stdout, "/nonexistent/spotdl does not exist or is not executable");
    assertCleanOutput(run);
    bot.kill("SIGTERM");
    assertEquals((await bot.exited()).code, 0);
  });
});
