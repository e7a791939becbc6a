/**
 * Two machines on one denokv store: a `--role bot` process and a `--role worker` process with
 * data directories of their own (nothing shared but the store, as on two machines), both on the
 * test KV Connect server. The worker runs the download and serves its files under its own public
 * URL, and every link points there, also the ones the bot hands out later.
 */
import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { tempDir } from "../_test_utils.ts";
import { ALICE, fileLinksIn, jobIdFrom, TELEGRAM_FLOOD_LIMIT } from "./_harness.ts";
import { freePort, liveBotEnv, startLiveBot } from "./_live_bot.ts";
import { TelegramEmulator } from "../../src/emulator/mod.ts";
import { startKvConnectServer } from "../_kv_connect_server.ts";

const PLAYLIST = "https://open.spotify.com/playlist/37i9dQZF1DXcBWIGoYBM5M";

Deno.test("a bot and a worker on two machines share a denokv store: links point at the machine with the files", async () => {
  await using dir = await tempDir();
  await using emulator = await TelegramEmulator.start({ floodLimit: TELEGRAM_FLOOD_LIMIT });
  const kv = startKvConnectServer();
  const tokenFile = dir.join("kv_token");
  await Deno.writeTextFile(tokenFile, `${kv.token}\n`);
  const machine = (name: string, port: number) =>
    liveBotEnv(emulator, dir.join(`${name}-data`), {
      DLBOT_KV_PATH: kv.url,
      DENO_KV_ACCESS_TOKEN_FILE: tokenFile,
      DLBOT_HTTP_LISTEN: `127.0.0.1:${port}`,
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}/dl`,
    });
  const botPort = freePort();
  const workerPort = freePort();
  const config = {
    downloader: { env: { FAKE_SPOTDL_TRACKS: "2", FAKE_SPOTDL_DELAY: "0.05" } },
    log: { format: "json", level: "info" },
  };
  const start = (name: string, role: string, port: number) =>
    startLiveBot({
      dir: dir.path,
      env: machine(name, port),
      config,
      args: ["--role", role],
      configName: `${name}.toml`,
    });
  const bot = await start("bot", "bot", botPort);
  const worker = await start("worker", "worker", workerPort);
  try {
    await bot.waitForLog("connected to Telegram");
    await worker.waitForLog("connected to Telegram");
    emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    const summary = await emulator.waitForBotMessage(ALICE.id, /2 downloaded/, {
      timeoutMs: 30_000,
    });
    const jobId = jobIdFrom(summary);
    const links = fileLinksIn(summary);
    assertEquals(links.length, 2);
    for (const link of links) {
      assertMatch(link, new RegExp(`^http://127\\.0\\.0\\.1:${workerPort}/dl/`), "the worker's");
      const response = await fetch(link.replace("/dl", ""));
      assertEquals(response.status, 200, link);
      await response.body?.cancel();
    }
    assert(worker.logs().some((r) => r.msg === "job started"), "the worker ran it");

    // The bot answers /status from the shared store: its links go to the worker too.
    emulator.sendText(ALICE, `/status ${jobId}`);
    const status = await emulator.waitForBotMessage(ALICE.id, /Fake Playlist/, {
      after: summary.messageId,
      timeoutMs: 15_000,
    });
    const again = fileLinksIn(status);
    assert(again.length > 0, status.rawText);
    for (const link of again) {
      assertMatch(link, new RegExp(`^http://127\\.0\\.0\\.1:${workerPort}/dl/`), "the worker's");
      const response = await fetch(link.replace("/dl", ""));
      assertEquals(response.status, 200, link);
      await response.body?.cancel();
    }
    assertEquals(emulator.stats.floodRejections, 0);
    assert(kv.stats.writes > 0, "the store is the denokv server");
  } finally {
    for (const process of [bot, worker]) {
      process.kill("SIGTERM");
      await process.exited();
    }
    await kv.close();
  }
});
