import { assertEquals, assertStringIncludes } from "../_assert.ts";
import { LinkReader } from "../../src/links/reader.ts";
import { withShortLinkServer } from "../_test_utils.ts";

import { SHORT_LINK_TRACK_ID as ID } from "../_test_utils.ts";
const ALBUM = "4aawyAB9vmqN3uQ7FjRGTy";

function reader(shortLinkBase = "http://127.0.0.1:9", maxPerMessage = 5): LinkReader {
  return new LinkReader({ shortLinkBase, maxPerMessage, timeoutMs: 2_000 });
}

Deno.test("the first Spotify link inside any text is used", async () => {
  const read = await reader().read(
    `Listen to this on Spotify: https://open.spotify.com/track/${ID}?si=1a2b.`,
  );
  assertEquals(read.links.map((l) => l.url), [`https://open.spotify.com/track/${ID}`]);
  assertEquals(read.refused, []);
});

Deno.test("several links in one message are all read, in order, without repeats", async () => {
  const read = await reader().read(
    `https://open.spotify.com/album/${ALBUM} and spotify:track:${ID}, ` +
      `again https://open.spotify.com/album/${ALBUM}`,
  );
  assertEquals(read.links.map((l) => l.url), [
    `https://open.spotify.com/album/${ALBUM}`,
    `https://open.spotify.com/track/${ID}`,
  ]);
});

Deno.test("links beyond the per-message limit are counted, not taken", async () => {
  const text = Array.from({ length: 4 }, () => `https://open.spotify.com/track/${ID}`).join(" ");
  const read = await reader(undefined, 2).read(text);
  assertEquals([read.links.length, read.ignored, read.limit], [1, 2, 2]);
});

Deno.test("a malformed Spotify link among good ones is refused on its own", async () => {
  const read = await reader().read(
    `https://open.spotify.com/track/short https://open.spotify.com/track/${ID}`,
  );
  assertEquals(read.links.length, 1);
  assertEquals(read.refused.length, 1);
  assertStringIncludes(read.refused[0]?.userMessage ?? "", "malformed id");
});

Deno.test("a Spotify path inside another site's link is not taken", async () => {
  const read = await reader().read(`https://evil.example/open.spotify.com/track/${ID}`);
  assertEquals(read.links, []);
  assertEquals(
    LinkReader.mentionsSpotify(`https://evil.example/open.spotify.com/track/${ID}`),
    false,
  );
});

Deno.test("a spotify.link short link is resolved by its redirect to open.spotify.com", async () => {
  await withShortLinkServer(async (base) => {
    const read = await reader(base).read("https://spotify.link/good");
    assertEquals(read.links.map((l) => l.url), [`https://open.spotify.com/track/${ID}`]);
  });
});

Deno.test("a short link that leads elsewhere, nowhere, or cannot be opened is refused", async () => {
  await withShortLinkServer(async (base) => {
    const cases: [string, string][] = [
      ["spotify.link/evil", "does not lead to a Spotify page"],
      ["spotify.link/lookalike", "does not lead to a Spotify page"],
      ["spotify.link/missing", "does not lead anywhere"],
    ];
    for (const [text, reason] of cases) {
      const read = await reader(base).read(text);
      assertEquals(read.links, [], text);
      assertStringIncludes(read.refused[0]?.userMessage ?? "", reason);
    }
  });
  const unreachable = await reader("http://127.0.0.1:9").read("https://spotify.link/abc");
  assertStringIncludes(unreachable.refused[0]?.userMessage ?? "", "could not be opened");
});
