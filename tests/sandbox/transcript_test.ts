import { assertEquals, assertStringIncludes } from "../_assert.ts";
import type { ChatMessage, EmulatorEvent, SentFileInfo } from "../../src/emulator/mod.ts";
import { formatText } from "../../src/emulator/mod.ts";
import { cancelKeyboard } from "../../src/chat/keyboards.ts";
import { numberedButtons, TranscriptRenderer } from "../../src/sandbox/transcript.ts";

const CHAT = 10_000;

/** A bot message as the emulator records it after parsing the HTML the bot sent. */
function botMessage(
  messageId: number,
  html: string,
  extra: Partial<ChatMessage> = {},
): ChatMessage {
  const { text, entities } = formatText(html, "HTML");
  return {
    chatId: CHAT,
    messageId,
    from: "bot",
    senderId: 1,
    date: 0,
    text,
    rawText: html,
    parseMode: "HTML",
    ...(entities.length ? { entities } : {}),
    editCount: 0,
    ...extra,
  };
}

function userMessage(messageId: number, text: string, chatId = CHAT): ChatMessage {
  return { chatId, messageId, from: "user", senderId: chatId, date: 0, text, editCount: 0 };
}

const sent = (message: ChatMessage): EmulatorEvent => ({
  type: "message",
  chatId: message.chatId,
  message,
});
const edited = (message: ChatMessage): EmulatorEvent => ({
  type: "edit",
  chatId: message.chatId,
  message: { ...message, editCount: message.editCount + 1 },
});

function renderAll(renderer: TranscriptRenderer, events: EmulatorEvent[]): string {
  return events.map((event) => renderer.render(event)).join("");
}

Deno.test("bot HTML is shown as plain text with entities decoded and continuation lines indented", () => {
  const renderer = new TranscriptRenderer({ tty: false, homeChatId: CHAT });
  const out = renderer.render(
    sent(botMessage(2, "<b>dlbot</b> downloads music.\n\n/download &lt;link&gt; — start &amp; go")),
  );
  assertEquals(
    out,
    "bot › dlbot downloads music.\n\n      /download <link> — start & go\n",
  );
});

Deno.test("links show their address after the label", () => {
  const renderer = new TranscriptRenderer({ tty: false, homeChatId: CHAT });
  const out = renderer.render(
    sent(
      botMessage(
        3,
        '📥 Downloads:\n• <a href="http://127.0.0.1:8080/files/abc/x.mp3?sig=1">x.mp3</a>',
      ),
    ),
  );
  assertEquals(
    out,
    "bot › 📥 Downloads:\n      • x.mp3 (http://127.0.0.1:8080/files/abc/x.mp3?sig=1)\n",
  );
});

Deno.test("buttons are numbered in order and shown under the text", () => {
  const renderer = new TranscriptRenderer({ tty: false, homeChatId: CHAT });
  const keyboard = {
    inline_keyboard: [
      [{ text: "Cancel", callback_data: "cancel:abc123" }, { text: "Site", url: "https://x.test" }],
      [{ text: "Retry", callback_data: "retry" }],
    ],
  };
  const out = renderer.render(sent(botMessage(4, "Job queued.", { replyMarkup: keyboard })));
  assertEquals(
    out,
    "bot › Job queued.\n      [1 Cancel]  [Site ↗ https://x.test]\n      [2 Retry]\n",
  );
  assertEquals(numberedButtons(keyboard), [
    { number: 1, text: "Cancel", data: "cancel:abc123" },
    { number: 2, text: "Retry", data: "retry" },
  ]);
});

Deno.test("user messages are echoed only when the output is not a terminal", () => {
  const piped = new TranscriptRenderer({ tty: false, homeChatId: CHAT });
  const tty = new TranscriptRenderer({ tty: true, homeChatId: CHAT });
  assertEquals(piped.render(sent(userMessage(1, "/start"))), "you › /start\n");
  assertEquals(tty.render(sent(userMessage(1, "/start"))), "");
});

Deno.test("other chats are labelled with their chat id", () => {
  const renderer = new TranscriptRenderer({ tty: false, homeChatId: CHAT });
  const out = renderAll(renderer, [
    sent(userMessage(1, "/start", 424242)),
    sent({ ...botMessage(2, "Your Telegram user id is <code>424242</code>."), chatId: 424242 }),
  ]);
  assertEquals(
    out,
    "[424242] you › /start\n[424242] bot › Your Telegram user id is 424242.\n",
  );
});

Deno.test("without a terminal every changed edit is printed once, unchanged edits are dropped", () => {
  const renderer = new TranscriptRenderer({ tty: false, homeChatId: CHAT });
  const status = botMessage(5, "⏳ Job <code>abc</code> is queued.", {
    replyMarkup: cancelKeyboard("abc123"),
  });
  const running = botMessage(5, "⬇️ Downloading\n▓▓░░░░░░░░ 20%", {
    replyMarkup: cancelKeyboard("abc123"),
  });
  const out = renderAll(renderer, [
    sent(status),
    edited(running),
    edited(running),
    edited(botMessage(5, "✅ Finished (job <code>abc</code>).")),
  ]);
  assertEquals(
    out,
    [
      "bot › ⏳ Job abc is queued.",
      "      [1 Cancel]",
      "bot (edited) › ⬇️ Downloading",
      "               ▓▓░░░░░░░░ 20%",
      "               [1 Cancel]",
      "bot (edited) › ✅ Finished (job abc).",
      "",
    ].join("\n"),
  );
});

