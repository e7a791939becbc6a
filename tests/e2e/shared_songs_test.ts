import { assert, assertEquals, assertMatch, assertStringIncludes } from "../_assert.ts";
import { ADMIN, ALICE, BOB } from "../_fixtures.ts";
import { fileLinksIn, localUrl, startTestBot } from "./_harness.ts";

/** An album of songs 1–5 and a playlist sharing three of them, in another order. */
const ALBUM_ID = "2noRn2Aes5aoNVsU6iWThc";
const PLAYLIST_ID = "5ABHKGoOzxkaa28ttQV9sE";
const ALBUM = `https://open.spotify.com/album/${ALBUM_ID}`;
const PLAYLIST = `https://open.spotify.com/playlist/${PLAYLIST_ID}`;
/** Song 9 of the fake's numbering: the playlist's first song. */
const SONG_NINE = "https://open.spotify.com/track/fake000000000000000009";

/** The songs each run downloaded, from the fake spotDL's runs file. */
async function downloaded(runsFile: string): Promise<string[]> {
  return (await Deno.readTextFile(runsFile).catch(() => "")).split("\n").filter((l) => l !== "");
}

Deno.test("a song any earlier download has is re-used, whoever asked and in whichever list", async () => {
  const dir = await Deno.makeTempDir();
  const runsFile = `${dir}/runs`;
  const argsFile = `${dir}/args`;
  const bot = await startTestBot({
    downloaderEnv: {
      FAKE_SPOTDL_RUNSFILE: runsFile,
      FAKE_SPOTDL_ARGSFILE: argsFile,
      [`FAKE_SPOTDL_SONGS_${ALBUM_ID}`]: "1 2 3 4 5",
      [`FAKE_SPOTDL_SONGS_${PLAYLIST_ID}`]: "9 3 8 5 4",
      FAKE_SPOTDL_TITLE: "Fake List",
    },
    config: (base) => ({
      ...base,
      telegram: { ...base.telegram, allowed_user_ids: [ALICE.id, BOB.id, ADMIN.id] },
    }),
  });
  try {
    bot.emulator.sendText(ALICE, `/download ${ALBUM}`);
    await bot.emulator.waitForBotMessage(ALICE.id, /5 downloaded/, { timeoutMs: 20_000 });
    assertEquals((await downloaded(runsFile)).length, 5);

    bot.emulator.sendText(BOB, `/download ${PLAYLIST}`);
    const summary = await bot.emulator.waitForBotMessage(BOB.id, /Fake List — 5 tracks/, {
      timeoutMs: 20_000,
    });
    assertEquals((await downloaded(runsFile)).slice(5), [
      "Artist Nine - Song Nine",
      "Artist Eight - Song Eight",
    ], "the playlist's run downloaded only the two songs the album did not have");
    assertStringIncludes(summary.text ?? "", "5 downloaded");
    assert(!/downloaded this recently/.test(summary.text ?? ""), "a download of its own");
    const names = fileLinksIn(summary).map((link) =>
      decodeURIComponent(new URL(link).pathname.split("/").at(-1) ?? "")
    );
    assertEquals(names, [
      "Artist Nine - Song Nine.mp3",
      "Artist Three - Song Three.mp3",
      "Artist Eight - Song Eight.mp3",
      "Artist Five - Song Five.mp3",
      "Artist Four - Song Four.mp3",
    ], "in the playlist's order");
    for (const link of fileLinksIn(summary)) {
      const response = await fetch(localUrl(bot, link));
      assertEquals(response.status, 200, link);
      const body = new TextDecoder().decode((await response.bytes()).subarray(0, 40));
      assertMatch(body, /^FAKE-AUDIO Artist \w+ - Song \w+/, link);
    }
    const runs = (await Deno.readTextFile(argsFile)).split("--\n").filter((r) => r !== "");
    const [save, download] = runs.slice(-2).map((run) => run.split("\n").slice(0, 2));
    assertEquals(save, ["save", PLAYLIST], "the playlist's songs are saved first");
    assertEquals(download?.[0], "download");
    assertMatch(download?.[1] ?? "", /\/dlbot-list\.spotdl$/, "then the saved list is downloaded");

    // A single track the playlist brought: no download at all, the file arrives as audio.
    bot.emulator.sendText(ADMIN, SONG_NINE);
    const audio = await bot.emulator.waitFor(
      () => bot.emulator.botMessages(ADMIN.id).find((m) => m.audio),
      { timeoutMs: 20_000, message: "the track as audio" },
    );
    assertEquals(audio.audio?.fileName, "Artist Nine - Song Nine.mp3");
    assertEquals((await downloaded(runsFile)).length, 7, "nothing downloaded for the track");
  } finally {
    await bot.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with share_songs = false every list downloads all its songs", async () => {
  const dir = await Deno.makeTempDir();
  const runsFile = `${dir}/runs`;
  const bot = await startTestBot({
    downloaderEnv: {
      FAKE_SPOTDL_RUNSFILE: runsFile,
      [`FAKE_SPOTDL_SONGS_${ALBUM_ID}`]: "1 2",
      [`FAKE_SPOTDL_SONGS_${PLAYLIST_ID}`]: "2 1",
    },
    config: (base) => ({ ...base, downloader: { ...base.downloader, share_songs: false } }),
  });
  try {
    bot.emulator.sendText(ALICE, `/download ${ALBUM}`);
    await bot.emulator.waitForBotMessage(ALICE.id, /2 downloaded/, { timeoutMs: 20_000 });
    bot.emulator.sendText(BOB, `/download ${PLAYLIST}`);
    await bot.emulator.waitForBotMessage(BOB.id, /2 downloaded/, { timeoutMs: 20_000 });
    assertEquals((await downloaded(runsFile)).length, 4, "each list downloaded both songs");
  } finally {
    await bot.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a song uploaded once is sent by its file id in any later job, any list, any user", async () => {
  const bot = await startTestBot({
    downloaderEnv: { [`FAKE_SPOTDL_SONGS_${PLAYLIST_ID}`]: "9 3" },
    config: (base) => ({ ...base, settings: { ...base.settings, lists_as_audio: true } }),
  });
  try {
    bot.emulator.sendText(ALICE, SONG_NINE);
    const first = await bot.emulator.waitFor(
      () => bot.emulator.botMessages(ALICE.id).find((m) => m.audio),
      { timeoutMs: 20_000, message: "Alice's track as audio" },
    );
    bot.emulator.sendText(BOB, `/download ${PLAYLIST}`);
    const album = await bot.emulator.waitFor(() => {
      const audio = bot.emulator.botMessages(BOB.id).filter((m) => m.audio);
      return audio.length === 2 ? audio : undefined;
    }, { timeoutMs: 20_000, message: "Bob's playlist as an audio album" });
    // A call is recorded once its handler returned, just after its messages appeared.
    const group = await bot.emulator.waitFor(
      () => bot.emulator.callsTo("sendMediaGroup").find((c) => c.ok),
      { intervalMs: 10, message: "the album's call recorded" },
    );
    const media = (group.params.media ?? []) as { media: string }[];
    assertEquals(media[0]?.media, first.audio?.fileId, "song 9 by the file id of Alice's upload");
    assertMatch(media[1]?.media ?? "", /^attach:\/\//, "song 3 uploaded: nobody had sent it");
    assertEquals(album[0]?.audio?.fileId, first.audio?.fileId);
  } finally {
    await bot.close();
  }
});
