import { assert, assertEquals, assertMatch, assertStringIncludes } from "../_assert.ts";
import { type Family, parsePrometheusText, sampleValue } from "../metrics/_prom_text.ts";
import { ALICE, MALLORY, PLAYLIST, startTestBot, type TestBot } from "./_harness.ts";

/** Scrapes the running app's /metrics and parses it strictly. */
async function scrape(bot: TestBot): Promise<Map<string, Family>> {
  const response = await fetch(`${bot.httpBase}/metrics`);
  const body = await response.text();
  assertEquals(response.status, 200, body);
  assertMatch(response.headers.get("content-type") ?? "", /^text\/plain/);
  return parsePrometheusText(body);
}

/** A sample's value, 0 when the labelled series does not exist yet. */
function value(families: Map<string, Family>, name: string, labels: Record<string, string>) {
  return sampleValue(families, name, labels) ?? 0;
}

/** Scrapes until `ready(families)` holds (counters move just after the reply is sent). */
function scrapeUntil(
  bot: TestBot,
  ready: (families: Map<string, Family>) => boolean,
  message: string,
): Promise<Map<string, Family>> {
  return bot.emulator.waitFor(async () => {
    const families = await scrape(bot);
    return ready(families) && families;
  }, { intervalMs: 50, timeoutMs: 15_000, message });
}

interface Readyz {
  status: string;
  checks: Record<string, { ok: boolean; message?: string }>;
}

async function readyz(bot: TestBot): Promise<{ status: number; body: Readyz }> {
  const response = await fetch(`${bot.httpBase}/readyz`);
  return { status: response.status, body: await response.json() as Readyz };
}

const START_OK = { command: "start", outcome: "ok" };
const UNAUTHORIZED = { reason: "unauthorized" };

Deno.test("/metrics is valid exposition text whose command and rejection counters move with chat traffic", async () => {
  const bot = await startTestBot();
  try {
    const before = await scrape(bot);
    const startsBefore = value(before, "dlbot_commands_total", START_OK);
    const refusalsBefore = value(before, "dlbot_rejected_total", UNAUTHORIZED);

    bot.emulator.sendText(ALICE, "/start");
    await bot.emulator.waitForBotMessage(ALICE.id, /Hi Alice!/);
    bot.emulator.sendText(MALLORY, "/start");
    await bot.emulator.waitForBotMessage(MALLORY.id, /private/);

    const after = await scrapeUntil(
      bot,
      (f) =>
        value(f, "dlbot_commands_total", START_OK) > startsBefore &&
        value(f, "dlbot_rejected_total", UNAUTHORIZED) > refusalsBefore,
      "the /start and refusal counters to move",
    );
    assertEquals(value(after, "dlbot_commands_total", START_OK), startsBefore + 1);
    assertEquals(value(after, "dlbot_rejected_total", UNAUTHORIZED), refusalsBefore + 1);
    assertEquals(
      value(after, "dlbot_commands_total", { command: "start", outcome: "error" }),
      0,
      "the outsider's /start is not counted as a handled command",
    );
    assert(
      value(after, "dlbot_updates_received_total", {}) >= 2,
      "both updates were counted as received",
    );
    assertEquals(
      value(after, "dlbot_command_duration_seconds_count", { command: "start" }),
      startsBefore + 1,
    );
  } finally {
    await bot.close();
  }
});

Deno.test("a finished download is counted once as succeeded with one job duration observation", async () => {
  const bot = await startTestBot({ downloaderEnv: { FAKE_SPOTDL_TRACKS: "2" } });
  try {
    const before = await scrape(bot);
    assertEquals(value(before, "dlbot_jobs_finished_total", { state: "succeeded" }), 0);
    assertEquals(value(before, "dlbot_job_duration_seconds_count", { state: "succeeded" }), 0);

    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    await bot.emulator.waitForBotMessage(ALICE.id, /✅/, { timeoutMs: 20_000 });

    const after = await scrapeUntil(
      bot,
      (f) =>
        value(f, "dlbot_jobs_finished_total", { state: "succeeded" }) > 0 &&
        value(f, "dlbot_running_jobs", {}) === 0,
      "the finished job to be counted and the running gauge to return to 0",
    );
    assertEquals(value(after, "dlbot_jobs_finished_total", { state: "succeeded" }), 1);
    assertEquals(value(after, "dlbot_job_duration_seconds_count", { state: "succeeded" }), 1);
    assertEquals(value(after, "dlbot_jobs_finished_total", { state: "failed" }), 0);
    assertEquals(value(after, "dlbot_commands_total", { command: "download", outcome: "ok" }), 1);
  } finally {
    await bot.close();
  }
});

Deno.test("/readyz is 200 with every check ok once the bot is polling", async () => {
  const bot = await startTestBot();
  try {
    bot.emulator.sendText(ALICE, "/help");
    await bot.emulator.waitForBotMessage(ALICE.id, /downloads music/);
    const { status, body } = await readyz(bot);
    assertEquals(status, 200, JSON.stringify(body));
    assertEquals(body.status, "ready");
    assertEquals(body.checks.telegram?.ok, true);
    assertEquals(body.checks.kv?.ok, true);
    assertEquals(body.checks.downloader?.ok, true);
  } finally {
    await bot.close();
  }
});

Deno.test("/readyz is 503 and names the downloader when its command does not exist", async () => {
  const bot = await startTestBot({
    config: (base) => ({ ...base, downloader: { ...base.downloader, command: "/nonexistent/dl" } }),
  });
  try {
    const { status, body } = await readyz(bot);
    assertEquals(status, 503, JSON.stringify(body));
    assertEquals(body.status, "not_ready");
    assertEquals(body.checks.downloader?.ok, false);
    assertStringIncludes(body.checks.downloader?.message ?? "", "/nonexistent/dl");
    assertEquals(body.checks.telegram?.ok, true, "only the downloader is at fault");
    assertEquals(body.checks.kv?.ok, true);
  } finally {
    await bot.close();
  }
});
