/**
 * The queue as users see it, through the whole app: positions in the status message, first come
 * first served under `jobs.max_concurrent`, the per-user limit and a full queue.
 *
 * Downloads wait at a gate (a wrapper around the fake spotDL that starts it once a file exists),
 * so which jobs are running or queued at each step does not depend on timing.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../_assert.ts";
import type { ConfigInput } from "../../src/config/schema.ts";
import type { SimulatedUser } from "../../src/emulator/mod.ts";
import {
  ADMIN,
  ALICE,
  BOB,
  FAKE_SPOTDL,
  jobIdFrom,
  PLAYLIST,
  startTestBot,
  TRACK,
  withCancelButton,
} from "./_harness.ts";

const ALBUM = "https://open.spotify.com/album/1DFixLWuPkv3KT3TnV35m3";

/** A downloader that waits until `open()` before running the fake spotDL. */
async function gatedDownloader() {
  const dir = await Deno.makeTempDir({ prefix: "dlbot-e2e-gate-" });
  const gate = `${dir}/open`;
  const command = `${dir}/gated_spotdl`;
  await Deno.writeTextFile(
    command,
    `#!/usr/bin/env bash\nwhile [ ! -e '${gate}' ]; do sleep 0.05; done\nexec '${FAKE_SPOTDL}' "$@"\n`,
  );
  await Deno.chmod(command, 0o755);
  return {
    command,
    open: () => Deno.writeTextFile(gate, ""),
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}

function withJobs(
  jobs: Partial<NonNullable<ConfigInput["jobs"]>>,
  command: string,
): (base: ConfigInput) => ConfigInput {
  return (base) => ({
    ...base,
    telegram: { ...base.telegram, allowed_user_ids: [ALICE.id, BOB.id] },
    downloader: { ...base.downloader, command },
    jobs: { ...base.jobs, ...jobs },
  });
}

Deno.test("with one download slot, later users see their queue position and jobs run in the order they were sent", async () => {
  const gate = await gatedDownloader();
  const bot = await startTestBot({
    downloaderEnv: { FAKE_SPOTDL_TRACKS: "1" },
    config: withJobs({ max_concurrent: 1 }, gate.command),
  });
  try {
    const send = async (user: SimulatedUser, link: string) => {
      bot.emulator.sendText(user, `/download ${link}`);
      return await bot.emulator.waitForBotMessage(user.id, /Job [a-z0-9]{6,32}/);
    };
    const first = await send(ALICE, PLAYLIST);
    await bot.emulator.waitFor(
      () =>
        bot.emulator.chat(ALICE.id).find((m) =>
          m.messageId === first.messageId && /Downloading/.test(m.text ?? "")
        ),
      { message: "Alice's job running" },
    );
    const second = await send(BOB, ALBUM);
    const third = await send(ADMIN, TRACK);
    assertMatch(second.text ?? "", /is queued \(position 1\)\./);
    assertMatch(third.text ?? "", /is queued \(position 2\)\./);
    await withCancelButton(bot, second);

    bot.emulator.sendText(ADMIN, `/status ${jobIdFrom(third)}`);
    const queuedStatus = await bot.emulator.waitForBotMessage(ADMIN.id, /queued/, {
      after: third.messageId,
    });
    assertStringIncludes(queuedStatus.text ?? "", "position 2");

    await gate.open();
    // Summaries in the order the emulator answered them (its call log records every call).
    const summaries = () =>
      bot.emulator.callsTo("sendMessage")
        .map((call) => String(call.params.text))
        .filter((text) => /^✅ .* downloaded · /s.test(text))
        .map((text) => /<code>([a-z0-9]+)<\/code>/.exec(text)?.[1]);
    const finished = await bot.emulator.waitFor(
      () => summaries().length === 3 && summaries(),
      { timeoutMs: 15_000, intervalMs: 50, message: "three summaries" },
    );
    assertEquals(
      finished,
      [first, second, third].map(jobIdFrom),
      "one slot: each job finished before the next one's summary, in the order they were sent",
    );
    const thirdEdits = bot.emulator.callsTo("editMessageText")
      .filter((call) =>
        Number(call.params.chat_id) === ADMIN.id &&
        Number(call.params.message_id) === third.messageId
      )
      .map((call) => String(call.params.text));
    assert(
      thirdEdits.some((text) => /is queued \(position 1\)/.test(text)),
      `the third job's status moved up to position 1 when the first started: ${
        JSON.stringify(thirdEdits)
      }`,
    );
  } finally {
    await bot.close();
    await gate.remove();
  }
});

Deno.test("a user at jobs.max_active_per_user is told to wait, and others can still download", async () => {
  const gate = await gatedDownloader();
  const bot = await startTestBot({
    config: withJobs({ max_active_per_user: 1 }, gate.command),
  });
  try {
    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    const first = await bot.emulator.waitForBotMessage(ALICE.id, /Job [a-z0-9]{6,32}/);
    bot.emulator.sendText(ALICE, `/download ${ALBUM}`);
    const refused = await bot.emulator.waitForBotMessage(ALICE.id, /already have/, {
      after: first.messageId,
    });
    assertStringIncludes(refused.text ?? "", "queued or running");
    assertStringIncludes(refused.text ?? "", "/cancel");

    bot.emulator.sendText(BOB, `/download ${ALBUM}`);
    const bobs = await bot.emulator.waitForBotMessage(BOB.id, /Job [a-z0-9]{6,32}/);
    assertMatch(bobs.text ?? "", /queued|Downloading/);

    bot.emulator.sendText(ALICE, "/status");
    const list = await bot.emulator.waitForBotMessage(ALICE.id, /recent jobs/);
    assertEquals((list.rawText ?? "").match(/<code>/g)?.length, 1, "Alice has one job only");
  } finally {
    await bot.close();
    await gate.remove();
  }
});

Deno.test("when the queue is full a new download is refused with a busy message and no job", async () => {
  const gate = await gatedDownloader();
  const bot = await startTestBot({
    config: withJobs({ max_concurrent: 1, max_queue_length: 1 }, gate.command),
  });
  try {
    bot.emulator.sendText(ALICE, `/download ${PLAYLIST}`);
    const running = await bot.emulator.waitForBotMessage(ALICE.id, /Job [a-z0-9]{6,32}/);
    await bot.emulator.waitFor(
      () =>
        bot.emulator.chat(ALICE.id).find((m) =>
          m.messageId === running.messageId && /Downloading/.test(m.text ?? "")
        ),
      { message: "Alice's job running" },
    );
    bot.emulator.sendText(BOB, `/download ${ALBUM}`);
    const queued = await bot.emulator.waitForBotMessage(BOB.id, /Job [a-z0-9]{6,32}/);
    assertMatch(queued.text ?? "", /queued \(position 1\)/);

    bot.emulator.sendText(ADMIN, `/download ${TRACK}`);
    const busy = await bot.emulator.waitForBotMessage(ADMIN.id, /busy/);
    assertStringIncludes(busy.text ?? "", "try again in a few minutes");
    bot.emulator.sendText(ADMIN, "/status");
    const none = await bot.emulator.waitForBotMessage(ADMIN.id, /recent jobs|no jobs/, {
      after: busy.messageId,
    });
    assertEquals(none.rawText?.includes("track"), false, "no job was created for the refused link");
  } finally {
    await bot.close();
    await gate.remove();
  }
});
