/**
 * A full disk: new downloads are refused with "the server is out of space", commands that write
 * nothing keep working, /readyz says why, the admins are told once, and it all ends by itself
 * once space is freed.
 */
import { assertEquals, assertStringIncludes } from "../_assert.ts";
import { ADMIN, ALICE, PLAYLIST, startTestBot } from "./_harness.ts";

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
