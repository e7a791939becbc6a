/**
 * The library drop: a finished album's tracks are hard-linked into `library.dir` as
 * `<album artist>/<album>/<nn - title>.<ext>`, and a Subsonic server (here a local endpoint that
 * checks the request) is asked to rescan with token authentication.
 */
import { createHash } from "node:crypto";
import { assert, assertEquals } from "../_assert.ts";
import { tempDir } from "../_test_utils.ts";
import { ALICE, jobIdFrom, startTestBot } from "./_harness.ts";

const ALBUM = "https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy";
const PASSWORD = "library-password-1";

Deno.test("a finished album is placed in the library and the Subsonic server is asked to rescan", async () => {
  await using library = await tempDir();
  const scans: URLSearchParams[] = [];
  const subsonic = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (request) => {
    const url = new URL(request.url);
    if (url.pathname === "/rest/startScan.view") scans.push(url.searchParams);
    return Response.json({ "subsonic-response": { status: "ok", version: "1.16.1" } });
  });
  const bot = await startTestBot({
    config: (base) => ({
      ...base,
      library: {
        dir: library.path,
        subsonic_url: `http://127.0.0.1:${subsonic.addr.port}`,
        subsonic_user: "dlbot",
        subsonic_password: PASSWORD,
      },
    }),
  });
  try {
    bot.emulator.sendText(ALICE, `/download ${ALBUM}`);
    const summary = await bot.emulator.waitForBotMessage(ALICE.id, /3 downloaded/, {
      timeoutMs: 15_000,
    });
    const jobId = jobIdFrom(summary);
    const placed = library.join("Artist Two/Fake Playlist/02 - Song Two.mp3");
    await bot.emulator.waitFor(() => scans.length > 0 || undefined, {
      intervalMs: 20,
      message: "the rescan request",
    });
    const [own, inLibrary] = await Promise.all([
      Deno.stat(`${bot.dataDir}/downloads/${jobId}/Artist Two - Song Two.mp3`),
      Deno.stat(placed),
    ]);
    assertEquals(inLibrary.ino, own.ino, "a hard link, not a second copy");
    for (const n of ["01 - Song One", "03 - Song Three"]) {
      const artist = n.includes("One") ? "Artist One" : "Artist Three";
      assert((await Deno.stat(library.join(`${artist}/Fake Playlist/${n}.mp3`))).isFile, n);
    }
    const scan = scans[0]!;
    assertEquals([scan.get("u"), scan.get("v"), scan.get("c")], ["dlbot", "1.16.1", "dlbot"]);
    const salt = scan.get("s") ?? "";
    assert(salt.length >= 6, "a salt");
    assertEquals(scan.get("t"), createHash("md5").update(PASSWORD + salt).digest("hex"));
    assertEquals(scan.get("p"), null, "the password itself is never sent");
  } finally {
    await bot.close();
    await subsonic.shutdown();
  }
});
