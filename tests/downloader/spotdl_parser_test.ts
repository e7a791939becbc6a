import { assertEquals } from "../_assert.ts";
import type { DownloaderEvent } from "../../src/downloader/events.ts";
import { SpotdlParser } from "../../src/downloader/spotdl_parser.ts";
import { LineSplitter } from "../../src/downloader/lines.ts";
import { applyEvent, initialProgress, settleProgress } from "../../src/jobs/progress.ts";
import type { JobProgress } from "../../src/jobs/model.ts";

const FIXTURES = new URL("../fixtures/spotdl_output/", import.meta.url);

/** Every event of a transcript (output of tests/fixtures/fake_spotdl at 80 columns). */
async function parseTranscript(name: string): Promise<DownloaderEvent[]> {
  const text = await Deno.readTextFile(new URL(name, FIXTURES));
  return parseLines([...new LineSplitter().push(text)]);
}

function parseLines(lines: string[]): DownloaderEvent[] {
  const parser = new SpotdlParser();
  return [...lines.flatMap((line) => parser.parseLine(line)), ...parser.flush()];
}

/** The progress a job ends with after these events. */
function fold(events: DownloaderEvent[], start: JobProgress = initialProgress()): JobProgress {
  return settleProgress(events.reduce(applyEvent, start));
}

const ofType = <T extends DownloaderEvent["type"]>(events: DownloaderEvent[], type: T) =>
  events.filter((e): e is Extract<DownloaderEvent, { type: T }> => e.type === type);

Deno.test("a playlist with every per-song case is counted by kind, with failures named and explained", async () => {
  const events = await parseTranscript("every_case.txt");
  assertEquals(ofType(events, "unknown"), [], "every line of the 80-column output is understood");
  const p = fold(events);
  assertEquals(
    {
      total: p.total,
      done: p.done,
      skipped: p.skipped,
      explicit: p.skippedExplicit,
      failed: p.failed,
      unavailable: p.unavailable,
    },
    { total: 7, done: 4, skipped: 0, explicit: 1, failed: 2, unavailable: 2 },
  );
  assertEquals(p.failures, [
    { name: "Obscure Band - Lost Track", reason: "no matching audio found" },
    { name: "Beyonce - Cafe", reason: "YouTube refused the download" },
  ]);
  assertEquals(p.percent, 100);
  assertEquals(p.inFlight, []);
});

Deno.test("wrapped lines are joined: a long Downloaded line and an end-of-run error list", async () => {
  const events = await parseTranscript("every_case.txt");
  assertEquals(ofType(events, "downloaded").map((e) => e.sourceUrl), [
    "https://music.youtube.com/watch?v=fake00001",
    "https://music.youtube.com/watch?v=fake00003",
    "https://music.youtube.com/watch?v=fake00006",
    "https://music.youtube.com/watch?v=fake00007",
  ]);
  assertEquals(ofType(events, "song_error").map((e) => [e.errorClass, e.message]), [
    ["LookupError", "No results found for song: Obscure Band - Lost Track"],
    ["AudioProviderError", "YT-DLP download error - https://music.youtube.com/watch?v=fake00005"],
  ]);
  assertEquals(ofType(events, "unavailable").map((e) => e.item), ["local_file", "episode"]);
});

Deno.test("two songs finishing together skip a k/N line, and nothing is counted as failed", async () => {
  const events = await parseTranscript("thread_race.txt");
  const ks = ofType(events, "complete").map((e) => e.completed);
  assertEquals(ks, [1, 3, 4], "k jumps from 1 to 3");
  const p = fold(events);
  assertEquals([p.done, p.failed, p.total], [4, 0, 4]);
});

Deno.test("a single track has no Found line: 1/1 complete gives its count", async () => {
  const p = fold(await parseTranscript("single_track.txt"));
  assertEquals([p.total, p.done, p.failed, p.percent], [1, 1, 0, 100]);
});

Deno.test("an artist link is a list of kind Artist", async () => {
  const [total] = ofType(await parseTranscript("artist.txt"), "total");
  assertEquals(total, { type: "total", total: 2, title: "Artist One", listKind: "Artist" });
});