Deno.test("on a terminal an edit of the latest block is redrawn in place", () => {
  const renderer = new TranscriptRenderer({
    tty: true,
    homeChatId: CHAT,
    terminalSize: () => ({ columns: 80, rows: 24 }),
  });
  const first = renderer.render(
    sent(botMessage(6, "⏳ queued", { replyMarkup: cancelKeyboard("abc123") })),
  );
  assertEquals(first, "bot › ⏳ queued\n      [1 Cancel]\n");
  const second = renderer.render(edited(botMessage(6, "⬇️ 50%")));
  assertEquals(second, "\x1b[2A\r\x1b[Jbot › ⬇️ 50%\n");
  const third = renderer.render(edited(botMessage(6, "⬇️ 60%")));
  assertEquals(third, "\x1b[1A\r\x1b[Jbot › ⬇️ 60%\n");
});

Deno.test("on a terminal an edit of an older message is printed as a new block", () => {
  const renderer = new TranscriptRenderer({
    tty: true,
    homeChatId: CHAT,
    terminalSize: () => ({ columns: 80, rows: 24 }),
  });
  renderer.render(sent(botMessage(6, "⏳ queued")));
  renderer.render(sent(botMessage(7, "another message")));
  assertEquals(renderer.render(edited(botMessage(6, "⬇️ 50%"))), "bot (edited) › ⬇️ 50%\n");
});

Deno.test("on a terminal, typing or a note below the block stops in-place redrawing", () => {
  const renderer = new TranscriptRenderer({
    tty: true,
    homeChatId: CHAT,
    terminalSize: () => ({ columns: 80, rows: 24 }),
  });
  renderer.render(sent(botMessage(6, "⏳ queued")));
  renderer.typed();
  assertEquals(renderer.render(edited(botMessage(6, "⬇️ 10%"))), "bot (edited) › ⬇️ 10%\n");
  assertEquals(renderer.note("(now speaking as user 424242)"), "(now speaking as user 424242)\n");
  assertEquals(renderer.render(edited(botMessage(6, "⬇️ 20%"))), "bot (edited) › ⬇️ 20%\n");
});

Deno.test("on a terminal a block that could wrap is never redrawn in place", () => {
  const renderer = new TranscriptRenderer({
    tty: true,
    homeChatId: CHAT,
    terminalSize: () => ({ columns: 20, rows: 24 }),
  });
  renderer.render(sent(botMessage(6, "a line that is longer than twenty columns")));
  assertEquals(renderer.render(edited(botMessage(6, "short"))), "bot (edited) › short\n");
});

Deno.test("audio and documents show the file name and size, then the caption", () => {
  const renderer = new TranscriptRenderer({ tty: false, homeChatId: CHAT });
  const audio: SentFileInfo = {
    fileId: "f1",
    fileName: "Artist - Song.mp3",
    size: 4_200_000,
    title: "Song",
    performer: "Artist",
  };
  const out = renderAll(renderer, [
    sent({
      chatId: CHAT,
      messageId: 8,
      from: "bot",
      senderId: 1,
      date: 0,
      audio,
      caption: "Song — Artist",
      editCount: 0,
    }),
    sent({
      chatId: CHAT,
      messageId: 9,
      from: "bot",
      senderId: 1,
      date: 0,
      document: { fileId: "f2", url: "http://127.0.0.1/files/a.zip" },
      editCount: 0,
    }),
  ]);
  assertEquals(
    out,
    "bot › 📎 Artist - Song.mp3 (4.2 MB)\n      Song — Artist\n" +
      "bot › 📎 file (http://127.0.0.1/files/a.zip)\n",
  );
});

Deno.test("callback answers with text are shown as popups; silent answers print nothing", () => {
  const renderer = new TranscriptRenderer({ tty: false, homeChatId: CHAT });
  const answer = (text?: string): EmulatorEvent => ({
    type: "callback_answer",
    chatId: CHAT,
    answer: { callbackQueryId: "q", chatId: CHAT, messageId: 5, showAlert: false, text },
  });
  assertEquals(renderer.render(answer("Cancelled.")), "bot (popup) › Cancelled.\n");
  assertEquals(renderer.render(answer()), "");
});

Deno.test("a pressed button is echoed as the user's action only without a terminal", () => {
  const piped = new TranscriptRenderer({ tty: false, homeChatId: CHAT });
  const tty = new TranscriptRenderer({ tty: true, homeChatId: CHAT });
  assertStringIncludes(piped.action(CHAT, "(pressed [1 Cancel])"), "you › (pressed [1 Cancel])");
  assertEquals(tty.action(CHAT, "(pressed [1 Cancel])"), "");
});

Deno.test("a deleted message is reported with its first line", () => {
  const renderer = new TranscriptRenderer({ tty: false, homeChatId: CHAT });
  renderer.render(sent(botMessage(10, "temporary\nsecond line")));
  assertEquals(
    renderer.render({ type: "delete", chatId: CHAT, messageId: 10 }),
    "bot (deleted) › temporary\n",
  );
});
