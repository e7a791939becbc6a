import { assertEquals } from "../_assert.ts";
import type { DownloaderEvent } from "../../src/downloader/events.ts";
import { SpotdlParser } from "../../src/downloader/spotdl_parser.ts";
import { LineSplitter } from "../../src/downloader/lines.ts";

const FIXTURES = new URL("../fixtures/spotdl_output/", import.meta.url);

async function parseTranscript(name: string): Promise<DownloaderEvent[]> {
  const text = await Deno.readTextFile(new URL(name, FIXTURES));
  const splitter = new LineSplitter();
  const parser = new SpotdlParser();
  return [...splitter.push(text), ...splitter.flush()].flatMap((line) => parser.parseLine(line));
}

Deno.test("SpotdlParser reads a playlist transcript, including titles that contain ': '", async () => {
  assertEquals(await parseTranscript("playlist_ok.txt"), [
    { type: "total", total: 4, title: "Today's Top Hits (Deluxe)", listKind: "Playlist" },
    { type: "track", name: "Sabrina Carpenter - Espresso", status: "downloading" },
    { type: "track", name: "Hans Zimmer - Interstellar: Main Theme", status: "downloading" },
    { type: "track", name: "Sabrina Carpenter - Espresso", status: "embedding" },
    { type: "track", name: "Sabrina Carpenter - Espresso", status: "done" },
    { type: "complete", completed: 1, total: 4 },
    {
      type: "downloaded",
      name: "Sabrina Carpenter - Espresso",
      sourceUrl: "https://music.youtube.com/watch?v=eVli-tstM5E",
    },
    { type: "track", name: "Hans Zimmer - Interstellar: Main Theme", status: "converting" },
    { type: "track", name: "Hans Zimmer - Interstellar: Main Theme", status: "embedding" },
    { type: "track", name: "Hans Zimmer - Interstellar: Main Theme", status: "done" },
    { type: "complete", completed: 2, total: 4 },
    {
      type: "downloaded",
      name: "Hans Zimmer - Interstellar: Main Theme",
      sourceUrl: "https://music.youtube.com/watch?v=UDVtMYqUAyw",
    },
    {
      type: "skipped",
      name: "Billie Eilish - BIRDS OF A FEATHER",
      reason: "file already exists (duplicate)",
    },
    { type: "track", name: "Billie Eilish - BIRDS OF A FEATHER", status: "skipped" },
    { type: "complete", completed: 3, total: 4 },
    { type: "track", name: 'Benson Boone - "Beautiful Things" (Live)', status: "downloading" },
    { type: "track", name: 'Benson Boone - "Beautiful Things" (Live)', status: "embedding" },
    { type: "track", name: 'Benson Boone - "Beautiful Things" (Live)', status: "done" },
    { type: "complete", completed: 4, total: 4 },
    {
      type: "downloaded",
      name: 'Benson Boone - "Beautiful Things" (Live)',
      sourceUrl: "https://music.youtube.com/watch?v=Oa_RSwwpPaA",
    },
  ]);
});

Deno.test("SpotdlParser reports song errors, skips and unknown lines from a failing album", async () => {
  assertEquals(await parseTranscript("playlist_errors.txt"), [
    { type: "total", total: 5, title: "Error Album", listKind: "Album" },
    { type: "complete", completed: 1, total: 0 },
    {
      type: "error",
      errorClass: "LookupError",
      message: "No results found for song: Obscure Band - Lost Track",
      track: "Obscure Band - Lost Track",
    },
    { type: "track", name: "Known Band - Good Song", status: "downloading" },
    { type: "track", name: "Known Band - Good Song", status: "error" },
    { type: "complete", completed: 2, total: 0 },
    {
      type: "error",
      errorClass: "AudioProviderError",
      message: "YT-DLP download error - https://music.youtube.com/watch?v=xyz123",
    },
    { type: "skipped", name: "Known Band - Old Song (Remix)", reason: "file already exists" },
    { type: "track", name: "Known Band - Old Song (Remix)", status: "skipped" },
    { type: "complete", completed: 3, total: 0 },
    { type: "skipped", name: "Known Band - Rude Song", reason: "explicit" },
    { type: "track", name: "Known Band - Broken Song", status: "downloading" },
    { type: "track", name: "Known Band - Broken Song", status: "embedding" },
    { type: "complete", completed: 4, total: 0 },
    {
      type: "error",
      errorClass: "FFmpegError",
      message: "Failed to convert Known Band - Broken Song, you can find error here: " +
        "/root/.spotdl/errors/ffmpeg_error_2024-05-01-10-00-00.txt",
      track: "Known Band - Broken Song",
    },
    {
      type: "error",
      errorClass: "NetworkError",
      message:
        "HTTPSConnectionPool(host='music.youtube.com', port=443): Read timed out. (read timeout=10)",
    },
    { type: "complete", completed: 5, total: 0 },
    {
      type: "error",
      errorClass: "MetadataError",
      message: "Failed to embed metadata to the song",
    },
    {
      type: "error",
      errorClass: "LookupError",
      message: "No results found for song: Obscure Band - Lost Track",
      track: "Obscure Band - Lost Track",
    },
    { type: "unknown", line: "Some unexpected line from a newer spotDL" },
  ]);
});

