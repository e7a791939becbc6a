/** Placing a file in the library never overwrites a different one; the same file is kept. */
import { assertEquals } from "../_assert.ts";
import { tempDir } from "../_test_utils.ts";
import { libraryDirProblem, placeFile } from "../../src/library/drop.ts";

const WHERE = { artist: "AC/DC", album: ".Hidden Album", number: 3, title: "Back in Black" };

Deno.test("placeFile() keeps an identical file and never overwrites a different one", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(dir.join("a.mp3"), "first");
  await Deno.writeTextFile(dir.join("b.mp3"), "second");
  const root = dir.join("library");
  const first = await placeFile(dir.join("a.mp3"), root, WHERE, "mp3");
  assertEquals(first, `${root}/AC DC/Hidden Album/03 - Back in Black.mp3`, "safe segments");
  assertEquals(await placeFile(dir.join("a.mp3"), root, WHERE, "mp3"), undefined, "already there");
  const other = await placeFile(dir.join("b.mp3"), root, WHERE, "mp3");
  assertEquals(other, `${root}/AC DC/Hidden Album/03 - Back in Black (2).mp3`);
  assertEquals(await Deno.readTextFile(first!), "first", "the first one is untouched");
});

Deno.test("check-config: a missing or unwritable library.dir is named", async () => {
  await using dir = await tempDir();
  assertEquals(await libraryDirProblem(dir.join("nope")), `${dir.join("nope")} does not exist`);
  await Deno.writeTextFile(dir.join("file"), "");
  assertEquals(await libraryDirProblem(dir.join("file")), `${dir.join("file")} is not a directory`);
  assertEquals(await libraryDirProblem(dir.path), undefined);
});
