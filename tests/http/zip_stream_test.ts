/**
 * The streamed zip against a real unzip: every entry byte-identical, the length promised up
 * front exact, names in UTF-8 and the order kept.
 */
import { assertEquals, assertRejects } from "../_assert.ts";
import { tempDir } from "../_test_utils.ts";
import {
  type ZipEntry,
  zipLength,
  zipStream,
  ZipTooLargeError,
} from "../../src/http/zip_stream.ts";

async function unzip(args: string[]): Promise<{ code: number; stdout: Uint8Array }> {
  const out = await new Deno.Command("unzip", { args, stdout: "piped", stderr: "piped" }).output();
  return { code: out.code, stdout: out.stdout };
}

Deno.test("a streamed zip unzips to the same bytes, in order, with the length said up front", async () => {
  await using dir = await tempDir();
  const files: ZipEntry[] = [];
  for (
    const [i, name] of ["02 - Zwei.mp3", "01 - Beyoncé – Café.mp3", "sub/03 - Three.mp3"].entries()
  ) {
    const bytes = new Uint8Array(100_000 + i * 70_001).map((_, j) => (j * 31 + i * 7) % 251);
    await Deno.mkdir(dir.join("src/sub"), { recursive: true });
    await Deno.writeFile(dir.join(`src/${name}`), bytes);
    files.push({ name, path: dir.join(`src/${name}`), size: bytes.length });
  }
  const playlist = new TextEncoder().encode("#EXTM3U\n");
  files.push({ name: "playlist.m3u8", data: playlist, size: playlist.length });
  files.push({ name: "empty.txt", data: new Uint8Array(), size: 0 });

  const zip = new Uint8Array(await new Response(zipStream(files)).arrayBuffer());
  assertEquals(zip.length, zipLength(files));
  await Deno.writeFile(dir.join("all.zip"), zip);
  assertEquals((await unzip(["-tq", dir.join("all.zip")])).code, 0, "unzip finds no error");
  const listing = new TextDecoder().decode((await unzip(["-Z1", dir.join("all.zip")])).stdout);
  assertEquals(listing.trim().split("\n"), files.map((f) => f.name));
  for (const file of files) {
    const { stdout } = await unzip(["-p", dir.join("all.zip"), file.name]);
    const expected = file.data ?? await Deno.readFile(file.path ?? "");
    assertEquals(stdout, expected, file.name);
  }
});

Deno.test("a file that changed size after the length was promised fails the stream", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(dir.join("a.mp3"), new Uint8Array(10));
  const stream = zipStream([{ name: "a.mp3", path: dir.join("a.mp3"), size: 20 }]);
  await assertRejects(() => new Response(stream).arrayBuffer(), Error, "shrank");
});

Deno.test("an archive over 4 GiB is refused before anything is sent", () => {
  const huge = [{ name: "a", size: 3 * 2 ** 30 }, { name: "b", size: 2 ** 30 + 1 }];
  let error: unknown;
  try {
    zipLength(huge);
  } catch (e) {
    error = e;
  }
  assertEquals(error instanceof ZipTooLargeError, true);
});
