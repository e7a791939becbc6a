/**
 * A full disk: new downloads are refused with "the server is out of space", commands that write
 * nothing keep working, /readyz says why, the admins are told once, and it all ends by itself
 * once space is freed. A download that fills the disk is stopped at its first failed write, and
 * its partial files go, so the space comes back.
 */
import { assert, assertEquals, assertStringIncludes } from "../_assert.ts";
import { exists } from "../_test_utils.ts";
import { runCli } from "../cli/_spawn.ts";
import { ADMIN, ALICE, jobIdFrom, PLAYLIST, startTestBot } from "./_harness.ts";

Deno.test("below storage.min_free_mb downloads are refused and the bot recovers once space is freed", async () => {
  const disk = { free: 5_000_000_000, total: 10_000_000_000 };
  const bot = await startTestBot({ disk: () => Promise.resolve({ ...disk }) });
  try {
    bot.emulator.sendText(ADMIN, "/start");
    await bot.emulator.waitForBotMessage(ADMIN.id, /^Hi Ada/);
    disk.free = 100_000_000; // the disk fills up
    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    const refused = await bot.emulator.waitForBotMessage(ALICE.id, /out of space/);
    assertStringIncludes(refused.text ?? "", "The server is out of space right now");
    bot.emulator.sendText(ALICE, "/help");
    await bot.emulator.waitForBotMessage(ALICE.id, /^dlbot downloads music/);
    const alert = await bot.emulator.waitForBotMessage(ADMIN.id, /disk has 100 MB free/);
    assertStringIncludes(alert.text ?? "", "storage.min_free_mb");
    const ready = await fetch(`${bot.httpBase}/readyz`);
    assertEquals(ready.status, 503);
    const body = await ready.json();
    assertStringIncludes(body.checks.disk.message, "100 MB free");

    disk.free = 5_000_000_000;
    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    const summary = await bot.emulator.waitForBotMessage(ALICE.id, /\d+ downloaded/, {
      timeoutMs: 15_000,
    });
    assertStringIncludes(summary.text ?? "", "downloaded");
    const again = await fetch(`${bot.httpBase}/readyz`);
    assertEquals(again.status, 200);
    await again.body?.cancel();
  } finally {
    await bot.close();
  }
});

Deno.test("a download that fills the disk is stopped, its partial files removed, and the user and admins told", async () => {
  const runs = await Deno.makeTempFile({ prefix: "dlbot-runs-" });
  const bot = await startTestBot({
    downloaderEnv: {
      FAKE_SPOTDL_TRACKS: "6",
      FAKE_SPOTDL_DISK_FULL_AFTER: "1",
      FAKE_SPOTDL_DELAY: "0.1",
      FAKE_SPOTDL_RUNSFILE: runs,
    },
  });
  try {
    bot.emulator.sendText(ADMIN, "/start");
    await bot.emulator.waitForBotMessage(ADMIN.id, /^Hi Ada/);
    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    const summary = await bot.emulator.waitForBotMessage(ALICE.id, /disk space/, {
      timeoutMs: 15_000,
    });
    assertStringIncludes(
      summary.text ?? "",
      "The server ran out of disk space during this download",
    );
    const jobId = jobIdFrom(summary);
    assert(!(await exists(`${bot.dataDir}/downloads/${jobId}`)), "the partial files are gone");
    assertEquals(
      (await Deno.readTextFile(runs)).trim().split("\n"),
      ["Artist One - Song One"],
      "the download stopped at the first song the disk could not take",
    );
    const alert = await bot.emulator.waitForBotMessage(ADMIN.id, /disk filled up/);
    assertStringIncludes(alert.text ?? "", "storage.min_free_mb");
    bot.emulator.sendText(ALICE, "/help");
    await bot.emulator.waitForBotMessage(ALICE.id, /^dlbot downloads music/);
  } finally {
    await bot.close();
    await Deno.remove(runs);
  }
});

