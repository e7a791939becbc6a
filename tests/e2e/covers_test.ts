/** The covers spotDL embeds: thumbnails of the audio Telegram gets, and the zip's cover.jpg. */
import { assert, assertEquals } from "../_assert.ts";
import { ALICE, FAKE_FFMPEG, PLAYLIST, TRACK } from "../_fixtures.ts";
import { linksIn, localUrl, startTestBot, type TestBot, type TestBotOptions } from "./_harness.ts";
import { tempDir } from "../_test_utils.ts";
import type { ChatMessage } from "../../src/emulator/mod.ts";
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

/** Alice's first `count` audio messages, once she has that many. */
function audioMessages(bot: TestBot, count: number, what: string): Promise<ChatMessage[]> {
  return bot.emulator.waitFor(() => {
    const audio = bot.emulator.botMessages(ALICE.id).filter((m) => m.audio);
    return audio.length === count ? audio : undefined;
  }, { timeoutMs: 20_000, message: what });
}

Deno.test("tracks with an embedded cover arrive with it as their thumbnail, alone or as an album", async () => {
  const bot = await startTestBot(options(true));
  try {
    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    const album = await audioMessages(bot, 3, "the list as audio");
    for (const message of album) {
      assert((message.audio?.thumbnailSize ?? 0) > 0, `${message.audio?.fileName} has a thumbnail`);
    }
    bot.emulator.sendText(ALICE, TRACK);
    const single = (await audioMessages(bot, 4, "the track as audio"))[3];
    assert((single?.audio?.thumbnailSize ?? 0) > 0, "the single track has its thumbnail");
  } finally {
    await bot.close();
  }
});

Deno.test("tracks without a cover arrive without a thumbnail", async () => {
  const bot = await startTestBot(options(false));
  try {
    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    const album = await audioMessages(bot, 3, "the list as audio");
    assertEquals(album.map((m) => m.audio?.thumbnailSize), [undefined, undefined, undefined]);
  } finally {
    await bot.close();
  }
});

/** The names in the zip the summary of `pattern` links first, and the bytes of its cover.jpg. */
async function zipOf(
  bot: TestBot,
  pattern: RegExp,
): Promise<{ names: string[]; cover: Uint8Array }> {
  const summary = await bot.emulator.waitForBotMessage(ALICE.id, pattern, { timeoutMs: 20_000 });
  const [zipLink] = linksIn(summary).map((l) => localUrl(bot, l));
  await using dir = await tempDir();
  const response = await fetch(zipLink ?? "");
  assertEquals(response.status, 200);
  await Deno.writeFile(dir.join("all.zip"), new Uint8Array(await response.arrayBuffer()));
  const unzip = (...args: string[]) =>
    new Deno.Command("unzip", { args: [...args, dir.join("all.zip")], stdout: "piped" }).output();
  const names = new TextDecoder().decode((await unzip("-Z1")).stdout).trim().split("\n");
  const cover = (await new Deno.Command("unzip", {
    args: ["-p", dir.join("all.zip"), "cover.jpg"],
    stdout: "piped",
    stderr: "null",
  }).output()).stdout;
  return { names, cover };
}

Deno.test("a list's zip holds the cover spotDL embedded as cover.jpg, and only when there is one", async () => {
  const withCover = await startTestBot(options(true));
  try {
    withCover.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    const { names, cover } = await zipOf(withCover, /3 downloaded/);
    assertEquals(names.at(-1), "cover.jpg");
    assertEquals([...cover.subarray(0, 2)], [0xff, 0xd8], "a JPEG");
  } finally {
    await withCover.close();
  }
  const without = await startTestBot(options(false));
  try {
    without.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    const { names } = await zipOf(without, /3 downloaded/);
    assert(!names.includes("cover.jpg"), JSON.stringify(names));
    assertEquals(names.length, 4, "three songs and the playlist");
  } finally {
    await without.close();
  }
});
