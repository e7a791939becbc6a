import { assertEquals } from "../_assert.ts";
import type { DownloaderEvent } from "../../src/downloader/events.ts";
import { JsonLinesParser } from "../../src/downloader/jsonl_parser.ts";

Deno.test("JsonLinesParser turns every protocol event into a downloader event", async (t) => {
  const cases: [string, DownloaderEvent[]][] = [
    ['{"event":"total","total":12,"title":"My Playlist","kind":"Playlist"}', [
      { type: "total", total: 12, title: "My Playlist", listKind: "Playlist" },
    ]],
    ['{"event":"total","total":0}', [{ type: "total", total: 0 }]],
    ['{"event":"track","name":"Artist - Title","status":"embedding"}', [
      { type: "track", name: "Artist - Title", status: "embedding" },
    ]],
    ['{"event":"progress","percent":42.5}', [{ type: "percent", percent: 42.5 }]],
    ['{"event":"complete","completed":3,"total":12}', [
      { type: "complete", completed: 3, total: 12 },
    ]],
    ['{"event":"downloaded","name":"A - B","url":"https://x/1"}', [
      { type: "downloaded", name: "A - B", sourceUrl: "https://x/1" },
    ]],
    ['{"event":"downloaded","name":"A - B"}', [{ type: "downloaded", name: "A - B" }]],
    ['{"event":"skipped","name":"A - B","reason":"exists"}', [
      { type: "skipped", name: "A - B", reason: "exists" },
    ]],
    ['{"event":"error","class":"RateLimit","message":"slow down","retry_after":123}', [
      { type: "rate_limit", retryAfterSeconds: 123 },
    ]],
    ['{"event":"error","message":"boom","track":"A - B"}', [
      { type: "error", errorClass: "Error", message: "boom", track: "A - B" },
    ]],
    ['  {"event":"progress","percent":100,"eta":"extra fields are ignored"}  ', [
      { type: "percent", percent: 100 },
    ]],
  ];
  for (const [line, expected] of cases) {
    await t.step(line.trim(), () => assertEquals(new JsonLinesParser().parseLine(line), expected));
  }
});

Deno.test("JsonLinesParser reports invalid JSON, unknown events and bad fields as unknown", async (t) => {
  const lines = [
    "not json at all",
    "{truncated",
    '{"event":"explode"}',
    '{"total":3}',
    '{"event":"track","name":"A","status":"dancing"}',
    '{"event":"progress","percent":140}',
    '{"event":"total","total":-1}',
    '{"event":"total","total":1.5}',
    '"just a string"',
    "[1,2,3]",
  ];
  for (const line of lines) {
    await t.step(line, () => {
      assertEquals(new JsonLinesParser().parseLine(line), [{ type: "unknown", line }]);
    });
  }
});

Deno.test("JsonLinesParser ignores blank lines", () => {
  const parser = new JsonLinesParser();
  assertEquals(parser.parseLine(""), []);
  assertEquals(parser.parseLine("   \t"), []);
});