/** Mounts a tmpfs of `mb` megabytes (needs root); the reason as a string when it cannot. */
async function smallDisk(mb: number): Promise<{ path: string; unmount(): Promise<void> } | string> {
  const path = await Deno.makeTempDir({ prefix: "dlbot-fulldisk-" });
  const mount = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${mb}m`, "tmpfs", path],
    stdout: "null",
    stderr: "piped",
  }).output().catch((error) => ({
    success: false,
    stderr: new TextEncoder().encode(String(error)),
  }));
  if (!mount.success) {
    await Deno.remove(path);
    return `mount failed: ${new TextDecoder().decode(mount.stderr).trim()}`;
  }
  return {
    path,
    async unmount() {
      await new Deno.Command("umount", { args: [path] }).output();
      await Deno.remove(path);
    },
  };
}

/** Whether this machine lets the tests mount a tmpfs (root); the reason when it does not. */
const probe = await smallDisk(1);
const ignore = typeof probe === "string";
if (typeof probe === "string") console.warn(`skipping the real full-disk tests: ${probe}`);
else await probe.unmount();

/** The bot on the small disk, with a floor of 1 MB free. */
function botOnSmallDisk(path: string, downloaderEnv: Record<string, string>) {
  return startTestBot({
    dataDir: path,
    downloaderEnv,
    diskCacheMs: 200,
    config: (base) => ({ ...base, storage: { ...base.storage, min_free_mb: 1 } }),
  });
}

/** Fills the disk with one file until writing fails. */
async function fill(path: string): Promise<string> {
  const filler = `${path}/filler`;
  await new Deno.Command("dd", {
    args: ["if=/dev/zero", `of=${filler}`, "bs=64k"],
    stdout: "null",
    stderr: "null",
  }).output();
  return filler;
}

Deno.test({
  name:
    "a real full disk (a 4 MB tmpfs): commands work, downloads are refused, and it ends once space is freed",
  ignore,
  fn: async () => {
    const disk = await smallDisk(4);
    if (typeof disk === "string") throw new Error(disk);
    const bot = await botOnSmallDisk(disk.path, {});
    try {
      const filler = await fill(disk.path);
      bot.emulator.sendText(ALICE, "/help");
      await bot.emulator.waitForBotMessage(ALICE.id, /^dlbot downloads music/);
      bot.emulator.sendText(ALICE, "/status");
      await bot.emulator.waitForBotMessage(ALICE.id, /no jobs|No jobs|jobs yet/i);
      bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
      await bot.emulator.waitForBotMessage(ALICE.id, /The server is out of space right now/);
      await bot.emulator.waitFor(async () => {
        const ready = await fetch(`${bot.httpBase}/readyz`);
        const body = await ready.json();
        return (ready.status === 503 && /free/.test(body.checks.disk.message)) || undefined;
      }, { intervalMs: 500, timeoutMs: 20_000, message: "/readyz reports the full disk" });

      await Deno.remove(filler);
      await bot.emulator.waitFor(async () => {
        const ready = await fetch(`${bot.httpBase}/readyz`);
        await ready.body?.cancel();
        return ready.status === 200 || undefined;
      }, { intervalMs: 500, timeoutMs: 20_000, message: "/readyz sees the space again" });
      bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
      const summary = await bot.emulator.waitForBotMessage(ALICE.id, /3 downloaded/, {
        timeoutMs: 15_000,
      });
      assertStringIncludes(summary.text ?? "", "✅");
    } finally {
      await bot.close();
      await disk.unmount();
    }
  },
});

Deno.test({
  name: "a real full disk (a 4 MB tmpfs): a download that fills it stops and gives the space back",
  ignore,
  fn: async () => {
    const disk = await smallDisk(4);
    if (typeof disk === "string") throw new Error(disk);
    const bot = await botOnSmallDisk(disk.path, {
      FAKE_SPOTDL_TRACKS: "8",
      FAKE_SPOTDL_BYTES: "1000000",
    });
    try {
      bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
      const summary = await bot.emulator.waitForBotMessage(ALICE.id, /disk space/, {
        timeoutMs: 15_000,
      });
      const jobId = jobIdFrom(summary);
      assert(!(await exists(`${disk.path}/downloads/${jobId}`)), "the partial files are gone");
      bot.emulator.sendText(ALICE, "/help");
      await bot.emulator.waitForBotMessage(ALICE.id, /^dlbot downloads music/);
    } finally {
      await bot.close();
      await disk.unmount();
    }
  },
});

Deno.test({
  name: "a bot started on a real full disk says so in one line and exits 1",
  ignore,
  fn: async () => {
    const disk = await smallDisk(1);
    if (typeof disk === "string") throw new Error(disk);
    try {
      await fill(disk.path);
      const run = await runCli(["run"], {
        env: {
          TELEGRAM_BOT_TOKEN: "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi",
          TELEGRAM_ALLOWED_USER_IDS: String(ALICE.id),
          TELEGRAM_API_ROOT: "http://127.0.0.1:2",
          DLBOT_DATA_DIR: disk.path,
          DLBOT_HTTP_LISTEN: "127.0.0.1:0",
        },
      });
      assertEquals(run.code, 1, run.stderr);
      assertStringIncludes(run.stderr, `cannot open the KV store at ${disk.path}/dlbot.kv`);
      assertStringIncludes(run.stderr, "is its disk full?");
      assertEquals(/^\s+at /m.test(run.stderr), false, `no stack trace:\n${run.stderr}`);
    } finally {
      await disk.unmount();
    }
  },
});
