import { assert, assertEquals } from "../_assert.ts";
import { knownKeysAt, leafKeyPaths, suggestKey } from "../../src/config/known_keys.ts";
import { ENV_VARS } from "../../src/config/env.ts";

Deno.test("known keys come from the schema, including nested tables", () => {
  assertEquals(knownKeysAt(["telegram", "webhook"]), ["url", "secret_token"]);
  assert(knownKeysAt([])?.includes("rate_limit"));
  assertEquals(knownKeysAt(["telegram", "token"]), undefined);
  assert(leafKeyPaths().includes("telegram.webhook.secret_token"));
  assert(leafKeyPaths().includes("downloader.env"));
});

Deno.test("suggestKey catches typos, other spellings and prefixes, not unrelated words", () => {
  const keys = knownKeysAt(["telegram"]) ?? [];
  assertEquals(suggestKey("alowed_user_ids", keys), "allowed_user_ids");
  assertEquals(suggestKey("allowedUserIds", keys), "allowed_user_ids");
  assertEquals(suggestKey("allowed_users", keys), "allowed_user_ids");
  assertEquals(suggestKey("admin_user_id", keys), "admin_user_ids");
  assertEquals(suggestKey("tokn", keys), "token");
  assertEquals(suggestKey("color", keys), undefined);
});

Deno.test("every documented environment variable maps to a real key", () => {
  const leaves = new Set(leafKeyPaths());
  for (const v of ENV_VARS) {
    if (v.key !== undefined) assert(leaves.has(v.key), `${v.name} → unknown key ${v.key}`);
  }
});
