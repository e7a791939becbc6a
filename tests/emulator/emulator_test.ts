import "../../src/runtime/quiet_node_warnings.ts";
import { Bot, GrammyError, HttpError, InlineKeyboard, InputFile } from "grammy";
import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "../_assert.ts";
import { withEmulator } from "../_test_utils.ts";
import { type EmulatorEvent, TelegramEmulator } from "../../src/emulator/emulator.ts";
import { ALICE } from "../_fixtures.ts";

const BOB = { id: 1002, first_name: "Bob" };

function botFor(emulator: TelegramEmulator, token = emulator.token): Bot {
  return new Bot(token, { client: { apiRoot: emulator.apiRoot } });
}

/** Runs `bot` with long polling during `fn`, then stops it cleanly. */
async function whileRunning(bot: Bot, fn: () => Promise<void>): Promise<void> {
  let started!: () => void;
  const ready = new Promise<void>((resolve) => (started = resolve));
  const running = bot.start({ onStart: () => started(), timeout: 30 });
  await ready;
  try {
    await fn();
  } finally {
    await bot.stop();
    await running;
  }
}

function apiError(call: Promise<unknown>): Promise<GrammyError> {
  return assertRejects(() => call, GrammyError);
}

Deno.test("a grammY bot answers /ping and the transcript shows the message, the reply and its edit", async () => {
  await withEmulator(async (emulator) => {
    const bot = botFor(emulator);
    bot.command("ping", async (ctx) => {
      const reply = await ctx.reply("pong", {
        reply_markup: new InlineKeyboard().text("Again", "again"),
      });
      await ctx.api.editMessageText(ctx.chat.id, reply.message_id, "pong!", {
        reply_markup: new InlineKeyboard().text("Again", "again"),
      });
    });
    await whileRunning(bot, async () => {
      emulator.sendText(ALICE, "/ping");
      await emulator.waitFor(() => emulator.botMessages(ALICE.id)[0]?.editCount === 1);
    });
    const [question, answer, ...rest] = emulator.chat(ALICE.id);
    assertEquals(rest, []);
    assertEquals(question?.from, "user");
    assertEquals(question?.text, "/ping");
    assertEquals(question?.entities, [{ type: "bot_command", offset: 0, length: 5 }]);
    assertEquals(answer?.from, "bot");
    assertEquals(answer?.text, "pong!");
    assertEquals(answer?.messageId, 2);
    assertEquals(answer?.editCount, 1);
    assertEquals(answer?.replyMarkup, {
      inline_keyboard: [[{ text: "Again", callback_data: "again" }]],
    });
    assertEquals(emulator.pendingUpdateCount, 0);
  });
});

Deno.test("a command addressed to the bot by username (/ping@botname) reaches the bot", async () => {
  await withEmulator(async (emulator) => {
    const bot = botFor(emulator);
    bot.command("ping", (ctx) => ctx.reply("pong"));
    await whileRunning(bot, async () => {
      const update = emulator.sendText(ALICE, `/ping@${emulator.botUser.username} now`);
      assertEquals(update.message?.entities, [{
        type: "bot_command",
        offset: 0,
        length: 5 + 1 + emulator.botUser.username.length,
      }]);
      await emulator.waitForBotMessage(ALICE.id, "pong");
    });
  });
});

Deno.test("sendMessage returns a real Message object from the bot in the private chat", async () => {
  await withEmulator(async (emulator) => {
    emulator.sendText(ALICE, "hello");
    const sent = await botFor(emulator).api.sendMessage(ALICE.id, "hi", {
      reply_parameters: { message_id: 1 },
    });
    assertEquals(sent.message_id, 2);
    assertEquals(sent.text, "hi");
    assertEquals(sent.chat, {
      id: ALICE.id,
      type: "private",
      first_name: "Alice",
      username: "alice",
    });
    assertEquals(sent.from?.id, emulator.botUser.id);
    assertEquals(sent.from?.is_bot, true);
    assertEquals(sent.reply_to_message?.text, "hello");
    assertEquals(emulator.chat(ALICE.id)[1]?.replyToMessageId, 1);
  });
});

