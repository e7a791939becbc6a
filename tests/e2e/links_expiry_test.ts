/**
 * Download links from the summary, through the whole app and its HTTP server, on an injected
 * clock: they serve the file (whole, or a byte range) until `http.link_ttl_hours` passes, then
 * answer 410; once `jobs.retention_days` passes, the files are gone.
 */
import { assert, assertEquals, assertStringIncludes } from "../_assert.ts";
import type { ConfigInput } from "../../src/config/schema.ts";
import type { ChatMessage } from "../../src/emulator/mod.ts";
import { TelegramEmulator } from "../../src/emulator/mod.ts";
import {
  ALICE,
  fileLinksIn,
  jobIdFrom,
  localUrl,
  PLAYLIST,
  startTestBot,
  type TestBot,
} from "./_harness.ts";
import { exists } from "../_test_utils.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A clock running with real time, plus whatever the test skips ahead. */
function skippableClock() {
  let skipped = 0;
  return {
    now: () => Date.now() + skipped,
    skip(ms: number) {
      skipped += ms;
    },
  };
}

/** Downloads a playlist as Alice; returns the job id, the summary and its links. */
async function downloadPlaylist(bot: TestBot) {
  bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
  const status = await bot.emulator.waitForBotMessage(ALICE.id, /Job [a-z0-9]{6,32}/);
  const summary = await bot.emulator.waitForBotMessage(ALICE.id, /✅/, {
    after: status.messageId,
    timeoutMs: 15_000,
  });
  const links = fileLinksIn(summary);
  assert(links.length > 0, `links in ${summary.rawText}`);
  return { jobId: jobIdFrom(status), summary, links };
}

async function statusOf(bot: TestBot, jobId: string, after: number): Promise<ChatMessage> {
  bot.emulator.sendText(ALICE, `/status ${jobId}`);
  return await bot.emulator.waitForBotMessage(ALICE.id, new RegExp(jobId), { after });
}

/** Fetches a URL and returns its status with the body (always consumed). */
async function get(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  return { response, body: new Uint8Array(await response.arrayBuffer()) };
}

Deno.test("a summary link serves the file and byte ranges until the link TTL passes, then answers 410; /status gives a fresh link", async () => {
  const clock = skippableClock();
  const bot = await startTestBot({
    now: clock.now,
    config: (base) => ({ ...base, http: { ...base.http, link_ttl_hours: 2 } }),
  });
  try {
    const { jobId, summary, links } = await downloadPlaylist(bot);
    const url = localUrl(bot, links[0]!);
    const name = decodeURIComponent(new URL(url).pathname.split("/").pop()!);
    const onDisk = await Deno.readFile(`${bot.dataDir}/downloads/${jobId}/${name}`);

    const whole = await get(url);
    assertEquals(whole.response.status, 200);
    assertEquals(whole.response.headers.get("content-type"), "audio/mpeg");
    assertEquals(whole.body, onDisk);

    const part = await get(url, { range: "bytes=5-14" });
    assertEquals(part.response.status, 206);
    assertEquals(part.response.headers.get("content-range"), `bytes 5-14/${onDisk.length}`);
    assertEquals(part.body, onDisk.slice(5, 15));
    assertEquals(new TextDecoder().decode(part.body.slice(0, 5)), "AUDIO");

    clock.skip(HOUR);
    assertEquals((await get(url)).response.status, 200, "still valid an hour later");

    clock.skip(HOUR + 60_000);
    const expired = await get(url);
    assertEquals(expired.response.status, 410, "expired once the TTL passed");
    assertStringIncludes(new TextDecoder().decode(expired.body), "expired");
    const expiredRange = await get(url, { range: "bytes=0-9" });
    assertEquals(expiredRange.response.status, 410);

    const fresh = await statusOf(bot, jobId, summary.messageId);
    assertStringIncludes(fresh.text ?? "", "✅");
    const renewed = fileLinksIn(fresh).find((link) => link.includes(new URL(links[0]!).pathname));
    assert(renewed, `a link to the same file in ${fresh.rawText}`);
    assert(renewed !== links[0], "the new link carries a new expiry");
    const again = await get(localUrl(bot, renewed));
    assertEquals(again.response.status, 200);
    assertEquals(again.body, onDisk);
  } finally {
    await bot.close();
  }
});

Deno.test("after jobs.retention_days the files are removed at the next start: the link finds nothing and /status forgets the job", async () => {
  const clock = skippableClock();
  const emulator = await TelegramEmulator.start();
  const dataDir = await Deno.makeTempDir({ prefix: "dlbot-e2e-" });
  const options = {
    emulator,
    dataDir,
    now: clock.now,
    // Links outlive the files, so what the link shows afterwards is the retention, not the TTL.
    config: (base: ConfigInput): ConfigInput => ({
      ...base,
      http: { ...base.http, link_ttl_hours: 30 * 24 },
      jobs: { ...base.jobs, retention_days: 2 },
    }),
  };
  let bot: TestBot | undefined;
  try {
    bot = await startTestBot(options);
    const { jobId, links } = await downloadPlaylist(bot);
    const dir = `${dataDir}/downloads/${jobId}`;
    assert(await exists(dir), "files are kept after the job");
    assertEquals((await get(localUrl(bot, links[0]!))).response.status, 200);
    await bot.close();
    bot = undefined;

    clock.skip(DAY);
    bot = await startTestBot(options);
    const before = bot.emulator.botMessages(ALICE.id).at(-1)?.messageId ?? 0;
    const early = await statusOf(bot, jobId, before);
    assertStringIncludes(early.text ?? "", "✅", "a day later the job and files are still there");
    assert(await exists(dir));
    const lastSeen = early.messageId;
    await bot.close();
    bot = undefined;

    clock.skip(DAY + HOUR);
    bot = await startTestBot(options);
    const restarted = bot;
    await restarted.emulator.waitFor(async () => !(await exists(dir)) || undefined, {
      intervalMs: 50,
      message: "the job's directory removed after the retention period",
    });
    const gone = await get(localUrl(restarted, links[0]!));
    assertEquals(gone.response.status, 404);
    const forgotten = await statusOf(restarted, jobId, lastSeen);
    assertStringIncludes(forgotten.text ?? "", `No job with id ${jobId}`);
  } finally {
    await bot?.close();
    await emulator.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
