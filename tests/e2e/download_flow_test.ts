import { assert, assertEquals, assertMatch, assertStringIncludes } from "../_assert.ts";
import {
  ALICE,
  BOB,
  fileLinksIn,
  jobIdFrom,
  localUrl,
  MALLORY,
  PLAYLIST,
  startTestBot,
  TRACK,
  withCancelButton,
} from "./_harness.ts";
import { exists, withShortLinkServer } from "../_test_utils.ts";
import { recordingLogger } from "../_fixtures.ts";
import type { ChatMessage } from "../../src/emulator/mod.ts";

const ALBUM_ID = "4aawyAB9vmqN3uQ7FjRGTy";

const JOB_ID = /job [a-z0-9]{6,32}/i;

Deno.test("a playlist download shows progress, then a summary whose signed link serves the file", async () => {
  const bot = await startTestBot({ downloaderEnv: { FAKE_SPOTDL_TRACKS: "3" } });
  try {
    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    const status = await withCancelButton(
      bot,
      await bot.emulator.waitForBotMessage(ALICE.id, /queued|Downloading/),
    );
    const jobId = jobIdFrom(status.rawText);

    const summary = await bot.emulator.waitForBotMessage(ALICE.id, /✅/, {
      after: status.messageId,
      timeoutMs: 20_000,
    });
    assertStringIncludes(summary.text ?? "", "3 tracks");
    const statusAfter = bot.emulator.chat(ALICE.id).find((m) => m.messageId === status.messageId)!;
    assert(statusAfter.editCount >= 1, "the status message was edited with progress");
    assertEquals(statusAfter.replyMarkup?.inline_keyboard.length ?? 0, 0, "Cancel button removed");

    const links = fileLinksIn(summary);
    assertEquals(links.length, 3, `three links in ${summary.rawText}`);
    const url = localUrl(bot, links[0]!.replaceAll("&amp;", "&"));
    assertStringIncludes(url, `/files/${jobId}/`);
    const response = await fetch(url);
    assertEquals(response.status, 200);
    const body = new Uint8Array(await response.arrayBuffer());
    const name = decodeURIComponent(new URL(url).pathname.split("/").pop()!);
    const onDisk = await Deno.readFile(`${bot.dataDir}/downloads/${jobId}/${name}`);
    assertEquals(body, onDisk);

    const tampered = url.replace(/sig=[^&]+/, "sig=" + "A".repeat(43));
    const forbidden = await fetch(tampered);
    await forbidden.body?.cancel();
    assertEquals(forbidden.status, 403);
  } finally {
    await bot.close();
  }
});

Deno.test("an outsider gets one refusal with their id and no job is created", async () => {
  const bot = await startTestBot();
  try {
    bot.emulator.sendText(MALLORY, `/download ${PLAYLIST}`);
    const refusal = await bot.emulator.waitForBotMessage(MALLORY.id, /private/);
    assertStringIncludes(refusal.text ?? "", String(MALLORY.id));
    bot.emulator.sendText(MALLORY, "/status");
    bot.emulator.sendText(MALLORY, "/help");
    const answered = bot.emulator.calls.length;
    bot.emulator.sendText(ALICE, "/status");
    await bot.emulator.waitForBotMessage(ALICE.id, /no jobs/);
    assert(bot.emulator.calls.length > answered);
    const toMallory = bot.emulator.botMessages(MALLORY.id);
    assertEquals(toMallory.length, 1, "one refusal a day, as the README promises");
    for (const message of toMallory) assertStringIncludes(message.text ?? "", "private");
    assertEquals(
      bot.emulator.callsTo("sendMessage").filter((c) => String(c.params.text).includes("queued"))
        .length,
      0,
    );
  } finally {
    await bot.close();
  }
});

