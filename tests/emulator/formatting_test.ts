import { assertEquals, assertThrows } from "../_assert.ts";
import {
  detectEntities,
  EntityParseError,
  parseHtml,
  parseMarkdownLegacy,
  parseMarkdownV2,
} from "../../src/emulator/formatting.ts";

Deno.test("parseHtml strips tags, decodes entities and counts offsets in UTF-16 units", () => {
  assertEquals(parseHtml("🎵 <b>Song &lt;1&gt;</b> <i>by <u>A</u></i>"), {
    text: "🎵 Song <1> by A",
    entities: [
      { type: "bold", offset: 3, length: 8 },
      { type: "italic", offset: 12, length: 4 },
      { type: "underline", offset: 15, length: 1 },
    ],
  });
});

Deno.test("parseHtml turns <pre><code class> into a pre entity with a language", () => {
  assertEquals(parseHtml('<pre><code class="language-sh">ls -l</code></pre>'), {
    text: "ls -l",
    entities: [{ type: "pre", offset: 0, length: 5, language: "sh" }],
  });
  assertEquals(parseHtml('<span class="tg-spoiler">x</span>').entities, [
    { type: "spoiler", offset: 0, length: 1 },
  ]);
});

Deno.test("parseHtml refuses unclosed, mismatched, unexpected and unsupported tags", () => {
  assertThrows(() => parseHtml("<b>x"), EntityParseError, 'start tag "b"');
  assertThrows(() => parseHtml("<b>x</i>"), EntityParseError, 'expected "</b>", found "</i>"');
  assertThrows(() => parseHtml("x</b>"), EntityParseError, "Unexpected end tag at byte offset 1");
  assertThrows(() => parseHtml("a <br> b"), EntityParseError, 'Unsupported start tag "br"');
  assertThrows(() => parseHtml("1 < 2"), EntityParseError, "Unclosed start tag");
});

Deno.test("parseMarkdownV2 applies escapes and entities", () => {
  assertEquals(parseMarkdownV2("*Done* 1\\.5 MB _x_ __u__ [link](https://e\\.x/a\\)b)"), {
    text: "Done 1.5 MB x u link",
    entities: [
      { type: "bold", offset: 0, length: 4 },
      { type: "italic", offset: 12, length: 1 },
      { type: "underline", offset: 14, length: 1 },
      { type: "text_link", offset: 16, length: 4, url: "https://e.x/a)b" },
    ],
  });
  assertEquals(parseMarkdownV2("`a.b*c`"), {
    text: "a.b*c",
    entities: [{ type: "code", offset: 0, length: 5 }],
  });
});

Deno.test("parseMarkdownV2 refuses unescaped reserved characters and unclosed entities", () => {
  assertThrows(
    () => parseMarkdownV2("Done!"),
    EntityParseError,
    "Character '!' is reserved and must be escaped with the preceding '\\'",
  );
  assertThrows(() => parseMarkdownV2("*bold"), EntityParseError, "Can't find end of Bold entity");
});

Deno.test("parseMarkdownLegacy handles bold, code and links without escaping rules", () => {
  assertEquals(parseMarkdownLegacy("*a* 1.5! `c` [t](http://x)"), {
    text: "a 1.5! c t",
    entities: [
      { type: "bold", offset: 0, length: 1 },
      { type: "code", offset: 7, length: 1 },
      { type: "text_link", offset: 9, length: 1, url: "http://x" },
    ],
  });
});

Deno.test("detectEntities finds bot commands and links like a Telegram client", () => {
  const text = "/download@dlbot https://open.spotify.com/track/abc, or open.spotify.com/album/x.";
  assertEquals(detectEntities(text), [
    { type: "bot_command", offset: 0, length: 15 },
    { type: "url", offset: 16, length: 34 },
    { type: "url", offset: 55, length: 24 },
  ]);
  assertEquals(detectEntities("a/b not/command"), []);
});