Deno.test("getUpdates returns pending updates until a higher offset confirms them", async () => {
  await withEmulator(async (emulator) => {
    const api = botFor(emulator).api;
    const ids = ["one", "two", "three"].map((text) => emulator.sendText(ALICE, text).update_id);
    const all = await api.getUpdates();
    assertEquals(all.map((u) => u.message?.text), ["one", "two", "three"]);
    assertEquals((await api.getUpdates()).length, 3, "unconfirmed updates are delivered again");
    assertEquals((await api.getUpdates({ limit: 1 })).map((u) => u.update_id), [ids[0]]);
    const later = await api.getUpdates({ offset: ids[1] });
    assertEquals(later.map((u) => u.message?.text), ["two", "three"]);
    assertEquals(await api.getUpdates(), later, "older updates are gone once confirmed");
    assertEquals(await api.getUpdates({ offset: ids[2]! + 1 }), []);
    assertEquals(emulator.pendingUpdateCount, 0);
  });
});

Deno.test("a waiting long poll returns as soon as an update arrives", async () => {
  await withEmulator(async (emulator) => {
    const poll = botFor(emulator).api.getUpdates({ timeout: 30 });
    await emulator.waitFor(() => emulator.longPollWaiting);
    emulator.sendText(BOB, "wake up");
    const updates = await poll;
    assertEquals(updates.map((u) => u.message?.text), ["wake up"]);
  });
});

Deno.test("a second getUpdates terminates the waiting one with 409 Conflict", async () => {
  await withEmulator(async (emulator) => {
    const api = botFor(emulator).api;
    const first = api.getUpdates({ timeout: 30 });
    await emulator.waitFor(() => emulator.longPollWaiting);
    const second = api.getUpdates({ timeout: 30 });
    const error = await apiError(first);
    assertEquals(error.error_code, 409);
    assertEquals(error.description, "Conflict: terminated by other getUpdates request");
    emulator.sendText(BOB, "for the second");
    assertEquals((await second).map((u) => u.message?.text), ["for the second"]);
  });
});

Deno.test("close() ends a waiting long poll with no updates", async () => {
  const emulator = await TelegramEmulator.start();
  const poll = botFor(emulator).api.getUpdates({ timeout: 30 });
  await emulator.waitFor(() => emulator.longPollWaiting);
  await emulator.close();
  assertEquals(await poll, []);
});

Deno.test("an injected 429 reaches grammY as a GrammyError with retry_after, then calls succeed", async () => {
  await withEmulator(async (emulator) => {
    emulator.sendText(ALICE, "hi");
    const api = botFor(emulator).api;
    emulator.injectFaults({ method: "sendMessage", kind: "429", retryAfter: 7, times: 1 });
    const error = await apiError(api.sendMessage(ALICE.id, "first try"));
    assertEquals(error.error_code, 429);
    assertEquals(error.parameters.retry_after, 7);
    assertEquals(error.description, "Too Many Requests: retry after 7");
    await api.sendMessage(ALICE.id, "second try");
    assertEquals(emulator.botMessages(ALICE.id).map((m) => m.text), ["second try"]);
    assertEquals(emulator.callsTo("sendMessage").map((c) => [c.ok, c.errorCode, c.fault]), [
      [false, 429, "429"],
      [true, undefined, undefined],
    ]);
    assertEquals(emulator.stats.injectedFaults, 1);
  });
});

Deno.test("injected 500s, dropped connections and lost answers look like real network failures", async () => {
  await withEmulator(async (emulator) => {
    emulator.sendText(ALICE, "hi");
    const api = botFor(emulator).api;
    emulator.injectFaults({ method: /^send/, kind: "500", times: 1 });
    assertEquals((await apiError(api.sendMessage(ALICE.id, "a"))).error_code, 500);

    emulator.injectFaults({ method: "sendMessage", kind: "drop", times: 1 });
    await assertRejects(() => api.sendMessage(ALICE.id, "b"), HttpError);
    assertEquals(emulator.botMessages(ALICE.id), [], "a dropped call does not happen");

    emulator.injectFaults({ method: "sendMessage", kind: "drop_response", times: 1 });
    await assertRejects(() => api.sendMessage(ALICE.id, "c"), HttpError);
    assertEquals(emulator.botMessages(ALICE.id).map((m) => m.text), ["c"], "the call happened");

    emulator.injectFaults({ kind: "delay", delayMs: 5, times: 1 });
    await api.sendMessage(ALICE.id, "d");
    assertEquals(emulator.callsTo("sendMessage").at(-1)?.fault, "delay");
    assertEquals(emulator.botMessages(ALICE.id).map((m) => m.text), ["c", "d"]);
  });
});

