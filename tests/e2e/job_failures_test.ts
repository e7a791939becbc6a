/**
 * What a user sees when a download goes wrong, through the whole app: the chat text, the job's
 * state in `/status <id>`, and what is left on the server (processes, files).
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../_assert.ts";
import type { ConfigInput } from "../../src/config/schema.ts";
import type { ChatMessage } from "../../src/emulator/mod.ts";
import {
  ALICE,
  fileLinksIn,
  jobIdFrom,
  localUrl,
  PLAYLIST,
  startTestBot,
  type TestBot,
  TRACK,
} from "./_harness.ts";
import { exists, waitProcessGone } from "../_test_utils.ts";
import { FAKE_JSONL_DOWNLOADER as FAKE_JSONL, recordingLogger } from "../_fixtures.ts";

/** Things from the downloader's stderr and the server that must never reach a chat. */
const INTERNALS = [
  "Traceback",
  'File "',
  "site-packages",
  "requests.exceptions",
  "HTTPSConnectionPool",
  "SpotifyException",
  "/usr/local",
  "exit code",
  "stderr",
];

function withDownloader(
  change: Partial<NonNullable<ConfigInput["downloader"]>>,
): (base: ConfigInput) => ConfigInput {
  return (base) => ({ ...base, downloader: { ...base.downloader, ...change } });
}

/** The pids the fake wrote: its own and, in hang/rate_limit modes, its child sleep's. */
async function fakePids(pidFile: string): Promise<number[]> {
  const text = await Deno.readTextFile(pidFile);
  return text.split("\n").filter((line) => line.trim() !== "").map(Number);
}

