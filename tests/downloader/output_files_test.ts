import { assertEquals } from "../_assert.ts";
import { inspectOutput, removePartialFiles } from "../../src/downloader/output_files.ts";
import { probeFile } from "../../src/downloader/ffprobe.ts";
import { withTempDir } from "../_test_utils.ts";

async function write(path: string, size: number): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeFile(path, new Uint8Array(size));
}

/**
 * A stand-in ffprobe: answers the duration query (plain) and the duration-and-tags query (JSON,
 * as ffprobe prints it; "Two" has artist and title tags); fails for "bad" files.
 */
async function fakeFfprobe(dir: string): Promise<string> {
  const path = `${dir}/.bin/ffprobe`;
  await Deno.mkdir(`${dir}/.bin`);
  await Deno.writeTextFile(
    path,
    `#!/usr/bin/env bash
file="\${@: -1}"
case "$file" in *bad*) echo "Invalid data found" >&2; exit 1 ;; esac
case "$file" in *Two*) seconds=200.25 ;; *) seconds=100.5 ;; esac
if [ "$1 $2 $3 $4 $5 $6" = "-v error -show_entries format=duration -of default=nw=1:nk=1" ]; then
  echo "$seconds"; exit 0
fi
[ "$1 $2 $3 $4 $5 $6" = "-v error -show_entries format=duration:format_tags -of json" ] || exit 9
case "$file" in
  *Two*) printf '{"format":{"duration":"%s","tags":{"ARTIST":"Tag Artist","title":"Tag Title"}}}' "$seconds" ;;
  *) printf '{"format":{"duration":"%s"}}' "$seconds" ;;
esac
`,
  );
  await Deno.chmod(path, 0o755);
  return path;
}

Deno.test("inspectOutput lists audio files only, sorted, with sizes", async () => {
  await withTempDir(async (dir) => {
    await write(`${dir}/b - Two.mp3`, 300);
    await write(`${dir}/a - One.FLAC`, 200);
    await write(`${dir}/Album/c - Three.m4a`, 100);
    await write(`${dir}/cover.jpg`, 50);
    await write(`${dir}/d - Four.mp3.part`, 10);
    await write(`${dir}/e.webm.ytdl`, 10);
    await write(`${dir}/f.opus.temp`, 10);
    await write(`${dir}/.hidden.mp3`, 10);
    await write(`${dir}/.cache/g.mp3`, 10);
    await write(`${dir}/errors.txt`, 10);
    await Deno.symlink("/etc/hostname", `${dir}/link.mp3`);

    assertEquals(await inspectOutput(dir, { ffprobe: null }), {
      files: [
        { name: "Album/c - Three.m4a", size: 100 },
        { name: "a - One.FLAC", size: 200 },
        { name: "b - Two.mp3", size: 300 },
      ],
      totalBytes: 600,
    });
  });
});

Deno.test("inspectOutput adds durations when ffprobe measures every file", async () => {
  await withTempDir(async (dir) => {
    const ffprobe = await fakeFfprobe(dir);
    await write(`${dir}/One.mp3`, 10);
    await write(`${dir}/Two.ogg`, 20);
    assertEquals(await inspectOutput(dir, { ffprobe }), {
      files: [
        { name: "One.mp3", size: 10, durationSeconds: 100.5 },
        { name: "Two.ogg", size: 20, durationSeconds: 200.25, title: "Tag Artist - Tag Title" },
      ],
      totalBytes: 30,
      totalDurationSeconds: 300.75,
    });
  });
});

Deno.test("inspectOutput omits the total duration when one file cannot be measured", async () => {
  await withTempDir(async (dir) => {
    const ffprobe = await fakeFfprobe(dir);
    await write(`${dir}/One.mp3`, 10);
    await write(`${dir}/bad.wav`, 20);
    assertEquals(await inspectOutput(dir, { ffprobe }), {
      files: [
        { name: "One.mp3", size: 10, durationSeconds: 100.5 },
        { name: "bad.wav", size: 20 },
      ],
      totalBytes: 30,
    });
  });
});

Deno.test("inspectOutput without ffprobe, or of an empty directory, has no duration", async () => {
  await withTempDir(async (dir) => {
    assertEquals(await inspectOutput(dir, { ffprobe: `${dir}/no-such-ffprobe` }), {
      files: [],
      totalBytes: 0,
    });
    await write(`${dir}/One.mp3`, 10);
    assertEquals(await inspectOutput(dir, { ffprobe: `${dir}/no-such-ffprobe` }), {
      files: [{ name: "One.mp3", size: 10 }],
      totalBytes: 10,
    });
  });
});

Deno.test("probeFile has no duration when ffprobe prints none, and no tags when it prints no JSON", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/ffprobe`;
    // What ffprobe prints for a file whose length it cannot tell.
    await Deno.writeTextFile(
      path,
      '#!/usr/bin/env bash\necho \'{"format": {"duration": "N/A", "tags": {"title": "T"}}}\'\n',
    );
    await Deno.chmod(path, 0o755);
    assertEquals(await probeFile(`${dir}/x.mp3`, path), { tags: { title: "T" } });
    await Deno.writeTextFile(path, "#!/usr/bin/env bash\necho N/A\n");
    assertEquals(await probeFile(`${dir}/x.mp3`, path), { tags: {} });
  });
});

Deno.test("removePartialFiles deletes unfinished files and keeps finished songs", async () => {
  await withTempDir(async (dir) => {
    await write(`${dir}/Done.mp3`, 10);
    await write(`${dir}/Half.mp3.part`, 10);
    await write(`${dir}/sub/x.webm.ytdl`, 10);
    await write(`${dir}/.y.temp`, 10);
    const removed = await removePartialFiles(dir);
    assertEquals(removed.sort(), [".y.temp", "Half.mp3.part", "sub/x.webm.ytdl"]);
    assertEquals((await inspectOutput(dir, { ffprobe: null })).files, [
      { name: "Done.mp3", size: 10 },
    ]);
    assertEquals(await removePartialFiles(`${dir}/missing`), []);
  });
});

Deno.test("inspectOutput with measureListed false leaves the songs spotDL's list times and names unprobed", async () => {
  await withTempDir(async (dir) => {
    const ffprobe = await fakeFfprobe(dir);
    await write(`${dir}/One.mp3`, 10);
    await write(`${dir}/Two.mp3`, 20);
    // spotDL's playlist file lists One (album artist, title, Spotify's duration), not Two.
    await Deno.writeTextFile(
      `${dir}/dlbot-order.m3u8`,
      "#EXTM3U\n#EXTINF:181,Album Artist - One\nOne.mp3\n",
    );
    assertEquals((await inspectOutput(dir, { ffprobe, measureListed: false })).files, [
      { name: "One.mp3", size: 10, durationSeconds: 181, title: "Album Artist - One" },
      { name: "Two.mp3", size: 20, durationSeconds: 200.25, title: "Tag Artist - Tag Title" },
    ]);
    assertEquals(
      (await inspectOutput(dir, { ffprobe })).files[0],
      { name: "One.mp3", size: 10, durationSeconds: 100.5, title: "Album Artist - One" },
      "measured by default: the tags name the performer best",
    );
  });
});
