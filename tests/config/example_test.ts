import { assert, assertEquals } from "../_assert.ts";
import { parse } from "smol-toml";
import { loadConfig } from "../../src/config/load.ts";
import { leafKeyPaths } from "../../src/config/known_keys.ts";
import { configSchema } from "../../src/config/schema.ts";

const EXAMPLE = new URL("../../config/bot.example.toml", import.meta.url).pathname;

/** The example with its optional `# key = value` lines switched on. */
async function exampleWithOptionalKeys(): Promise<string> {
  const text = await Deno.readTextFile(EXAMPLE);
  return text.replace(/^# ([A-Za-z_]+ = )/gm, "$1");
}

/** Tables whose keys are the user's own (a record): leaves as a whole. */
const RECORDS = new Set(["downloader.env", "jobs.user_weights"]);

/** Dotted leaf paths of a parsed document, treating arrays and record tables as leaves. */
function documentLeaves(value: Record<string, unknown>, prefix = ""): string[] {
  return Object.entries(value).flatMap(([key, child]) => {
    const path = prefix === "" ? key : `${prefix}.${key}`;
    const isTable = typeof child === "object" && child !== null && !Array.isArray(child);
    return isTable && !RECORDS.has(path)
      ? documentLeaves(child as Record<string, unknown>, path)
      : [path];
  });
}

Deno.test("config/bot.example.toml loads cleanly and gives exactly the defaults", async () => {
  const result = await loadConfig({ path: EXAMPLE, env: {} });
  assert(result.ok, JSON.stringify(!result.ok && result.problems));
  assertEquals(result.config, configSchema.parse({}));
});

Deno.test("config/bot.example.toml documents every configuration key", async () => {
  const text = await exampleWithOptionalKeys();
  const documented = new Set(documentLeaves(parse(text)));
  const missing = leafKeyPaths().filter((key) => !documented.has(key));
  assertEquals(missing, [], "keys missing from config/bot.example.toml");
});

Deno.test("the optional keys shown in the example are valid when switched on", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dlbot-example-test-" });
  try {
    await Deno.writeTextFile(`${dir}/bot.toml`, await exampleWithOptionalKeys());
    const result = await loadConfig({ path: `${dir}/bot.toml`, env: {} });
    assert(result.ok, JSON.stringify(!result.ok && result.problems));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every key in the example has a comment line above it", async () => {
  const lines = (await Deno.readTextFile(EXAMPLE)).split("\n");
  lines.forEach((line, i) => {
    if (/^[a-z_]+ = /.test(line)) {
      const above = lines.slice(0, i).reverse().find((l) => !/^[a-z_]+ = /.test(l));
      assert(above?.startsWith("#"), `line ${i + 1} (${line}) has no comment`);
    }
  });
});