Deno.test("a failed run yields one fatal event with the traceback's last line, continuation joined", async () => {
  const cases: [string, string, string][] = [
    ["ffmpeg_missing.txt", "FFmpegError", "FFmpeg is not installed. Please run"],
    ["yt_blocked.txt", "DownloaderError", "You are blocked by YouTube Music."],
    ["offline.txt", "ConnectionError", "HTTPSConnectionPool(host='music.youtube.com'"],
    ["forbidden.txt", "SpotifyException", "http status: 403"],
    ["not_found.txt", "SpotifyException", "http status: 429"],
  ];
  for (const [file, errorClass, start] of cases) {
    const events = await parseTranscript(file);
    const fatal = ofType(events, "fatal");
    assertEquals(fatal.length, 1, file);
    assertEquals(fatal[0]?.errorClass, errorClass, file);
    assertEquals(fatal[0]?.message.startsWith(start), true, `${file}: ${fatal[0]?.message}`);
    assertEquals(ofType(events, "error"), [], `${file}: the traceback is no song failure`);
  }
  const [ffmpeg] = ofType(await parseTranscript("ffmpeg_missing.txt"), "fatal");
  assertEquals(ffmpeg?.message.endsWith("to specify the path to ffmpeg."), true, ffmpeg?.message);
  const [notFound] = ofType(await parseTranscript("not_found.txt"), "fatal");
  assertEquals(notFound?.message.endsWith("reason: too many 404 error responses"), true);
});

Deno.test("spotipy's warning: a number is a wait, None (what a 404 prints) is none", async () => {
  assertEquals(ofType(await parseTranscript("rate_limit_29.txt"), "rate_limit"), [
    { type: "rate_limit", retryAfterSeconds: 29 },
  ]);
  assertEquals(ofType(await parseTranscript("not_found.txt"), "rate_limit").length, 4);
  assertEquals(
    ofType(await parseTranscript("not_found.txt"), "rate_limit").every((e) =>
      e.retryAfterSeconds === undefined
    ),
    true,
  );
  assertEquals(
    parseLines([
      "Your application has reached a rate/request limit. Retry will occur after: 86400 s",
      "Your application has reached a rate/request limit. Retry will occur after: 0 s",
    ]),
    [{ type: "rate_limit", retryAfterSeconds: 86400 }, { type: "rate_limit" }],
  );
});

Deno.test("a spotDL configured for DEBUG lines is still understood", async () => {
  const p = fold(await parseTranscript("debug_config.txt"));
  assertEquals([p.total, p.done, p.title], [2, 2, "Fake Playlist"]);
});

Deno.test("skip lines are told apart by kind", () => {
  assertEquals(
    parseLines([
      "Skipping A - B (file already exists) ",
      "Skipping A - C (file already exists) (duplicate)",
      "Skipping A - D (skip file found) ",
      "Skipping explicit song: A - E",
      "Skipping track: None local tracks and track are not supported",
      "Skipping track: 5v1 local tracks and episode are not supported",
    ]),
    [
      { type: "skipped", name: "A - B", reason: "exists" },
      { type: "skipped", name: "A - C", reason: "exists" },
      { type: "skipped", name: "A - D", reason: "skip_file" },
      { type: "skipped", name: "A - E", reason: "explicit" },
      { type: "unavailable", item: "local_file" },
      { type: "unavailable", item: "episode" },
    ],
  );
});

Deno.test("a resumed job counts the songs it already had as downloaded", () => {
  const events = parseLines([
    "Found 3 songs in X (Album)",
    "Skipping A - One (file already exists) ",
    "Skipping A - Two (file already exists) ",
    'Downloaded "A - Three": https://music.youtube.com/watch?v=x',
  ]);
  assertEquals(fold(events, initialProgress({ resumed: true })).done, 3);
  assertEquals(fold(events).done, 1);
  assertEquals(fold(events).skipped, 2);
});

Deno.test("a song whose error is printed again by --print-errors is counted once", () => {
  const p = fold(parseLines([
    "Found 2 songs in X (Playlist)",
    "1/2 complete",
    "LookupError: No results found for song: A - One",
    'Downloaded "A - Two": https://music.youtube.com/watch?v=x',
    "https://open.spotify.com/track/abc - LookupError: No results found for song: A - One",
  ]));
  assertEquals([p.done, p.failed], [1, 1]);
});

Deno.test("ANSI colours and padding are removed", () => {
  assertEquals(parseLines(["\x1b[32mFound 2 songs in X (Playlist)\x1b[0m          "]), [
    { type: "total", total: 2, title: "X", listKind: "Playlist" },
  ]);
});