Deno.test("a held call never runs and lets go when the caller hangs up", async () => {
  await withEmulator(async (emulator) => {
    emulator.sendText(ALICE, "hi");
    emulator.injectFaults({ method: "sendMessage", kind: "hold", times: 1 });
    const hangUp = new AbortController();
    const held = fetch(`${emulator.apiRoot}/bot${emulator.token}/sendMessage`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ chat_id: ALICE.id, text: "held" }),
      signal: hangUp.signal,
    }).catch((error) => error);
    await emulator.waitFor(() => emulator.stats.injectedFaults === 1 || undefined, {
      intervalMs: 5,
    });
    hangUp.abort();
    assert((await held) instanceof Error, "the caller got no answer");
    await emulator.waitFor(() => emulator.callsTo("sendMessage").length === 1 || undefined, {
      intervalMs: 5,
      message: "the held call is recorded once the caller hung up",
    });
    assertEquals(emulator.callsTo("sendMessage")[0]?.fault, "hold");
    await botFor(emulator).api.sendMessage(ALICE.id, "after");
    assertEquals(emulator.botMessages(ALICE.id).map((m) => m.text), ["after"]);
  });
});

Deno.test("probabilistic faults hit the same calls for the same seed", async () => {
  const hits = async () =>
    await withEmulator(async (emulator) => {
      emulator.sendText(ALICE, "hi");
      const api = botFor(emulator).api;
      emulator.injectFaults({ method: "sendChatAction", kind: "500", probability: 0.5 });
      const outcomes: boolean[] = [];
      for (let i = 0; i < 12; i++) {
        outcomes.push(await api.sendChatAction(ALICE.id, "typing").then(() => true, () => false));
      }
      return outcomes;
    }, { seed: 42 });
  const first = await hits();
  assertEquals(await hits(), first);
  assert(first.includes(true) && first.includes(false), `expected a mix, got ${first}`);
});

Deno.test("editing with the same text and keyboard fails with 'message is not modified'", async () => {
  await withEmulator(async (emulator) => {
    emulator.sendText(ALICE, "hi");
    const api = botFor(emulator).api;
    const keyboard = new InlineKeyboard().text("Cancel", "cancel:1");
    const sent = await api.sendMessage(ALICE.id, "Downloading 1/3", { reply_markup: keyboard });
    const error = await apiError(
      api.editMessageText(ALICE.id, sent.message_id, "Downloading 1/3", { reply_markup: keyboard }),
    );
    assertEquals(error.error_code, 400);
    assertEquals(
      error.description,
      "Bad Request: message is not modified: specified new message content and reply markup are " +
        "exactly the same as a current content and reply markup of the message",
    );
    await api.editMessageText(ALICE.id, sent.message_id, "Downloading 1/3");
    const [message] = emulator.botMessages(ALICE.id);
    assertEquals(
      message?.replyMarkup,
      undefined,
      "an edit without reply_markup drops the keyboard",
    );
    assertEquals(message?.editCount, 1);
    await api.editMessageReplyMarkup(ALICE.id, sent.message_id, { reply_markup: keyboard });
    assertEquals(emulator.botMessages(ALICE.id)[0]?.replyMarkup, {
      inline_keyboard: [[{ text: "Cancel", callback_data: "cancel:1" }]],
    });
    const missing = await apiError(api.editMessageText(ALICE.id, 99, "x"));
    assertEquals(missing.description, "Bad Request: message to edit not found");
  });
});

Deno.test("texts over 4096 characters after entity parsing are refused as too long", async () => {
  await withEmulator(async (emulator) => {
    emulator.sendText(ALICE, "hi");
    const api = botFor(emulator).api;
    const tooLong = await apiError(api.sendMessage(ALICE.id, "a".repeat(4097)));
    assertEquals(tooLong.error_code, 400);
    assertEquals(tooLong.description, "Bad Request: message is too long");
    await api.sendMessage(ALICE.id, `<b>${"a".repeat(4096)}</b>`, { parse_mode: "HTML" });
    const empty = await apiError(api.sendMessage(ALICE.id, ""));
    assertEquals(empty.description, "Bad Request: message text is empty");
    assertEquals(emulator.botMessages(ALICE.id).length, 1);
  });
});

