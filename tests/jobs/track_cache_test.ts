import { assertEquals } from "../_assert.ts";
import { dropUnused, TrackCache, trackIdOf } from "../../src/jobs/track_cache.ts";
import { trackCacheKey } from "../../src/kv/keys.ts";
import type { SavedSong } from "../../src/downloader/saved_list.ts";
import { readPlaylistOrder } from "../../src/downloader/playlist_order.ts";

const MP3 = { format: "mp3", bitrate: "128k" };

function song(id: string): SavedSong {
  return { song_id: id, url: `https://open.spotify.com/track/${id}` };
}

/** A finished run's directory: its files and spotDL's playlist file listing `listed`. */
async function runDir(root: string, jobId: string, listed: string[]): Promise<string> {
  const dir = `${root}/${jobId}`;
  await Deno.mkdir(dir, { recursive: true });
  for (const name of listed) await Deno.writeTextFile(`${dir}/${name}`, `audio of ${name}`);
  const lines = listed.flatMap((name, i) => [`#EXTINF:${180 + i},${name}`, name]);
  await Deno.writeTextFile(`${dir}/dlbot-order.m3u8`, ["#EXTM3U", ...lines].join("\n") + "\n");
  return dir;
}

async function withCache(
  test: (cache: TrackCache, kv: Deno.Kv, root: string) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir();
  const kv = await Deno.openKv(":memory:");
  try {
    await test(new TrackCache({ kv, downloadsDir: root, retentionMs: 86_400_000 }), kv, root);
  } finally {
    kv.close();
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("record() pairs the saved songs that did not fail with the playlist file, in order", () =>
  withCache(async (cache, kv, root) => {
    const dir = await runDir(root, "job1", ["A.mp3", "C.mp3"]);
    const failed = new Set([song("b").url]);
    assertEquals(
      await cache.record(
        "job1",
        MP3,
        [song("a"), song("b"), song("c")],
        failed,
        await readPlaylistOrder(dir),
      ),
      new Map([["A.mp3", "mp3/128k/a"], ["C.mp3", "mp3/128k/c"]]),
    );
    assertEquals((await kv.get(trackCacheKey("mp3/128k", "a"))).value, {
      job: "job1",
      file: "A.mp3",
    });
    assertEquals((await kv.get(trackCacheKey("mp3/128k", "b"))).value, null);
    assertEquals((await kv.get(trackCacheKey("mp3/128k", "c"))).value, {
      job: "job1",
      file: "C.mp3",
    });
  }));

Deno.test("record() indexes nothing when the songs and the playlist file do not add up", () =>
  withCache(async (cache, kv, root) => {
    const dir = await runDir(root, "job1", ["A.mp3"]);
    assertEquals(
      await cache.record(
        "job1",
        MP3,
        [song("a"), song("b")],
        new Set(),
        await readPlaylistOrder(dir),
      ),
      new Map(),
    );
    assertEquals((await kv.get(trackCacheKey("mp3/128k", "a"))).value, null);
  }));

Deno.test("place() links indexed songs of the same audio under their names, once", () =>
  withCache(async (cache, _kv, root) => {
    const first = await runDir(root, "job1", ["A.mp3", "B.mp3"]);
    await cache.record(
      "job1",
      MP3,
      [song("a"), song("b")],
      new Set(),
      await readPlaylistOrder(first),
    );
    const next = `${root}/job2`;
    await Deno.mkdir(next);
    await Deno.writeTextFile(`${next}/B.mp3`, "the run's own B");
    assertEquals(await cache.place(MP3, [song("x"), song("b"), song("a")], next), ["A.mp3"]);
    assertEquals(await Deno.readTextFile(`${next}/A.mp3`), "audio of A.mp3");
    assertEquals(await Deno.readTextFile(`${next}/B.mp3`), "the run's own B", "never replaced");
    assertEquals((await Deno.stat(`${next}/A.mp3`)).nlink, 2, "a hard link, not a copy");
    const m4a = `${root}/job3`;
    await Deno.mkdir(m4a);
    assertEquals(await cache.place({ format: "m4a", bitrate: "128k" }, [song("a")], m4a), []);
    assertEquals(await cache.place({ format: "mp3", bitrate: "320k" }, [song("a")], m4a), []);
  }));

Deno.test("place() skips songs whose file is gone and entries that point outside their job", () =>
  withCache(async (cache, kv, root) => {
    const first = await runDir(root, "job1", ["A.mp3"]);
    await cache.record("job1", MP3, [song("a")], new Set(), await readPlaylistOrder(first));
    await Deno.remove(`${first}/A.mp3`);
    await Deno.writeTextFile(`${root}/secret.mp3`, "not a song of any job");
    await kv.set(trackCacheKey("mp3/128k", "evil"), { job: "job1", file: "../secret.mp3" });
    const next = `${root}/job2`;
    await Deno.mkdir(next);
    assertEquals(await cache.place(MP3, [song("a"), song("evil")], next), []);
    assertEquals([...Deno.readDirSync(next)].length, 0);
  }));

Deno.test("dropUnused() removes placed songs the downloader's playlist file does not list", async () => {
  const root = await Deno.makeTempDir();
  try {
    const dir = await runDir(root, "job", ["Kept.mp3"]);
    await Deno.writeTextFile(`${dir}/Renamed since.mp3`, "placed, then not used");
    await dropUnused(dir, ["Kept.mp3", "Renamed since.mp3"], await readPlaylistOrder(dir));
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "Kept.mp3",
      "dlbot-order.m3u8",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("trackIdOf() reads the id of track links only", () => {
  assertEquals(
    trackIdOf("https://open.spotify.com/track/4cOdK2wGLETKBW3PvgPWqT"),
    "4cOdK2wGLETKBW3PvgPWqT",
  );
  assertEquals(trackIdOf("https://open.spotify.com/album/4cOdK2wGLETKBW3PvgPWqT"), undefined);
});