Deno.test("the same link twice returns the same job; /status lists it; others cannot see it", async () => {
  const bot = await startTestBot({ downloaderEnv: { FAKE_SPOTDL_DELAY: "0.3" } });
  try {
    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    const first = await bot.emulator.waitForBotMessage(ALICE.id, JOB_ID);
    const jobId = jobIdFrom(first.rawText);
    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}?si=abc`);
    const second = await bot.emulator.waitForBotMessage(ALICE.id, /already asked/);
    assertEquals(jobIdFrom(second.rawText), jobId);

    bot.emulator.sendText(ALICE, "/status");
    const list = await bot.emulator.waitForBotMessage(ALICE.id, /recent jobs/);
    assertStringIncludes(list.rawText ?? "", jobId);

    bot.emulator.sendText(BOB, `/status ${jobId}`);
    const hidden = await bot.emulator.waitForBotMessage(BOB.id, /No job with id/);
    assertStringIncludes(hidden.text ?? "", jobId);
    bot.emulator.sendText(BOB, `/cancel ${jobId}`);
    await bot.emulator.waitFor(() => bot.emulator.botMessages(BOB.id).length === 2);
    assertMatch(bot.emulator.botMessages(BOB.id)[1]!.text ?? "", /No job with id/);
  } finally {
    await bot.close();
  }
});

Deno.test("cancel from the button stops the download and removes its files", async () => {
  const bot = await startTestBot({ downloaderEnv: { FAKE_SPOTDL_MODE: "hang" } });
  try {
    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    const status = await withCancelButton(
      bot,
      await bot.emulator.waitForBotMessage(ALICE.id, /Downloading/),
    );
    const jobId = jobIdFrom(status.rawText);
    const button = status.replyMarkup!.inline_keyboard[0]![0]! as { callback_data?: string };
    bot.emulator.pressButton(
      ALICE,
      { chatId: ALICE.id, messageId: status.messageId },
      button.callback_data!,
    );
    await bot.emulator.waitForBotMessage(ALICE.id, /cancelled/i, { timeoutMs: 15_000 });
    const dir = `${bot.dataDir}/downloads/${jobId}`;
    await bot.emulator.waitFor(async () => !(await exists(dir)) || undefined, { intervalMs: 50 });
    bot.emulator.sendText(ALICE, `/status ${jobId}`);
    await bot.emulator.waitForBotMessage(ALICE.id, /🚫/);
  } finally {
    await bot.close();
  }
});

Deno.test("bad input gets a clear answer: malformed link, unknown job id, missing argument", async () => {
  const bot = await startTestBot();
  try {
    bot.emulator.sendText(ALICE, "/download https://example.com/song.mp3");
    const bad = await bot.emulator.waitForBotMessage(ALICE.id, /Only Spotify links/);
    assertStringIncludes(bad.text ?? "", "https://open.spotify.com/album/");
    bot.emulator.sendText(ALICE, "/download");
    await bot.emulator.waitForBotMessage(ALICE.id, /Send the link after the command/);
    bot.emulator.sendText(ALICE, "/status zzzzzzzz");
    await bot.emulator.waitForBotMessage(ALICE.id, /No job with id zzzzzzzz/);
    bot.emulator.sendText(ALICE, "/cancel ../../etc");
    await bot.emulator.waitForBotMessage(ALICE.id, /No job with id/);
    bot.emulator.sendText(ALICE, "/cancel");
    await bot.emulator.waitForBotMessage(ALICE.id, /Which job/);
    bot.emulator.sendText(ALICE, "/frobnicate");
    await bot.emulator.waitForBotMessage(ALICE.id, /don't know that command/);
  } finally {
    await bot.close();
  }
});

Deno.test("a pasted link without /download starts a job, and a single track arrives as audio", async () => {
  const bot = await startTestBot({ downloaderEnv: { FAKE_SPOTDL_MODE: "single" } });
  try {
    bot.emulator.sendText(ALICE, TRACK);
    const status = await bot.emulator.waitForBotMessage(ALICE.id, JOB_ID);
    await bot.emulator.waitForBotMessage(ALICE.id, /✅/, {
      after: status.messageId,
      timeoutMs: 20_000,
    });
    const audio = await bot.emulator.waitFor(() =>
      bot.emulator.botMessages(ALICE.id).find((m) => m.audio)
    );
    assertMatch(audio.audio?.fileName ?? "", /\.mp3$/);
  } finally {
    await bot.close();
  }
});

Deno.test("a shared sentence with a link starts a job; two links start two jobs", async () => {
  const bot = await startTestBot({ downloaderEnv: { FAKE_SPOTDL_TRACKS: "1" } });
  try {
    bot.emulator.sendText(ALICE, `Listen to this on Spotify: ${PLAYLIST}?si=abc`);
    const first = await bot.emulator.waitForBotMessage(ALICE.id, /Job [a-z0-9]+/);
    await bot.emulator.waitForBotMessage(ALICE.id, /✅/, { after: first.messageId });

    bot.emulator.sendText(
      BOB,
      `these two: ${TRACK} and https://open.spotify.com/album/${ALBUM_ID}`,
    );
    const a = await bot.emulator.waitForBotMessage(BOB.id, /Job [a-z0-9]+/);
    const b = await bot.emulator.waitForBotMessage(BOB.id, /Job [a-z0-9]+/, {
      after: a.messageId,
    });
    assert(jobIdFrom(a) !== jobIdFrom(b), "two jobs");
  } finally {
    await bot.close();
  }
});

