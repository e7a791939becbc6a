import { assert, assertEquals, assertMatch, assertStringIncludes } from "../_assert.ts";
import { type ConfigProblem } from "../../src/config/problem.ts";
import { DEFAULT_CONFIG_PATH } from "../../src/config/file.ts";
import { KEY_HINTS } from "../../src/config/hints.ts";
import { loadConfig, type LoadResult } from "../../src/config/load.ts";
import { productionProblems, productionWarnings } from "../../src/config/report.ts";
import { leafKeyPaths } from "../../src/config/known_keys.ts";
import { DEFAULT_API_ROOT } from "../../src/config/schema.ts";
import { withTempDir } from "../_test_utils.ts";

const FIXTURES = new URL("../fixtures/config/", import.meta.url);
const fixture = (name: string) => new URL(name, FIXTURES).pathname;

function problemsOf(result: LoadResult): ConfigProblem[] {
  if (result.ok) throw new Error("expected the configuration to be rejected");
  return result.problems;
}

function configOf(result: LoadResult) {
  if (!result.ok) throw new Error(`unexpected problems: ${JSON.stringify(result.problems)}`);
  return result;
}

Deno.test("a valid file loads with its values, defaults for the rest, and line sources", async () => {
  const file = fixture("good.toml");
  const result = configOf(await loadConfig({ path: file, env: {} }));
  assertEquals(result.file, file);
  assertEquals(result.config.telegram.allowed_user_ids, [111111, 222222]);
  assertEquals(result.config.telegram.api_root, "http://127.0.0.1:8081");
  assertEquals(result.config.http.listen, "0.0.0.0:9090");
  assertEquals(result.config.downloader.output_format, "jsonl");
  assertEquals(result.config.jobs.max_concurrent, 2);
  assertEquals(result.sources.get("telegram.allowed_user_ids"), `${file}:4`);
  assertEquals(result.sources.get("log.level"), `${file}:19`);
  assertEquals(result.sources.get("jobs.max_concurrent"), "default");
  assertEquals([...result.sources.keys()].sort(), leafKeyPaths().sort());
});

Deno.test("environment variables override the file and are named as the source", async () => {
  const file = fixture("good.toml");
  const result = configOf(
    await loadConfig({
      path: file,
      env: {
        TELEGRAM_ALLOWED_USER_IDS: "5, 6 7",
        TELEGRAM_ADMIN_USER_IDS: "5",
        TELEGRAM_API_ROOT: "http://127.0.0.1:9999",
        PUBLIC_BASE_URL: "https://files.example.net",
        DLBOT_HTTP_LISTEN: "127.0.0.1:7070",
        DLBOT_DATA_DIR: "/srv/dlbot",
        DLBOT_KV_PATH: ":memory:",
        DLBOT_LOG_LEVEL: "warning",
        DLBOT_LOG_FORMAT: "json",
        DLBOT_DOWNLOADER_COMMAND: "/opt/fake-spotdl",
        DLBOT_SIGNING_SECRET: "s".repeat(40),
      },
    }),
  );
  const c = result.config;
  assertEquals(c.telegram.allowed_user_ids, [5, 6, 7]);
  assertEquals(c.telegram.admin_user_ids, [5]);
  assertEquals(c.telegram.api_root, "http://127.0.0.1:9999");
  assertEquals(c.http.public_base_url, "https://files.example.net");
  assertEquals(c.http.listen, "127.0.0.1:7070");
  assertEquals(c.http.signing_secret, "s".repeat(40));
  assertEquals(c.storage.data_dir, "/srv/dlbot");
  assertEquals(c.storage.kv_path, ":memory:");
  assertEquals(c.log, { level: "warning", format: "json" });
  assertEquals(c.downloader.command, "/opt/fake-spotdl");
  assertEquals(result.sources.get("telegram.allowed_user_ids"), "env TELEGRAM_ALLOWED_USER_IDS");
  assertEquals(result.sources.get("http.listen"), "env DLBOT_HTTP_LISTEN");
  assert(
    result.notes.some((n) => n.includes("DLBOT_HTTP_LISTEN") && n.includes(`${file}:8`)),
    `expected a note about the overridden file value, got ${JSON.stringify(result.notes)}`,
  );
});

