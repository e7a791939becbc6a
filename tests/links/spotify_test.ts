import { assertEquals, assertThrows } from "../_assert.ts";
import { parseSpotifyLink } from "../../src/links/spotify.ts";
import { InvalidLinkError } from "../../src/errors.ts";

const ID = "4aawyAB9vmqN3uQ7FjRGTy";

const accepted: [string, string][] = [
  [`https://open.spotify.com/album/${ID}`, `https://open.spotify.com/album/${ID}`],
  [
    `https://open.spotify.com/track/${ID}?si=abc123&utm_source=copy`,
    `https://open.spotify.com/track/${ID}`,
  ],
  [`https://open.spotify.com/intl-de/playlist/${ID}`, `https://open.spotify.com/playlist/${ID}`],
  [
    `https://open.spotify.com/intl-pt-br/artist/${ID}?si=x`,
    `https://open.spotify.com/artist/${ID}`,
  ],
  [`http://open.spotify.com/album/${ID}/`, `https://open.spotify.com/album/${ID}`],
  [`open.spotify.com/track/${ID}`, `https://open.spotify.com/track/${ID}`],
  [`  https://open.spotify.com/track/${ID}#frag  `, `https://open.spotify.com/track/${ID}`],
  [`https://play.spotify.com/album/${ID}`, `https://open.spotify.com/album/${ID}`],
  [`https://open.spotify.com/embed/playlist/${ID}`, `https://open.spotify.com/playlist/${ID}`],
  [`spotify:track:${ID}`, `https://open.spotify.com/track/${ID}`],
  [`spotify:Playlist:${ID}`, `https://open.spotify.com/playlist/${ID}`],
  [`HTTPS://OPEN.SPOTIFY.COM/album/${ID}`, `https://open.spotify.com/album/${ID}`],
];

for (const [input, canonical] of accepted) {
  Deno.test(`parseSpotifyLink() normalises ${input.trim()}`, () => {
    assertEquals(parseSpotifyLink(input).url, canonical);
  });
}

Deno.test("parseSpotifyLink() reports kind and id", () => {
  assertEquals(parseSpotifyLink(`spotify:album:${ID}`), {
    kind: "album",
    id: ID,
    url: `https://open.spotify.com/album/${ID}`,
  });
});

const rejected: [string, string][] = [
  ["", "no link"],
  ["hello", "not a link"],
  [`https://youtube.com/watch?v=${ID}`, "Only Spotify links"],
  [`https://open.spotify.com.evil.example/track/${ID}`, "Only Spotify links"],
  [`https://evil.example/open.spotify.com/track/${ID}`, "Only Spotify links"],
  [`https://open.spotify.com/show/${ID}`, "not a track, album, playlist or artist"],
  [`https://open.spotify.com/episode/${ID}`, "not a track, album, playlist or artist"],
  ["https://open.spotify.com/track/short", "malformed id"],
  [`https://open.spotify.com/track/${ID};rm%20-rf`, "malformed id"],
  [`https://open.spotify.com/track/${ID}$(id)`, "malformed id"],
  [
    `https://open.spotify.com/track/${ID} https://open.spotify.com/album/${ID}`,
    "one link at a time",
  ],
  [`https://user:pw@open.spotify.com/track/${ID}`, "malformed"],
  [`https://open.spotify.com:8443/track/${ID}`, "malformed"],
  [`ftp://open.spotify.com/track/${ID}`, "not a web link"],
  [`spotify:track:${ID}:extra`, "not a track, album, playlist or artist"],
  ["spotify:track:$(reboot)", "malformed id"],
  [`https://open.spotify.com/track/${"a".repeat(3000)}`, "far too long"],
];

for (const [input, reason] of rejected) {
  Deno.test(`parseSpotifyLink() rejects ${JSON.stringify(input.slice(0, 60))}`, () => {
    const error = assertThrows(() => parseSpotifyLink(input), InvalidLinkError);
    if (!error.userMessage.includes(reason)) {
      throw new Error(`expected ${JSON.stringify(reason)} in ${JSON.stringify(error.userMessage)}`);
    }
    if (!error.userMessage.includes("https://open.spotify.com/album/")) {
      throw new Error("the refusal should show an example link");
    }
  });
}