Deno.test("a spotify.link short link is followed to open.spotify.com; one leading elsewhere is refused", async () => {
  await withShortLinkServer(async (base) => {
    const bot = await startTestBot({
      downloaderEnv: { FAKE_SPOTDL_TRACKS: "1" },
      config: (c) => ({ ...c, links: { short_link_base: base } }),
    });
    try {
      bot.emulator.sendText(ALICE, "https://spotify.link/good");
      const status = await bot.emulator.waitForBotMessage(ALICE.id, /Job [a-z0-9]+/);
      const summary = await bot.emulator.waitForBotMessage(ALICE.id, /✅/, {
        after: status.messageId,
      });
      assertStringIncludes(summary.text ?? "", "1 downloaded");

      bot.emulator.sendText(ALICE, "https://spotify.link/evil");
      const refusal = await bot.emulator.waitForBotMessage(ALICE.id, /Spotify page/, {
        after: summary.messageId,
      });
      assertStringIncludes(refusal.text ?? "", "That short link does not lead to a Spotify page.");
    } finally {
      await bot.close();
    }
  });
});

Deno.test("an update with a non-string text is dropped and the bot keeps answering", async () => {
  const { logger, records } = recordingLogger();
  const bot = await startTestBot({ logger });
  try {
    const chat = { id: ALICE.id, type: "private", first_name: ALICE.first_name };
    bot.emulator.sendRawUpdate({
      message: { message_id: 900, date: 0, chat, from: { ...ALICE, is_bot: false }, text: 42 },
    });
    bot.emulator.sendRawUpdate({
      message: {
        message_id: 901,
        date: 0,
        chat,
        from: { ...ALICE, is_bot: false },
        text: ["/help"],
      },
    });
    bot.emulator.sendText(ALICE, "/help");
    const help = await bot.emulator.waitForBotMessage(ALICE.id, /downloads music/);
    const said = bot.emulator.botMessages(ALICE.id);
    assertEquals(said.length, 1, said.map((m) => m.text).join("\n"));
    assertEquals(said[0]?.messageId, help.messageId, "no 'something went wrong' before it");
    assertEquals(records.filter((r) => r.level === "error").map((r) => r.message), []);
    assertEquals(records.filter((r) => r.message === "dropped a malformed update").length, 2);
  } finally {
    await bot.close();
  }
});

Deno.test("asking for a running download again moves its status to the new message: the old one loses its button", async () => {
  const bot = await startTestBot({ downloaderEnv: { FAKE_SPOTDL_MODE: "hang" } });
  try {
    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    const first = await bot.emulator.waitForBotMessage(ALICE.id, /Downloading/);
    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    const second = await bot.emulator.waitForBotMessage(ALICE.id, /You already asked/, {
      after: first.messageId,
    });
    assertEquals(jobIdFrom(second.rawText), jobIdFrom(first.rawText));
    const old = await bot.emulator.waitFor(() => {
      const now = bot.emulator.chat(ALICE.id).find((m) => m.messageId === first.messageId);
      return /newer message below/.test(now?.text ?? "") ? now : undefined;
    }, { intervalMs: 20, message: "the first status message points at the new one" });
    assertEquals(old.replyMarkup, undefined, "no Cancel button left on the old message");
  } finally {
    await bot.close();
  }
});

