import { assert, assertEquals, assertStringIncludes } from "../_assert.ts";
import { type ConfigProblem } from "../../src/config/problem.ts";
import { loadConfig, type LoadResult } from "../../src/config/load.ts";
import { formatProblems, formatSummary, toJson } from "../../src/config/report.ts";

const TOKEN = "7712345678:AAHk3v9Xw2Lp8QzR7mN4bT6yU1cJ5dF0gE_";
const SECRET = "sigsecret-".repeat(4);
const WEBHOOK_SECRET = "webhook_secret_0123456789";

async function withFile(text: string, fn: (file: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dlbot-report-test-" });
  try {
    await Deno.writeTextFile(`${dir}/bot.toml`, text);
    await fn(`${dir}/bot.toml`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function everyOutput(result: LoadResult): string {
  const json = JSON.stringify(toJson(result));
  if (!result.ok) return `${formatProblems(result.problems, result.file)}\n${json}`;
  return `${formatSummary(result)}\n${json}`;
}

/** Fails when the secret, or any 8 characters of it in a row, appear in `text`. */
function assertNoSecret(text: string, secret: string): void {
  const secretPart = secret.includes(":") ? secret.slice(secret.indexOf(":") + 1) : secret;
  for (let i = 0; i + 8 <= secretPart.length; i++) {
    const piece = secretPart.slice(i, i + 8);
    assert(!text.includes(piece), `part of a secret (${piece}) leaked into output:\n${text}`);
  }
}

Deno.test("formatProblems prints one block per problem and a count", () => {
  const problems: ConfigProblem[] = [
    {
      path: "telegram.allowed_user_ids[1]",
      message: 'expected a number, got "abc"',
      source: "config/bot.toml:7",
      hint: "numeric Telegram user ids",
    },
    { path: "log.level", message: "must be one of …", source: "env DLBOT_LOG_LEVEL" },
  ];
  assertEquals(
    formatProblems(problems, "config/bot.toml"),
    [
      "✗ telegram.allowed_user_ids[1]  (config/bot.toml:7)",
      '    expected a number, got "abc"',
      "    hint: numeric Telegram user ids",
      "",
      "✗ log.level  (env DLBOT_LOG_LEVEL)",
      "    must be one of …",
      "",
      "2 configuration problems (config/bot.toml and environment)",
      "",
    ].join("\n"),
  );
});

Deno.test("a valid token never appears in the summary or the JSON output", async () => {
  await withFile(
    `[telegram]\ntoken = "${TOKEN}"\nallowed_user_ids = [1]\nmode = "webhook"\n` +
      `[telegram.webhook]\nurl = "https://bot.example.org/hook"\nsecret_token = "${WEBHOOK_SECRET}"\n` +
      `[http]\nsigning_secret = "${SECRET}"\n`,
    async (file) => {
      const result = await loadConfig({ path: file, env: {} });
      assert(result.ok);
      assertEquals(result.config.telegram.token, TOKEN);
      const output = everyOutput(result);
      assertNoSecret(output, TOKEN);
      assertNoSecret(output, SECRET);
      assertNoSecret(output, WEBHOOK_SECRET);
      assertStringIncludes(formatSummary(result), `set (${file}:2)`);
    },
  );
});

Deno.test("an invalid token is described by its length only", async () => {
  const bad = `${TOKEN}$`;
  await withFile(`[telegram]\ntoken = "${bad}"\n`, async (file) => {
    const result = await loadConfig({ path: file, env: {} });
    assert(!result.ok);
    const output = everyOutput(result);
    assertNoSecret(output, TOKEN);
    assertStringIncludes(output, `(redacted, ${bad.length} characters)`);
  });
});

Deno.test("a token in a TOML syntax error line is not echoed", async () => {
  await withFile(`[telegram]\ntoken = "${TOKEN}\n`, async (file) => {
    const result = await loadConfig({ path: file, env: {} });
    assert(!result.ok);
    assertNoSecret(everyOutput(result), TOKEN);
  });
});

Deno.test("a token pasted into another setting is redacted, also when shortened", async () => {
  const result = await loadConfig({
    env: {
      TELEGRAM_API_ROOT: `api.telegram.org/bot${TOKEN}/`,
      PUBLIC_BASE_URL: `ftp://example.org/${"x".repeat(30)}/${TOKEN}`,
      TELEGRAM_ADMIN_USER_IDS: `1 ${TOKEN}`,
    },
    path: "/dev/null",
  });
  assert(!result.ok);
  assertEquals(result.problems.map((p) => p.path), [
    "telegram.admin_user_ids[1]",
    "telegram.api_root",
    "http.public_base_url",
  ]);
  assertNoSecret(everyOutput(result), TOKEN);
});

Deno.test("the summary lists the key facts of the configuration", async () => {
  const result = await loadConfig({
    path: "/dev/null",
    env: {
      TELEGRAM_ALLOWED_USER_IDS: "11,22,33",
      TELEGRAM_ADMIN_USER_IDS: "11",
      PUBLIC_BASE_URL: "https://dl.example.org",
      DLBOT_DOWNLOADER_COMMAND: "/opt/spotdl",
    },
  });
  assert(result.ok);
  const summary = formatSummary(result);
  for (
    const fact of [
      "/dev/null",
      "https://api.telegram.org",
      "3 (11, 22, 33)",
      "1 (11)",
      "127.0.0.1:8080",
      "https://dl.example.org",
      "./data",
      "/opt/spotdl (output spotdl",
      "commands 20 burst + 30/min",
      "info",
      "no token: `run` will start the sandbox chat",
    ]
  ) assertStringIncludes(summary, fact);
});

Deno.test("toJson gives the redacted config and sources, or the problems", async () => {
  const ok = await loadConfig({ path: "/dev/null", env: { TELEGRAM_BOT_TOKEN: TOKEN } });
  assert(ok.ok);
  const json = toJson(ok) as {
    ok: boolean;
    config: { telegram: { token: string } };
    sources: Record<string, string>;
  };
  assertEquals(json.ok, true);
  assertEquals(json.config.telegram.token, "[redacted]");
  assertEquals(json.sources["telegram.token"], "env TELEGRAM_BOT_TOKEN");

  const bad = await loadConfig({ path: "/dev/null", env: { DLBOT_LOG_FORMAT: "xml" } });
  assert(!bad.ok);
  const problems = toJson(bad) as { ok: boolean; problems: ConfigProblem[] };
  assertEquals(problems.ok, false);
  assertEquals(problems.problems.map((p) => [p.path, p.source]), [
    ["log.format", "env DLBOT_LOG_FORMAT"],
  ]);
});