Deno.test("empty environment variables count as unset", async () => {
  const result = configOf(
    await loadConfig({
      path: fixture("good.toml"),
      env: { TELEGRAM_ALLOWED_USER_IDS: "", DLBOT_HTTP_LISTEN: "", TELEGRAM_BOT_TOKEN: "" },
    }),
  );
  assertEquals(result.config.telegram.allowed_user_ids, [111111, 222222]);
  assertEquals(result.config.http.listen, "0.0.0.0:9090");
  assertEquals(result.config.telegram.token, undefined);
});

Deno.test("a file with three mistakes reports all three, each with key path and line", async () => {
  const file = fixture("three_mistakes.toml");
  const problems = problemsOf(await loadConfig({ path: file, env: {} }));
  assertEquals(problems.map((p) => [p.path, p.source]), [
    ["telegram.allowed_user_ids[1]", `${file}:4`],
    ["http.listen", `${file}:8`],
    ["jobs.max_concurrent", `${file}:11`],
  ]);
  assertEquals(problems[0]?.message, 'expected a number, got "abc"');
  assertStringIncludes(problems[0]?.hint ?? "", "/start");
  assertStringIncludes(problems[1]?.message ?? "", "host:port");
  assertStringIncludes(problems[1]?.message ?? "", '"no port here"');
  assertEquals(problems[2]?.message, "must be at least 1, got 0");
});

Deno.test("unknown keys and sections are reported with a did-you-mean suggestion", async () => {
  const file = fixture("typo.toml");
  const problems = problemsOf(await loadConfig({ path: file, env: {} }));
  assertEquals(problems.length, 2);
  const [key, section] = problems;
  assertEquals(key?.path, "telegram.alowed_user_ids");
  assertEquals(key?.source, `${file}:2`);
  assertStringIncludes(key?.message ?? "", 'unknown key "alowed_user_ids"');
  assertEquals(key?.hint, "did you mean `allowed_user_ids`?");
  assertEquals(section?.path, "htp");
  assertEquals(section?.source, `${file}:4`);
  assertEquals(section?.message, "unknown section [htp]");
  assertEquals(section?.hint, "did you mean `http`?");
});

