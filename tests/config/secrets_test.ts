import { assertEquals } from "../_assert.ts";
import { makeRedactor, redact, redactTokens, secretValues } from "../../src/config/secrets.ts";
import { configSchema } from "../../src/config/schema.ts";

const TOKEN = `123456789:AAE${"z".repeat(32)}`;

Deno.test("secretValues lists the configured secrets that are set", () => {
  const bare = configSchema.parse({});
  assertEquals(secretValues(bare), []);
  const full = configSchema.parse({
    telegram: { token: TOKEN, webhook: { secret_token: "w".repeat(20) } },
    http: { signing_secret: "s".repeat(32) },
  });
  assertEquals(secretValues(full).sort(), [TOKEN, "s".repeat(32), "w".repeat(20)].sort());
});

Deno.test("redact replaces every occurrence of every secret", () => {
  assertEquals(
    redact("a=hunter2222 b=hunter2222 c=other-secret", ["hunter2222", "other-secret", ""]),
    "a=[redacted] b=[redacted] c=[redacted]",
  );
});

Deno.test("redact leaves text alone for a secret too short to search for (it would reveal it)", () => {
  assertEquals(
    redact("expected 32 characters, got 1", ["x", "c"]),
    "expected 32 characters, got 1",
  );
});

Deno.test("redactTokens hides token-shaped text in Bot API URLs", () => {
  assertEquals(
    redactTokens(`request to https://api.telegram.org/bot${TOKEN}/getMe failed at 12:30`),
    "request to https://api.telegram.org/bot[redacted]/getMe failed at 12:30",
  );
});

Deno.test("makeRedactor combines configured secrets and token shapes", () => {
  const clean = makeRedactor(["my-signing-secret"]);
  assertEquals(
    clean(`secret my-signing-secret token ${TOKEN}`),
    "secret [redacted] token [redacted]",
  );
});