Deno.test("a copy of the status message left by a lost answer has no button, the job's own one loses it at the end", async () => {
  const bot = await startTestBot({ downloaderEnv: { FAKE_SPOTDL_TRACKS: "2" } });
  try {
    bot.emulator.sendText(ALICE, "/start");
    await bot.emulator.waitForBotMessage(ALICE.id, /^Hi Alice/);
    // The status message arrives, its answer does not: the bot sends it once more.
    bot.emulator.injectFaults({ method: "sendMessage", kind: "drop_response", times: 1 });
    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    await bot.emulator.waitForBotMessage(ALICE.id, /2 downloaded/, { timeoutMs: 15_000 });
    const isStatus = (m: ChatMessage) => /^(⏳|⬇️|✅ Finished)/u.test(m.text ?? "");
    const [lost, kept] = await bot.emulator.waitFor(() => {
      const copies = bot.emulator.botMessages(ALICE.id).filter(isStatus);
      return copies.length === 2 && /✅ Finished/.test(copies[1]?.text ?? "") ? copies : undefined;
    }, {
      intervalMs: 10,
      message: "the status message went out twice, the kept one shows the end",
    });
    assertEquals(lost?.editCount, 0, "the lost one is never edited");
    assertEquals(lost?.replyMarkup, undefined, "and has no button");
    assertEquals(kept?.replyMarkup, undefined);
  } finally {
    await bot.close();
  }
});

Deno.test("a track asked for again comes back as audio by its file id: no second upload", async () => {
  const bot = await startTestBot();
  try {
    bot.emulator.sendText(ALICE, `/download ${TRACK}`);
    await bot.emulator.waitFor(
      () => bot.emulator.callsTo("sendAudio").filter((c) => c.ok).length === 1 || undefined,
      { intervalMs: 20, timeoutMs: 15_000, message: "the track uploaded" },
    );
    bot.emulator.sendText(ALICE, `/download ${TRACK}`);
    await bot.emulator.waitForBotMessage(ALICE.id, /downloaded this recently/);
    const sends = await bot.emulator.waitFor(() => {
      const calls = bot.emulator.callsTo("sendAudio").filter((c) => c.ok);
      return calls.length === 2 ? calls : undefined;
    }, { intervalMs: 20, message: "the audio sent again" });
    assert(typeof sends[0]!.params.audio === "object", "the first time it was uploaded");
    assertEquals(typeof sends[1]!.params.audio, "string", "the second time only its file id");
    const audio = bot.emulator.botMessages(ALICE.id).filter((m) => m.audio !== undefined);
    assertEquals(audio.length, 2);
    assertEquals(audio[1]?.audio?.fileId, audio[0]?.audio?.fileId);
  } finally {
    await bot.close();
  }
});

Deno.test("a list someone downloaded before starts with its songs: the downloader fetches none of them again", async () => {
  const runs = await Deno.makeTempFile();
  const bot = await startTestBot({ downloaderEnv: { FAKE_SPOTDL_RUNSFILE: runs } });
  try {
    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    const first = await bot.emulator.waitForBotMessage(ALICE.id, /3 downloaded/, {
      timeoutMs: 15_000,
    });
    assertEquals((await Deno.readTextFile(runs)).trim().split("\n").length, 3);
    bot.emulator.sendText(BOB, `/download ${PLAYLIST}`);
    const second = await bot.emulator.waitForBotMessage(BOB.id, /3 downloaded/, {
      timeoutMs: 15_000,
    });
    assertStringIncludes(second.text ?? "", "3 downloaded · 0 skipped");
    assertEquals(
      (await Deno.readTextFile(runs)).trim().split("\n").length,
      3,
      "Bob's job downloaded nothing again",
    );
    const name = "Artist Two - Song Two.mp3";
    const [a, b] = await Promise.all([
      Deno.stat(`${bot.dataDir}/downloads/${jobIdFrom(first)}/${name}`),
      Deno.stat(`${bot.dataDir}/downloads/${jobIdFrom(second)}/${name}`),
    ]);
    assertEquals(b.ino, a.ino, "one file on disk for both");
  } finally {
    await bot.close();
    await Deno.remove(runs);
  }
});