Deno.test("a key in the wrong section is pointed to the section it belongs in", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/bot.toml`;
    await Deno.writeTextFile(file, '[telegram]\nlisten = "127.0.0.1:8080"\n');
    const [problem] = problemsOf(await loadConfig({ path: file, env: {} }));
    assertEquals(problem?.path, "telegram.listen");
    assertEquals(problem?.hint, "`listen` belongs in [http]");
  });
});

Deno.test("a missing webhook secret points at the [telegram.webhook] section", async () => {
  const file = fixture("webhook.toml");
  const problems = problemsOf(await loadConfig({ path: file, env: {} }));
  assertEquals(problems.map((p) => [p.path, p.source]), [
    ["telegram.webhook.secret_token", `${file}:4`],
  ]);
  assertStringIncludes(problems[0]?.message ?? "", "webhook");
});

Deno.test("a bad id in TELEGRAM_ALLOWED_USER_IDS names the entry and the variable", async () => {
  const problems = problemsOf(
    await loadConfig({
      path: fixture("good.toml"),
      env: { TELEGRAM_ALLOWED_USER_IDS: "111111, 12a,333333" },
    }),
  );
  assertEquals(problems.length, 1);
  assertEquals(problems[0]?.path, "telegram.allowed_user_ids[1]");
  assertEquals(problems[0]?.message, '"12a" is not a numeric user id');
  assertEquals(problems[0]?.source, "env TELEGRAM_ALLOWED_USER_IDS");
});

Deno.test("problems from the file and the environment are reported together", async () => {
  const file = fixture("three_mistakes.toml");
  const problems = problemsOf(
    await loadConfig({
      path: file,
      env: { TELEGRAM_ADMIN_USER_IDS: "x", DLBOT_LOG_LEVEL: "loud" },
    }),
  );
  assertEquals(problems.map((p) => p.source), [
    `${file}:4`,
    `${file}:8`,
    `${file}:11`,
    "env TELEGRAM_ADMIN_USER_IDS",
    "env DLBOT_LOG_LEVEL",
  ]);
  assertEquals(
    problems[4]?.message,
    'must be one of "debug", "info", "warning", "error", got "loud"',
  );
});

Deno.test("the token is read from TELEGRAM_BOT_TOKEN_FILE, trimmed", async () => {
  await withTempDir(async (dir) => {
    const token = `123456789:${"F".repeat(35)}`;
    await Deno.writeTextFile(`${dir}/token`, `${token}\n`);
    const result = configOf(
      await loadConfig({
        path: fixture("good.toml"),
        env: { TELEGRAM_BOT_TOKEN_FILE: `${dir}/token` },
      }),
    );
    assertEquals(result.config.telegram.token, token);
    assertEquals(result.sources.get("telegram.token"), "env TELEGRAM_BOT_TOKEN_FILE");
  });
});

Deno.test("the token is read from the systemd credentials directory", async () => {
  await withTempDir(async (dir) => {
    const token = `123456789:${"C".repeat(35)}`;
    await Deno.writeTextFile(`${dir}/telegram_bot_token`, token);
    await Deno.writeTextFile(`${dir}/signing_secret`, "k".repeat(48));
    const result = configOf(
      await loadConfig({ path: fixture("good.toml"), env: { CREDENTIALS_DIRECTORY: dir } }),
    );
    assertEquals(result.config.telegram.token, token);
    assertEquals(result.config.http.signing_secret, "k".repeat(48));
    assertEquals(result.sources.get("telegram.token"), "systemd credential telegram_bot_token");
  });
});

Deno.test("TELEGRAM_BOT_TOKEN wins over the token file and the config file", async () => {
  await withTempDir(async (dir) => {
    const fromEnv = `123456789:${"E".repeat(35)}`;
    await Deno.writeTextFile(`${dir}/token`, `123456789:${"F".repeat(35)}`);
    await Deno.writeTextFile(
      `${dir}/bot.toml`,
      `[telegram]\ntoken = "123456789:${"T".repeat(35)}"\n`,
    );
    const result = configOf(
      await loadConfig({
        path: `${dir}/bot.toml`,
        env: { TELEGRAM_BOT_TOKEN: fromEnv, TELEGRAM_BOT_TOKEN_FILE: `${dir}/token` },
      }),
    );
    assertEquals(result.config.telegram.token, fromEnv);
    assert(result.notes.some((n) => n.includes("both set")));
  });
});

Deno.test("an unreadable token file is a problem sourced to the variable", async () => {
  await withTempDir(async (dir) => {
    const problems = problemsOf(
      await loadConfig({
        path: fixture("good.toml"),
        env: { TELEGRAM_BOT_TOKEN_FILE: `${dir}/missing` },
      }),
    );
    assertEquals(problems.length, 1);
    assertEquals(problems[0]?.path, "telegram.token");
    assertEquals(problems[0]?.source, "env TELEGRAM_BOT_TOKEN_FILE");
    assertStringIncludes(problems[0]?.message ?? "", `${dir}/missing`);
  });
});

Deno.test("a TOML syntax error is reported with its line and column", async () => {
  const file = fixture("syntax_error.toml");
  const problems = problemsOf(await loadConfig({ path: file, env: {} }));
  assertEquals(problems.length, 1);
  assertEquals(problems[0]?.path, "");
  assertEquals(problems[0]?.source, `${file}:5`);
  assertMatch(problems[0]?.message ?? "", /^TOML syntax error at line 5, column \d+/);
  assert(problems[0]?.hint);
});

Deno.test("an explicit config path that does not exist is a problem with a hint", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/nope.toml`;
    const result = await loadConfig({ path: file, env: {} });
    const problems = problemsOf(result);
    assertEquals(result.file, file);
    assertEquals(problems.length, 1);
    assertEquals(problems[0]?.message, `config file not found: ${file}`);
    assertStringIncludes(problems[0]?.hint ?? "", "bot.example.toml");
  });
});

Deno.test("without a config file, built-in defaults are used and a note says so", async () => {
  await withTempDir(async (dir) => {
    const cwd = Deno.cwd();
    Deno.chdir(dir);
    try {
      const result = configOf(await loadConfig({ env: {} }));
      assertEquals(result.file, undefined);
      assertEquals(result.config.telegram.api_root, DEFAULT_API_ROOT);
      assertEquals(result.config.telegram.allowed_user_ids, []);
      assert([...result.sources.values()].every((s) => s === "default"));
      assert(result.notes.some((n) => n.includes(DEFAULT_CONFIG_PATH) && n.includes("defaults")));
      assert(result.notes.some((n) => n.startsWith("no token")));
    } finally {
      Deno.chdir(cwd);
    }
  });
});

