import { assertEquals, assertRejects } from "../_assert.ts";
import { readSavedList, saveArgs } from "../../src/downloader/saved_list.ts";

Deno.test("saveArgs() swaps the operation, keeps the options, drops the playlist file", () => {
  assertEquals(
    saveArgs(
      ["download", "https://open.spotify.com/album/x", "--cookie-file", "c.txt", "--m3u", "o.m3u8"],
      "/jobs/1/dlbot-list.spotdl",
    ),
    [
      "save",
      "https://open.spotify.com/album/x",
      "--cookie-file",
      "c.txt",
      "--save-file",
      "/jobs/1/dlbot-list.spotdl",
      "--lyrics",
    ],
  );
  assertEquals(saveArgs(["--url", "x"], "/f.spotdl"), undefined, "not spotDL's download");
});

Deno.test("readSavedList() reads spotDL's save file and refuses anything else", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/list.spotdl`;
    await Deno.writeTextFile(
      file,
      JSON.stringify(
        [{ name: "Song", song_id: "abc", url: "https://open.spotify.com/track/abc", lyrics: null }],
        null,
        4,
      ),
    );
    assertEquals(await readSavedList(file), [
      { song_id: "abc", url: "https://open.spotify.com/track/abc" },
    ]);
    await Deno.writeTextFile(file, '{"songs": []}');
    await assertRejects(() => readSavedList(file), Error);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