Deno.test("HTML messages are stored as plain text with entities, and bad markup is refused", async () => {
  await withEmulator(async (emulator) => {
    emulator.sendText(ALICE, "hi");
    const api = botFor(emulator).api;
    const raw = '<b>Done</b> &amp; <a href="https://example.com/f?a=1&amp;b=2">file</a>';
    const sent = await api.sendMessage(ALICE.id, raw, { parse_mode: "HTML" });
    assertEquals(sent.text, "Done & file");
    assertEquals(sent.entities, [
      { type: "bold", offset: 0, length: 4 },
      { type: "text_link", offset: 7, length: 4, url: "https://example.com/f?a=1&b=2" },
    ]);
    const [stored] = emulator.botMessages(ALICE.id);
    assertEquals(stored?.rawText, raw);
    assertEquals(stored?.parseMode, "HTML");
    const unclosed = await apiError(api.sendMessage(ALICE.id, "<b>oops", { parse_mode: "HTML" }));
    assertStringIncludes(unclosed.description, "Bad Request: can't parse entities: ");
    const markdown = await apiError(
      api.sendMessage(ALICE.id, "1.5 MB", { parse_mode: "MarkdownV2" }),
    );
    assertStringIncludes(markdown.description, "Character '.' is reserved");
  });
});

Deno.test("a multipart sendDocument upload records the file's bytes, name and caption", async () => {
  await withEmulator(async (emulator) => {
    emulator.sendText(ALICE, "hi");
    const api = botFor(emulator).api;
    const bytes = new Uint8Array([0x49, 0x44, 0x33, 0, 1, 2, 3, 255]);
    const sent = await api.sendDocument(ALICE.id, new InputFile(bytes, "a.mp3"), {
      caption: "<i>Song</i>",
      parse_mode: "HTML",
      reply_markup: new InlineKeyboard().url("Open", "https://example.com"),
    });
    assertEquals(sent.document?.file_name, "a.mp3");
    assertEquals(sent.document?.file_size, bytes.length);
    assertEquals(sent.caption, "Song");
    const [call] = emulator.callsTo("sendDocument");
    assertEquals(call?.params.document, { filename: "a.mp3", size: bytes.length, bytes });
    assertEquals(call?.params.chat_id, String(ALICE.id), "form fields arrive as strings");
    const [message] = emulator.botMessages(ALICE.id);
    assertEquals(message?.document?.fileName, "a.mp3");
    assertEquals(message?.document?.size, bytes.length);
    assertEquals(message?.caption, "Song");
    assertEquals(message?.replyMarkup?.inline_keyboard[0]?.[0]?.url, "https://example.com");

    const again = await api.sendDocument(ALICE.id, sent.document!.file_id);
    assertEquals(again.document?.file_size, bytes.length, "a file_id can be sent again");
  });
});

Deno.test("sendAudio keeps title and performer; uploads over the limit get 413", async () => {
  await withEmulator(async (emulator) => {
    emulator.sendText(ALICE, "hi");
    const api = botFor(emulator).api;
    const sent = await api.sendAudio(ALICE.id, new InputFile(new Uint8Array(1024), "song.mp3"), {
      title: "Song",
      performer: "Artist",
    });
    assertEquals(sent.audio?.title, "Song");
    assertEquals(sent.audio?.mime_type, "audio/mpeg");
    assertEquals(emulator.botMessages(ALICE.id)[0]?.audio?.performer, "Artist");
    const error = await apiError(
      api.sendAudio(ALICE.id, new InputFile(new Uint8Array(1025), "big.mp3")),
    );
    assertEquals(error.error_code, 413);
    assertEquals(error.description, "Request Entity Too Large");
    assertEquals(emulator.botMessages(ALICE.id).length, 1);
  }, { maxUploadBytes: 1024 });
});

Deno.test("a request with another token gets 401 Unauthorized", async () => {
  await withEmulator(async (emulator) => {
    const error = await apiError(botFor(emulator, "999:wrongwrongwrongwrongwrong").api.getMe());
    assertEquals(error.error_code, 401);
    assertEquals(error.description, "Unauthorized");
    const me = await botFor(emulator).api.getMe();
    assertEquals(me.username, emulator.botUser.username);
  });
});