Deno.test("config/bot.toml in the working directory is used when no path is given", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/config`);
    await Deno.writeTextFile(`${dir}/config/bot.toml`, "[jobs]\nmax_concurrent = 4\n");
    const cwd = Deno.cwd();
    Deno.chdir(dir);
    try {
      const result = configOf(await loadConfig({ env: {} }));
      assertEquals(result.file, DEFAULT_CONFIG_PATH);
      assertEquals(result.config.jobs.max_concurrent, 4);
      assertEquals(result.sources.get("jobs.max_concurrent"), `${DEFAULT_CONFIG_PATH}:2`);
    } finally {
      Deno.chdir(cwd);
    }
  });
});

Deno.test("productionProblems asks for a token; an empty whitelist is only a warning", async () => {
  const result = configOf(await loadConfig({ path: fixture("good.toml"), env: {} }));
  const problems = productionProblems(result.config, result.sources);
  assertEquals(problems.map((p) => p.path), ["telegram.token"]);
  assertStringIncludes(problems[0]?.hint ?? "", "TELEGRAM_BOT_TOKEN_FILE");
  assertStringIncludes(problems[0]?.hint ?? "", "LoadCredential=telegram_bot_token");

  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/bot.toml`, '[log]\nlevel = "info"\n');
    const bare = configOf(await loadConfig({ path: `${dir}/bot.toml`, env: {} }));
    assertEquals(productionProblems(bare.config).map((p) => p.path), ["telegram.token"]);
    const warnings = productionWarnings(bare.config);
    assertEquals(warnings.length, 2);
    assertStringIncludes(warnings[0] ?? "", "telegram.allowed_user_ids is empty");
    assertStringIncludes(warnings[1] ?? "", "PUBLIC_BASE_URL (http.public_base_url) is not set");
    const ready = configOf(
      await loadConfig({
        path: `${dir}/bot.toml`,
        env: { TELEGRAM_BOT_TOKEN: `1:${"A".repeat(35)}`, TELEGRAM_ALLOWED_USER_IDS: "42" },
      }),
    );
    assertEquals(productionProblems(ready.config), []);
  });
});

Deno.test("every hint belongs to a real configuration key", () => {
  const leaves = new Set(leafKeyPaths());
  for (const key of Object.keys(KEY_HINTS)) assert(leaves.has(key), `stale hint for ${key}`);
});

Deno.test("a token in a config file other users can read gets a warning note", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/bot.toml`;
    await Deno.writeTextFile(file, `[telegram]\ntoken = "123456789:${"T".repeat(35)}"\n`);
    await Deno.chmod(file, 0o644);
    const open = configOf(await loadConfig({ path: file, env: {} }));
    assert(open.notes.some((n) => n.includes("chmod 600")), JSON.stringify(open.notes));
    await Deno.chmod(file, 0o600);
    const closed = configOf(await loadConfig({ path: file, env: {} }));
    assert(!closed.notes.some((n) => n.includes("chmod 600")), JSON.stringify(closed.notes));
  });
});

Deno.test("webhook requirements are reported together with problems elsewhere", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/bot.toml`;
    await Deno.writeTextFile(file, '[telegram]\nmode = "webhook"\n\n[log]\nlevel = "loud"\n');
    const problems = problemsOf(await loadConfig({ path: file, env: {} }));
    assertEquals(problems.map((p) => [p.path, p.source]), [
      ["telegram.webhook.url", `${file}:1`],
      ["telegram.webhook.secret_token", `${file}:1`],
      ["log.level", `${file}:5`],
    ]);
  });
});

Deno.test("a denokv URL needs its access token, which comes from a file like the bot token", async () => {
  await withTempDir(async (dir) => {
    const missing = problemsOf(
      await loadConfig({
        path: fixture("good.toml"),
        env: { DLBOT_KV_PATH: "https://kv.example.net:4512" },
      }),
    );
    const problem = missing.find((p) => p.path === "storage.kv_access_token");
    assertMatch(problem?.message ?? "", /required with a denokv URL/);
    assertStringIncludes(problem?.hint ?? "", "DENO_KV_ACCESS_TOKEN_FILE");

    const file = `${dir}/kv_token`;
    await Deno.writeTextFile(file, "kv-token-from-a-file-0123456789\n");
    const result = configOf(
      await loadConfig({
        path: fixture("good.toml"),
        env: { DLBOT_KV_PATH: "https://kv.example.net:4512", DENO_KV_ACCESS_TOKEN_FILE: file },
      }),
    );
    assertEquals(result.config.storage.kv_access_token, "kv-token-from-a-file-0123456789");
    assertEquals(result.sources.get("storage.kv_access_token"), `env DENO_KV_ACCESS_TOKEN_FILE`);
  });
});
