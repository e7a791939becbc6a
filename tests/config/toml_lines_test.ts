import { assertEquals } from "../_assert.ts";
import { keyLines } from "../../src/config/toml_lines.ts";

Deno.test("keyLines finds keys, dotted sections, dotted keys and array elements", () => {
  const text = [
    "# comment with key = value",
    "[telegram]",
    'token = "1:abc" # trailing comment',
    "allowed_user_ids = [",
    "  1, # first",
    "  2,",
    "]",
    'description = """',
    "not_a_key = 1",
    '"""',
    'webhook.url = "https://x"',
    "",
    "[ telegram . webhook ]",
    "secret_token = 'abc'",
    "[downloader.env]",
    '"QUOTED KEY" = "x"',
    "[[items]]",
    "a = { b = 1 }",
  ].join("\n");
  const lines = keyLines(text);
  assertEquals(lines.get("telegram"), 2);
  assertEquals(lines.get("telegram.token"), 3);
  assertEquals(lines.get("telegram.allowed_user_ids"), 4);
  assertEquals(lines.get("telegram.allowed_user_ids[0]"), 5);
  assertEquals(lines.get("telegram.allowed_user_ids[1]"), 6);
  assertEquals(lines.get("telegram.description"), 8);
  assertEquals(lines.get("telegram.not_a_key"), undefined);
  assertEquals(lines.get("not_a_key"), undefined);
  assertEquals(lines.get("telegram.webhook"), 11);
  assertEquals(lines.get("telegram.webhook.url"), 11);
  assertEquals(lines.get("telegram.webhook.secret_token"), 14);
  assertEquals(lines.get('downloader.env["QUOTED KEY"]'), 16);
  assertEquals(lines.get("items.a"), 18);
});