Deno.test("an unknown method gets 404 Not Found", async () => {
  await withEmulator(async (emulator) => {
    const response = await fetch(`${emulator.apiRoot}/bot${emulator.token}/sendTelepathy`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assertEquals(response.status, 404);
    assertEquals(await response.json(), { ok: false, error_code: 404, description: "Not Found" });
  });
});

Deno.test("pressing a button delivers a callback query and records the bot's answer", async () => {
  await withEmulator(async (emulator) => {
    const bot = botFor(emulator);
    bot.command(
      "start",
      (ctx) =>
        ctx.reply("Cancel?", { reply_markup: new InlineKeyboard().text("Cancel", "cancel:7") }),
    );
    bot.callbackQuery(/^cancel:(\d+)$/, async (ctx) => {
      await ctx.answerCallbackQuery({ text: `Cancelling ${ctx.match[1]}` });
      await ctx.editMessageText("Cancelled");
    });
    await whileRunning(bot, async () => {
      emulator.sendText(ALICE, "/start");
      const question = await emulator.waitForBotMessage(ALICE.id, "Cancel?");
      const press = { chatId: ALICE.id, messageId: question.messageId };
      assertThrows(
        () => emulator.pressButton(ALICE, press, "delete:7"),
        Error,
        'no button with callback data "delete:7"',
      );
      emulator.pressButton(ALICE, press, "cancel:7");
      await emulator.waitForBotMessage(ALICE.id, "Cancelled");
    });
    const [answer] = emulator.callbackAnswers(ALICE.id);
    assertEquals(answer?.text, "Cancelling 7");
    assertEquals(answer?.showAlert, false);
    assertEquals(emulator.botMessages(ALICE.id)[0]?.replyMarkup, undefined);
  });
});

Deno.test("onChange reports messages, edits, deletions and chat actions in order", async () => {
  await withEmulator(async (emulator) => {
    const events: string[] = [];
    const unsubscribe = emulator.onChange((event: EmulatorEvent) => {
      if (event.type === "call") return;
      const detail = event.type === "message" || event.type === "edit"
        ? `${event.message.from}:${event.message.text}`
        : event.type === "delete"
        ? `#${event.messageId}`
        : event.type === "chat_action"
        ? event.action
        : "";
      events.push(`${event.type} ${detail}`);
    });
    emulator.sendText(ALICE, "hi");
    const api = botFor(emulator).api;
    await api.sendChatAction(ALICE.id, "typing");
    const sent = await api.sendMessage(ALICE.id, "one");
    await api.editMessageText(ALICE.id, sent.message_id, "two");
    await api.deleteMessage(ALICE.id, sent.message_id);
    unsubscribe();
    await api.sendMessage(ALICE.id, "unseen");
    assertEquals(events, [
      "message user:hi",
      "chat_action typing",
      "message bot:one",
      "edit bot:two",
      `delete #${sent.message_id}`,
    ]);
    assertEquals(emulator.chat(ALICE.id).map((m) => m.text), ["hi", "unseen"]);
    const gone = await apiError(api.deleteMessage(ALICE.id, sent.message_id));
    assertEquals(gone.description, "Bad Request: message to delete not found");
  });
});

Deno.test("the flood limit answers 429 and counts the busiest second per chat", async () => {
  let clock = 1_700_000_000_000;
  await withEmulator(async (emulator) => {
    emulator.sendText(ALICE, "hi");
    emulator.sendText(BOB, "hi");
    const api = botFor(emulator).api;
    await api.sendMessage(ALICE.id, "1");
    await api.sendMessage(ALICE.id, "2");
    const error = await apiError(api.sendMessage(ALICE.id, "3"));
    assertEquals(error.error_code, 429);
    assertEquals(error.parameters.retry_after, 1);
    await api.sendMessage(BOB.id, "other chat is fine");
    const stillBanned = await apiError(api.sendMessage(ALICE.id, "3 again"));
    assertEquals(stillBanned.error_code, 429, "no sends until retry_after has passed");
    clock += 1000;
    await api.sendMessage(ALICE.id, "3 after waiting");
    assertEquals(emulator.stats.floodRejections, 2);
    assertEquals(emulator.maxPerChatPerSecond(ALICE.id), 2);
    assertEquals(emulator.maxPerChatPerSecond(), 2);
    assertEquals(emulator.botMessages(ALICE.id).map((m) => m.text), ["1", "2", "3 after waiting"]);
  }, { floodLimit: { perChatPerSecond: 2, perBotPerSecond: 30 }, now: () => clock });
});

Deno.test("messages to unknown chats fail with 'chat not found', to blocking users with 403", async () => {
  await withEmulator(async (emulator) => {
    const api = botFor(emulator).api;
    const unknown = await apiError(api.sendMessage(4242, "hello?"));
    assertEquals(unknown.description, "Bad Request: chat not found");
    emulator.sendText(ALICE, "hi");
    emulator.setBlocked(ALICE.id, true);
    const blocked = await apiError(api.sendMessage(ALICE.id, "hello?"));
    assertEquals(blocked.error_code, 403);
    assertEquals(blocked.description, "Forbidden: bot was blocked by the user");
  });
});

Deno.test("setMyCommands is returned by getMyCommands and shown as the bot's menu", async () => {
  await withEmulator(async (emulator) => {
    const api = botFor(emulator).api;
    const commands = [{ command: "download", description: "Download a Spotify link" }];
    assertEquals(await api.setMyCommands(commands), true);
    assertEquals(await api.getMyCommands(), commands);
    assertEquals(emulator.botCommands(), commands);
    const bad = await apiError(api.setMyCommands([{ command: "Bad-Name", description: "x" }]));
    assertEquals(bad.error_code, 400);
  });
});

Deno.test("with a webhook set, updates are POSTed with the secret token and replies are executed", async () => {
  await withEmulator(async (emulator) => {
    const received: { secret: string | null; text: string | undefined }[] = [];
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async (req) => {
        const update = await req.json();
        received.push({
          secret: req.headers.get("x-telegram-bot-api-secret-token"),
          text: update.message?.text,
        });
        return Response.json({
          method: "sendMessage",
          chat_id: update.message.chat.id,
          text: "got it",
        });
      },
    );
    try {
      const api = botFor(emulator).api;
      await api.setWebhook(`http://127.0.0.1:${server.addr.port}/hook`, { secret_token: "s3cret" });
      const conflict = await apiError(api.getUpdates());
      assertEquals(conflict.error_code, 409);
      emulator.sendText(ALICE, "via webhook");
      await emulator.waitForBotMessage(ALICE.id, "got it");
      assertEquals(received, [{ secret: "s3cret", text: "via webhook" }]);
      assertEquals((await api.getWebhookInfo()).pending_update_count, 0);
      await api.deleteWebhook();
      emulator.sendText(ALICE, "via polling");
      assertEquals((await api.getUpdates()).map((u) => u.message?.text), ["via polling"]);
    } finally {
      await server.shutdown();
    }
  });
});

