import { assertEquals, assertStringIncludes } from "../_assert.ts";
import { appLogger, setupLogging, shutdownLogging } from "../../src/log/logger.ts";

const TOKEN = "123456789:AAHfakeTokenForTestsOnly_abcdefghijkl";

Deno.test("JSON logs carry the stable field set and never the token", async () => {
  const lines: string[] = [];
  const root = await setupLogging({
    level: "info",
    format: "json",
    secrets: [TOKEN, "signing-secret-value-0123456789abcdef"],
    write: (line) => lines.push(line),
  });
  try {
    root.with({ update_id: 7, user_id: 42, chat_id: 42, command: "download" }).info(
      "update handled",
      { duration_ms: 12 },
    );
    appLogger("jobs").warn("failed", {
      job_id: "abc123",
      url: `https://api.telegram.org/bot${TOKEN}/getMe`,
    });
    appLogger("http").error("secret leaked? signing-secret-value-0123456789abcdef");
    appLogger("jobs").debug("below the level");
  } finally {
    await shutdownLogging();
  }
  assertEquals(lines.length, 3);
  const first = JSON.parse(lines[0]!);
  assertEquals(Object.keys(first).slice(0, 4), ["ts", "level", "msg", "logger"]);
  assertEquals(first.msg, "update handled");
  assertEquals(first.level, "info");
  assertEquals([first.update_id, first.user_id, first.chat_id, first.command, first.duration_ms], [
    7,
    42,
    42,
    "download",
    12,
  ]);
  const second = JSON.parse(lines[1]!);
  assertEquals(second.level, "warn");
  assertEquals(second.job_id, "abc123");
  for (const line of lines) {
    assertEquals(line.includes(TOKEN), false, line);
    assertEquals(line.includes("AAHfakeToken"), false, line);
    assertEquals(line.includes("signing-secret-value"), false, line);
  }
  assertStringIncludes(lines[1]!, "[redacted]");
});

Deno.test("text logs are one readable line per record", async () => {
  const lines: string[] = [];
  await setupLogging({ level: "debug", format: "text", secrets: [], write: (l) => lines.push(l) });
  try {
    appLogger("bot").with({ user_id: 5 }).debug("hello");
  } finally {
    await shutdownLogging();
  }
  assertEquals(lines.length, 1);
  assertStringIncludes(lines[0]!, "DEBUG hello");
  assertStringIncludes(lines[0]!, "user_id=5");
});

Deno.test("log lines scrub token-shaped strings even when no secret is configured", async () => {
  const lines: string[] = [];
  await setupLogging({ level: "info", format: "json", secrets: [], write: (l) => lines.push(l) });
  try {
    appLogger("telegram").warn(`GET /bot${TOKEN}/getUpdates failed`);
  } finally {
    await shutdownLogging();
  }
  assertEquals(JSON.parse(lines[0]!).msg, "GET /bot[redacted]/getUpdates failed");
});

Deno.test("under journald every line starts with its syslog priority", async () => {
  const lines: string[] = [];
  const root = await setupLogging({
    level: "debug",
    format: "json",
    secrets: [],
    write: (line) => lines.push(line),
    journald: true,
  });
  try {
    root.debug("d");
    root.info("i");
    root.warn("w");
    root.error("e");
  } finally {
    await shutdownLogging();
  }
  assertEquals(lines.map((l) => l.slice(0, 3)), ["<7>", "<6>", "<4>", "<3>"]);
  assertEquals(JSON.parse(lines[2]!.slice(3)).msg, "w", "the rest of the line is the JSON record");
});
