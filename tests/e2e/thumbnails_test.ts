import { assert, assertEquals } from "../_assert.ts";
import { ALICE, FAKE_FFMPEG, PLAYLIST, TRACK } from "../_fixtures.ts";
import { startTestBot, type TestBotOptions } from "./_harness.ts";
import { DEFAULT_DOWNLOADER_ARGS } from "../../src/config/schema.ts";

/** A bot whose spotDL uses the fake ffmpeg (`--ffmpeg`), sending list tracks as audio too. */
function options(cover: boolean): TestBotOptions {
  return {
    downloaderEnv: { FAKE_SPOTDL_TRACKS: "3", ...(cover ? { FAKE_SPOTDL_COVER: "1" } : {}) },
    config: (base) => ({
      ...base,
      downloader: {
        ...base.downloader,
        args: [...(base.downloader?.args ?? DEFAULT_DOWNLOADER_ARGS), "--ffmpeg", FAKE_FFMPEG],
      },
      settings: { ...base.settings, lists_as_audio: true },
    }),
  };
}

Deno.test("tracks with an embedded cover arrive with it as their thumbnail, alone or as an album", async () => {
  const bot = await startTestBot(options(true));
  try {
    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    const album = await bot.emulator.waitFor(() => {
      const audio = bot.emulator.botMessages(ALICE.id).filter((m) => m.audio);
      return audio.length === 3 ? audio : undefined;
    }, { timeoutMs: 20_000, message: "the list as audio" });
    for (const message of album) {
      assert((message.audio?.thumbnailSize ?? 0) > 0, `${message.audio?.fileName} has a thumbnail`);
    }
    bot.emulator.sendText(ALICE, TRACK);
    const single = await bot.emulator.waitFor(() => {
      const audio = bot.emulator.botMessages(ALICE.id).filter((m) => m.audio);
      return audio.length === 4 ? audio[3] : undefined;
    }, { timeoutMs: 20_000, message: "the track as audio" });
    assert((single.audio?.thumbnailSize ?? 0) > 0, "the single track has its thumbnail");
  } finally {
    await bot.close();
  }
});

Deno.test("tracks without a cover arrive without a thumbnail", async () => {
  const bot = await startTestBot(options(false));
  try {
    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    const album = await bot.emulator.waitFor(() => {
      const audio = bot.emulator.botMessages(ALICE.id).filter((m) => m.audio);
      return audio.length === 3 ? audio : undefined;
    }, { timeoutMs: 20_000, message: "the list as audio" });
    assertEquals(album.map((m) => m.audio?.thumbnailSize), [undefined, undefined, undefined]);
  } finally {
    await bot.close();
  }
});
