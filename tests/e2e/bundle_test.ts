/**
 * The whole download with one tap: the summary of a list starts with a zip of every track (in
 * list order, with a playlist inside) and a playlist of signed links, both served by the bot's
 * HTTP server; checked with a real unzip, byte for byte.
 */
import { assert, assertEquals, assertStringIncludes } from "../_assert.ts";
import { tempDir } from "../_test_utils.ts";
import {
  ALICE,
  fileLinksIn,
  jobIdFrom,
  linksIn,
  localUrl,
  PLAYLIST,
  startTestBot,
} from "./_harness.ts";

const IN_ORDER = [
  "Artist One - Song One.mp3",
  "Artist Two - Song Two.mp3",
  "Artist Three - Song Three.mp3",
  "Artist Four - Song Four.mp3",
];

Deno.test("a list's summary links a zip of every track in list order and a playlist of links", async () => {
  await using dir = await tempDir();
  const bot = await startTestBot({ downloaderEnv: { FAKE_SPOTDL_TRACKS: "4" } });
  try {
    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    const summary = await bot.emulator.waitForBotMessage(ALICE.id, /4 downloaded/, {
      timeoutMs: 15_000,
    });
    const jobId = jobIdFrom(summary);
    assertStringIncludes(summary.text ?? "", "All 4 tracks as one zip");
    const [zipLink, playlistLink, ...files] = linksIn(summary).map((l) => localUrl(bot, l));
    assert(zipLink?.includes(".zip?") && playlistLink?.includes(".m3u8?"), summary.rawText);
    assertEquals(
      files.map((f) => decodeURIComponent(new URL(f).pathname.split("/").pop()!)),
      IN_ORDER,
    );

    const head = await fetch(zipLink!, { method: "HEAD" });
    const length = Number(head.headers.get("content-length"));
    assertEquals(head.headers.get("content-type"), "application/zip");
    assertEquals(head.headers.get("accept-ranges"), "none");
    const zip = await fetch(zipLink!);
    assertStringIncludes(zip.headers.get("content-disposition") ?? "", "Fake Playlist.zip");
    const bytes = new Uint8Array(await zip.arrayBuffer());
    assertEquals(bytes.length, length, "Content-Length said up front is exact");
    await Deno.writeFile(dir.join("all.zip"), bytes);
    const listing = await run("unzip", ["-Z1", dir.join("all.zip")]);
    assertEquals(listing.trim().split("\n"), [...IN_ORDER, "Fake Playlist.m3u8"]);
    for (const name of IN_ORDER) {
      const inZip = (await new Deno.Command("unzip", {
        args: ["-p", dir.join("all.zip"), name],
        stdout: "piped",
      }).output()).stdout;
      assertEquals(inZip, await Deno.readFile(`${bot.dataDir}/downloads/${jobId}/${name}`), name);
    }
    const inner = await run("unzip", ["-p", dir.join("all.zip"), "Fake Playlist.m3u8"]);
    assertEquals(inner.split("\n").slice(0, 3), [
      "#EXTM3U",
      "#EXTINF:181,Artist One - Song One",
      "Artist One - Song One.mp3",
    ]);

    const playlist = await (await fetch(playlistLink!)).text();
    const entries = playlist.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    assertEquals(entries.length, 4);
    for (const [i, entry] of entries.entries()) {
      const resolved = new URL(entry, playlistLink!);
      const track = await fetch(resolved);
      assertEquals(track.status, 200, `playlist entry ${entry}`);
      const expected = await Deno.readFile(`${bot.dataDir}/downloads/${jobId}/${IN_ORDER[i]}`);
      assertEquals(new Uint8Array(await track.arrayBuffer()), expected);
    }

    const tampered = await fetch(zipLink!.replace(/sig=[^&]+/, `sig=${"A".repeat(43)}`));
    await tampered.body?.cancel();
    assertEquals(tampered.status, 403);
    await Deno.remove(`${bot.dataDir}/downloads/${jobId}`, { recursive: true });
    const gone = await fetch(zipLink!);
    assertEquals(gone.status, 410);
    assertStringIncludes(await gone.text(), "are gone");
  } finally {
    await bot.close();
  }
});

async function run(command: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(command, { args, stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout);
}

Deno.test("a 150-track playlist: every link arrives, in list order, over as many messages as needed, with no 429", async () => {
  const bot = await startTestBot({
    telegramLimits: true,
    downloaderEnv: {
      FAKE_SPOTDL_TRACKS: "150",
      FAKE_SPOTDL_DELAY: "0.001",
      FAKE_SPOTDL_BYTES: "64",
    },
    config: (base) => ({ ...base, jobs: { ...base.jobs, confirm_above_tracks: 0 } }),
  });
  const { emulator } = bot;
  try {
    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    const summary = await bot.emulator.waitForBotMessage(ALICE.id, /150 downloaded/, {
      timeoutMs: 30_000,
    });
    const files = await bot.emulator.waitFor(() => {
      const all = bot.emulator.botMessages(ALICE.id).filter((m) => m.messageId >= summary.messageId)
        .flatMap((m) => fileLinksIn(m));
      return all.length >= 150 ? all : undefined;
    }, { intervalMs: 100, timeoutMs: 30_000, message: "all 150 links" });
    const names = files.map((f) => decodeURIComponent(new URL(f).pathname.split("/").pop()!));
    const expected = Array.from({ length: 150 }, (_, i) => {
      const word =
        ["One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten"][i] ??
          String(i + 1);
      return `Artist ${word} - Song ${word}.mp3`;
    });
    assertEquals(names, expected, "every link once, in list order");
    const messages = bot.emulator.botMessages(ALICE.id).filter((m) =>
      m.messageId >= summary.messageId
    );
    assert(messages.length > 1, "the links took more than one message");
    for (const m of messages) {
      assert((m.text ?? "").length <= 4096, `message of ${(m.text ?? "").length} characters`);
      assert(!/more files? not listed/.test(m.text ?? ""), "nothing left out");
    }
    assertEquals(emulator.stats.floodRejections, 0, "no 429");
  } finally {
    await bot.close();
  }
});