/** The pids once `count` are written (the fake writes its child's a moment after it starts). */
async function awaitPids(pidFile: string, count: number): Promise<number[]> {
  for (let i = 0; i < 200; i++) {
    const pids = await fakePids(pidFile);
    if (pids.length >= count) return pids;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return await fakePids(pidFile);
}

/** Kills whatever a failed test may have left running (no-op when already gone). */
async function killLeftovers(pidFile: string): Promise<void> {
  let pids: number[];
  try {
    pids = await fakePids(pidFile);
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

/** Sends /download and returns the status message and the job id. */
async function startDownload(bot: TestBot, link: string) {
  bot.emulator.sendText(ALICE, `/download ${link}`);
  const status = await bot.emulator.waitForBotMessage(ALICE.id, /Job [a-z0-9]{6,32}/);
  return { status, jobId: jobIdFrom(status) };
}

/** Sends /status <id> and returns the answer. */
async function statusOf(bot: TestBot, jobId: string, after: number): Promise<ChatMessage> {
  bot.emulator.sendText(ALICE, `/status ${jobId}`);
  return await bot.emulator.waitForBotMessage(ALICE.id, new RegExp(jobId), { after });
}

function assertNoInternals(text: string): void {
  for (const internal of INTERNALS) {
    assert(!text.includes(internal), `chat text leaks ${JSON.stringify(internal)}:\n${text}`);
  }
}

/** Every text the bot ever showed in the chat, edits included. */
function everythingSaid(bot: TestBot): string {
  const sent = bot.emulator.calls
    .filter((c) => c.method === "sendMessage" || c.method === "editMessageText")
    .map((c) => String(c.params.text ?? ""));
  return sent.join("\n");
}

Deno.test("when one song of a playlist fails, the summary counts it, names it and links only the files that exist", async () => {
  const bot = await startTestBot({ downloaderEnv: { FAKE_SPOTDL_MODE: "fail_one" } });
  try {
    const { status, jobId } = await startDownload(bot, PLAYLIST);
    const summary = await bot.emulator.waitForBotMessage(ALICE.id, /✅/, {
      after: status.messageId,
      timeoutMs: 15_000,
    });
    const text = summary.text ?? "";
    assertStringIncludes(text, "3 tracks");
    assertStringIncludes(text, "2 downloaded · 0 skipped · 1 failed");
    assertMatch(text, /Failed:\n• Artist Two - Song Two/);
    assertNoInternals(text);

    const links = fileLinksIn(summary);
    assertEquals(links.length, 2, `two links in ${summary.rawText}`);
    const names = links.map((link) => decodeURIComponent(new URL(link).pathname.split("/").pop()!));
    assertEquals(names.sort(), ["Artist One - Song One.mp3", "Artist Three - Song Three.mp3"]);
    for (const link of links) {
      const response = await fetch(localUrl(bot, link));
      await response.body?.cancel();
      assertEquals(response.status, 200, link);
    }

    const answer = await statusOf(bot, jobId, summary.messageId);
    assertStringIncludes(answer.text ?? "", "1 failed");
    assertStringIncludes(answer.text ?? "", "Song Two");
  } finally {
    await bot.close();
  }
});

Deno.test("a downloader crash shows a friendly failure without the traceback, and its files are removed", async () => {
  const bot = await startTestBot({ downloaderEnv: { FAKE_SPOTDL_MODE: "crash" } });
  try {
    const { status, jobId } = await startDownload(bot, PLAYLIST);
    const failure = await bot.emulator.waitForBotMessage(ALICE.id, /^❌ Download failed/, {
      after: status.messageId,
      timeoutMs: 15_000,
    });
    assertStringIncludes(
      failure.text ?? "",
      "The downloader stopped with an error. Please try again later.",
    );
    assertStringIncludes(failure.text ?? "", "try again");
    assertNoInternals(everythingSaid(bot));
    const finalStatus = bot.emulator.chat(ALICE.id).find((m) => m.messageId === status.messageId)!;
    assertStringIncludes(finalStatus.text ?? "", "failed");
    assertEquals(finalStatus.replyMarkup?.inline_keyboard.length ?? 0, 0, "no Cancel button");

    const answer = await statusOf(bot, jobId, failure.messageId);
    assertMatch(answer.text ?? "", /^❌ Download failed/);
    assertEquals(await exists(`${bot.dataDir}/downloads/${jobId}`), false, "output dir removed");
  } finally {
    await bot.close();
  }
});

Deno.test("a download that hangs past downloader.timeout_minutes is stopped: timeout message, no processes, no partial files", async () => {
  const pidFile = await Deno.makeTempFile({ prefix: "dlbot-fake-pids-" });
  const bot = await startTestBot({
    downloaderEnv: { FAKE_SPOTDL_MODE: "hang", FAKE_SPOTDL_PIDFILE: pidFile },
    config: withDownloader({ timeout_minutes: 0.03 }),
  });
  try {
    const { status, jobId } = await startDownload(bot, PLAYLIST);
    await bot.emulator.waitForBotMessage(ALICE.id, /Downloading/);
    const pids = await awaitPids(pidFile, 2);
    assertEquals(pids.length, 2, "the fake and its child sleep are running");

    const failure = await bot.emulator.waitForBotMessage(ALICE.id, /^❌ Download failed/, {
      after: status.messageId,
      timeoutMs: 15_000,
    });
    assertStringIncludes(failure.text ?? "", "took longer than 0.03 minutes and was stopped");
    assertStringIncludes(failure.text ?? "", "What to try:");
    for (const pid of pids) assert(await waitProcessGone(pid), `process ${pid} still running`);
    assertEquals(await exists(`${bot.dataDir}/downloads/${jobId}`), false, "partial files removed");
    assertMatch((await statusOf(bot, jobId, failure.messageId)).text ?? "", /^❌.*took longer/);
  } finally {
    await bot.close();
    await killLeftovers(pidFile);
    await Deno.remove(pidFile);
  }
});

/** What the user reads for each way a whole run fails, as spotDL prints it. */
const RUN_FAILURES: [mode: string, text: string][] = [
  ["not_found", "Spotify does not serve this link: the playlist is private or deleted"],
  ["forbidden", "the server's spotDL needs an update for Spotify's recent API changes"],
  ["ffmpeg_missing", "The server cannot convert audio right now (ffmpeg is missing)"],
  ["offline", "The server could not reach Spotify or YouTube (a network problem)"],
  ["yt_blocked", "YouTube Music is blocking the server right now"],
];

for (const [mode, text] of RUN_FAILURES) {
  Deno.test(`a run that fails with spotDL's ${mode} traceback tells the user why, without internals`, async () => {
    const bot = await startTestBot({ downloaderEnv: { FAKE_SPOTDL_MODE: mode } });
    try {
      const { status } = await startDownload(bot, PLAYLIST);
      const failure = await bot.emulator.waitForBotMessage(ALICE.id, /^❌ Download failed/, {
        after: status.messageId,
        timeoutMs: 15_000,
      });
      assertStringIncludes(failure.text ?? "", text);
      assert(!(failure.text ?? "").includes("rate-limiting"), failure.text);
      assertNoInternals(everythingSaid(bot));
    } finally {
      await bot.close();
    }
  });
}

Deno.test("a playlist with local files, an explicit song and two failures gets a summary that says so", async () => {
  const bot = await startTestBot({ downloaderEnv: { FAKE_SPOTDL_MODE: "every_case" } });
  try {
    const { status } = await startDownload(bot, PLAYLIST);
    const summary = await bot.emulator.waitForBotMessage(ALICE.id, /✅/, {
      after: status.messageId,
      timeoutMs: 15_000,
    });
    const text = summary.text ?? "";
    assertStringIncludes(text, "7 tracks");
    assertStringIncludes(text, "4 downloaded · 0 skipped · 1 explicit skipped · 2 failed");
    assertStringIncludes(text, "• Obscure Band - Lost Track — no matching audio found");
    assertStringIncludes(text, "• Beyonce - Cafe — YouTube refused the download");
    assertStringIncludes(text, "2 items of the list cannot be downloaded");
    assertEquals(fileLinksIn(summary).length, 4);
  } finally {
    await bot.close();
  }
});

Deno.test("a link with no matching audio tells the user nothing could be downloaded", async () => {
  const bot = await startTestBot({ downloaderEnv: { FAKE_SPOTDL_MODE: "no_results" } });
  try {
    const { status, jobId } = await startDownload(bot, TRACK);
    const failure = await bot.emulator.waitForBotMessage(ALICE.id, /^❌ Download failed/, {
      after: status.messageId,
      timeoutMs: 15_000,
    });
    assertStringIncludes(failure.text ?? "", "Nothing could be downloaded");
    assertStringIncludes(failure.text ?? "", "no matching audio");
    assertNoInternals(everythingSaid(bot));
    assertEquals(bot.emulator.botMessages(ALICE.id).filter((m) => m.audio).length, 0);
    assertEquals(await exists(`${bot.dataDir}/downloads/${jobId}`), false);
  } finally {
    await bot.close();
  }
});

Deno.test("a missing downloader tells the user it is not installed, and the log tells the admin how to fix it", async () => {
  const { logger, records } = recordingLogger();
  const bot = await startTestBot({
    config: withDownloader({ command: "/nonexistent/spotdl" }),
    logger,
  });
  try {
    const { status, jobId } = await startDownload(bot, PLAYLIST);
    const failure = await bot.emulator.waitForBotMessage(ALICE.id, /^❌ Download failed/, {
      after: status.messageId,
      timeoutMs: 15_000,
    });
    assertStringIncludes(failure.text ?? "", "not installed on the server");
    assert(!(failure.text ?? "").includes("/nonexistent"), "the path stays out of the chat");

    const logged = records.find((r) => r.level === "error" && r.props.job_id === jobId);
    assert(logged, `an error record for job ${jobId}`);
    assertStringIncludes(String(logged.props.message), "/nonexistent/spotdl");
    assertStringIncludes(String(logged.props.hint), "downloader.command");
  } finally {
    await bot.close();
  }
});

Deno.test("a downloader speaking the JSON-lines protocol produces a normal success summary", async () => {
  const bot = await startTestBot({
    config: withDownloader({
      command: FAKE_JSONL,
      args: ["{url}", "--output-dir", "{output_dir}"],
      output_format: "jsonl",
      env: { FAKE_JSONL_TRACKS: "2" },
    }),
  });
  try {
    const { status, jobId } = await startDownload(bot, PLAYLIST);
    const summary = await bot.emulator.waitForBotMessage(ALICE.id, /✅/, {
      after: status.messageId,
      timeoutMs: 15_000,
    });
    assertStringIncludes(summary.text ?? "", "JSON Playlist — 2 tracks");
    assertStringIncludes(summary.text ?? "", "2 downloaded · 0 skipped · 0 failed");
    const links = fileLinksIn(summary);
    assertEquals(links.length, 2);
    const response = await fetch(localUrl(bot, links[0]!));
    const body = new Uint8Array(await response.arrayBuffer());
    assertEquals(response.status, 200);
    assertEquals(body.length, 4096);
    assertStringIncludes(links[0]!, `/files/${jobId}/`);
  } finally {
    await bot.close();
  }
});
