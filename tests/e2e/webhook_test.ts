import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { configSchema } from "../../src/config/schema.ts";
import { parsePrometheusText, sampleValue } from "../metrics/_prom_text.ts";
import { ALICE, startTestBot, type TestBot } from "./_harness.ts";

const SECRET = "webhook_secret_for_e2e_0123456789";
const WEBHOOK_PATH = "/telegram/webhook";

/** A free loopback port: the webhook URL must name it before the app binds it. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Starts the app in webhook mode, its webhook on its own HTTP server. */
function startWebhookBot(options: { now?: () => number; probeMs?: number } = {}): Promise<TestBot> {
  const port = freePort();
  return startTestBot({
    now: options.now,
    webhookProbeMs: options.probeMs,
    config: (base) => ({
      ...base,
      telegram: {
        ...base.telegram,
        mode: "webhook",
        webhook: { url: `http://127.0.0.1:${port}${WEBHOOK_PATH}`, secret_token: SECRET },
      },
      http: { ...base.http, listen: `127.0.0.1:${port}` },
    }),
  });
}

/** An update as Telegram would post it: `text` from Alice in her private chat. */
function forgedUpdate(updateId: number, text: string): string {
  const user = { id: ALICE.id, is_bot: false, first_name: ALICE.first_name };
  return JSON.stringify({
    update_id: updateId,
    message: {
      message_id: 10_000 + updateId,
      date: Math.floor(Date.now() / 1000),
      chat: { id: ALICE.id, type: "private", first_name: ALICE.first_name },
      from: user,
      text,
      entities: [{ type: "bot_command", offset: 0, length: text.split(" ")[0]!.length }],
    },
  });
}

async function post(bot: TestBot, body: string, secret?: string): Promise<number> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (secret !== undefined) headers["x-telegram-bot-api-secret-token"] = secret;
  const response = await fetch(`${bot.httpBase}${WEBHOOK_PATH}`, {
    method: "POST",
    headers,
    body,
  });
  await response.body?.cancel();
  return response.status;
}

async function updatesReceived(bot: TestBot): Promise<number> {
  const response = await fetch(`${bot.httpBase}/metrics`);
  const families = parsePrometheusText(await response.text());
  return sampleValue(families, "dlbot_updates_received_total") ?? 0;
}

Deno.test("in webhook mode /start is answered through the webhook, with no polling", async () => {
  const bot = await startWebhookBot();
  try {
    const registered = bot.emulator.callsTo("setWebhook");
    assertEquals(registered.length, 1);
    assertEquals(registered[0]!.params.url, bot.config.telegram.webhook.url);
    assertEquals(registered[0]!.params.secret_token, SECRET);

    bot.emulator.sendText(ALICE, "/start");
    const reply = await bot.emulator.waitForBotMessage(ALICE.id, /Hi Alice!/);
    assertMatch(reply.text ?? "", /Send me a Spotify link/);
    // Confirmed by the 200 that follows the handler, so Telegram would not deliver it again.
    await bot.emulator.waitFor(() => bot.emulator.pendingUpdateCount === 0, {
      message: "the webhook to confirm the update",
      intervalMs: 20,
    });
    assertEquals(bot.emulator.callsTo("getUpdates").length, 0, "no long polling in webhook mode");
    assertEquals(await updatesReceived(bot), 1);
  } finally {
    await bot.close();
  }
});

Deno.test("a webhook POST with a wrong or missing secret gets 401 and is not processed", async () => {
  const bot = await startWebhookBot();
  try {
    assertEquals(
      await post(bot, forgedUpdate(900_001, "/status"), "not-the-secret-0123456789"),
      401,
    );
    assertEquals(await post(bot, forgedUpdate(900_002, "/status")), 401);

    // The genuine path still works, and only its update reached the bot.
    bot.emulator.sendText(ALICE, "/help");
    await bot.emulator.waitForBotMessage(ALICE.id, /downloads music/);
    assertEquals(bot.emulator.botMessages(ALICE.id).length, 1, "the forged /status got no answer");
    assertEquals(await updatesReceived(bot), 1);

    // The same forged update with the right secret is processed: the 401s above were the secret.
    assertEquals(await post(bot, forgedUpdate(900_003, "/status"), SECRET), 200);
    await bot.emulator.waitForBotMessage(ALICE.id, /no jobs yet/);
    assertEquals(await updatesReceived(bot), 2);
  } finally {
    await bot.close();
  }
});

Deno.test("a plain-http webhook URL is accepted only for a loopback host", () => {
  const parse = (url: string) =>
    configSchema.safeParse({
      telegram: { mode: "webhook", webhook: { url, secret_token: SECRET } },
    });
  for (
    const url of [
      "https://bot.example.org/hook",
      "http://127.0.0.1:8080/hook",
      "http://localhost/hook",
      "http://[::1]:8080/hook",
    ]
  ) {
    assert(parse(url).success, `${url} is accepted`);
  }
  for (const url of ["http://bot.example.org/hook", "http://127.0.0.1.example.org/hook"]) {
    const result = parse(url);
    assert(!result.success, `${url} is refused`);
    const issue = result.error.issues.find((i) => i.path.join(".") === "telegram.webhook.url");
    assertMatch(issue?.message ?? "", /https/);
  }
});

Deno.test("in webhook mode a quiet bot stays ready: it asks Telegram about its webhook", async () => {
  let offset = 0;
  const bot = await startWebhookBot({ now: () => Date.now() + offset, probeMs: 50 });
  try {
    const ready = async () => {
      const response = await fetch(`${bot.httpBase}/readyz`);
      await response.body?.cancel();
      return response.status;
    };
    assertEquals(await ready(), 200);
    offset += 10 * 60_000; // ten minutes without a single update
    const status = await bot.emulator.waitFor(async () => (await ready()) === 200 || undefined, {
      intervalMs: 50,
      message: "readiness back after the next probe",
    });
    assertEquals(status, true);
    assertEquals(bot.emulator.callsTo("getWebhookInfo").length > 0, true);
  } finally {
    await bot.close();
  }
});