Deno.test("waitFor rejects on timeout naming the awaited message and the bot's recent messages", async () => {
  await withEmulator(async (emulator) => {
    emulator.sendText(ALICE, "hi");
    await botFor(emulator).api.sendMessage(ALICE.id, "something else");
    const error = await assertRejects(
      () => emulator.waitForBotMessage(ALICE.id, /never/, { timeoutMs: 50 }),
      Error,
    );
    assertStringIncludes(error.message, "a bot message in chat 1001 matching /never/");
    assertStringIncludes(error.message, '"something else"');
  });
});

Deno.test("group messages carry the group chat, and the bot's replies land in the group", async () => {
  await withEmulator(async (emulator) => {
    const bot = botFor(emulator);
    bot.command("help", (ctx) => ctx.reply(`help for ${ctx.chat.type} ${ctx.from?.first_name}`));
    await whileRunning(bot, async () => {
      const update = emulator.sendText(BOB, `/help@${emulator.botUser.username}`, {
        chatId: -500,
        chatTitle: "Music club",
      });
      assertEquals(update.message?.chat, { id: -500, type: "group", title: "Music club" });
      await emulator.waitForBotMessage(-500, "help for group Bob");
    });
    assertEquals(emulator.botMessages(BOB.id), []);
    assertEquals(emulator.chat(-500).map((m) => m.from), ["user", "bot"]);
  });
});

Deno.test("waitFor accepts async probes and re-checks them on an interval for outside state", async () => {
  await withEmulator(async (emulator) => {
    let outside = 0;
    const seen = emulator.waitFor(() => Promise.resolve(outside >= 2 && outside), {
      intervalMs: 1,
    });
    outside = 1;
    await Promise.resolve();
    outside = 2;
    assertEquals(await seen, 2);
  });
});