Deno.test("SpotdlParser turns Spotify rate limiting into RateLimit errors with the retry delay", async () => {
  const message86400 =
    "Your application has reached a rate/request limit. Retry will occur after: 86400";
  assertEquals(await parseTranscript("rate_limit.txt"), [
    { type: "error", errorClass: "RateLimit", message: message86400, retryAfterSeconds: 86400 },
    {
      type: "error",
      errorClass: "RateLimit",
      message: "Your application has reached a rate/request limit. Retry will occur after: 61",
      retryAfterSeconds: 61,
    },
    {
      type: "error",
      errorClass: "RateLimit",
      message:
        "HTTP Error for GET to https://api.spotify.com/v1/playlists/37i9dQZF1DXcBWIGoYBM5M " +
        "with Params: {} returned 429 due to Too many requests",
    },
    {
      type: "error",
      errorClass: "RateLimit",
      message: "spotipy.exceptions.SpotifyException: http status: 429, code: -1 - " +
        "/v1/playlists/37i9dQZF1DXcBWIGoYBM5M: Max Retries, reason: too many 429 error responses",
    },
  ]);
});

Deno.test("SpotdlParser reads a single track, which has no 'Found' line", async () => {
  assertEquals(await parseTranscript("single_song.txt"), [
    { type: "track", name: "The Weeknd - Blinding Lights", status: "downloading" },
    { type: "track", name: "The Weeknd - Blinding Lights", status: "embedding" },
    { type: "track", name: "The Weeknd - Blinding Lights", status: "done" },
    { type: "complete", completed: 1, total: 1 },
    {
      type: "downloaded",
      name: "The Weeknd - Blinding Lights",
      sourceUrl: "https://music.youtube.com/watch?v=fHI8X4OXluQ",
    },
  ]);
});

Deno.test("SpotdlParser strips ANSI colours and CRLF line ends", async () => {
  assertEquals(await parseTranscript("ansi_colored.txt"), [
    { type: "total", total: 2, title: "Coloured Mix", listKind: "Playlist" },
    { type: "track", name: "Artist A - Song A", status: "downloading" },
    { type: "track", name: "Artist A - Song A", status: "done" },
    { type: "complete", completed: 1, total: 2 },
    {
      type: "error",
      errorClass: "LookupError",
      message: "No results found for song: Artist B - Song B",
      track: "Artist B - Song B",
    },
    { type: "complete", completed: 2, total: 2 },
    {
      type: "error",
      errorClass: "RateLimit",
      message: "Your application has reached a rate/request limit. Retry will occur after: 3600",
      retryAfterSeconds: 3600,
    },
  ]);
});

Deno.test("SpotdlParser parses single lines", async (t) => {
  const cases: [string, DownloaderEvent[]][] = [
    ["", []],
    ["      ", []],
    ["Processing query: https://open.spotify.com/track/abc", []],
    ["Found 1 songs in Lonely (Saved)", [
      { type: "total", total: 1, title: "Lonely", listKind: "Saved" },
    ]],
    ["Artist - Song: Part 1: Done", [
      { type: "track", name: "Artist - Song: Part 1", status: "done" },
    ]],
    ["Artist - TypeError: Downloading", [
      { type: "track", name: "Artist - TypeError", status: "downloading" },
    ]],
    ["Downloading", [{ type: "unknown", line: "Downloading" }]],
    ['Downloaded "Artist - Song": None', [{ type: "downloaded", name: "Artist - Song" }]],
    ["Skipping Artist - Song (skip file found)", [
      { type: "skipped", name: "Artist - Song", reason: "skip file found" },
    ]],
    ["spotdl.download.downloader.DownloaderError: ffmpeg is not installed", [
      { type: "error", errorClass: "DownloaderError", message: "ffmpeg is not installed" },
    ]],
    ["KeyboardInterrupt", [{ type: "error", errorClass: "KeyboardInterrupt", message: "" }]],
    ["KeyboardInterrupt: ", [{ type: "error", errorClass: "KeyboardInterrupt", message: "" }]],
    ["Error", [{ type: "unknown", line: "Error" }]],
    ["Note: this is not an exception", [{
      type: "unknown",
      line: "Note: this is not an exception",
    }]],
    ["Failed to establish a new connection: [Errno 111] Connection refused", [{
      type: "error",
      errorClass: "NetworkError",
      message: "Failed to establish a new connection: [Errno 111] Connection refused",
    }]],
    ["Traceback (most recent call last):", [{
      type: "unknown",
      line: "Traceback (most recent call last):",
    }]],
  ];
  for (const [line, expected] of cases) {
    await t.step(JSON.stringify(line), () => {
      assertEquals(new SpotdlParser().parseLine(line), expected);
    });
  }
});
