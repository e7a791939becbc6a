import "../../src/runtime/quiet_node_warnings.ts";
import { HttpError, type Transformer } from "grammy";
import { assert, assertEquals, assertRejects } from "../_assert.ts";
import {
  type SendThrottleOptions,
  sendThrottleTransformer,
  type ThrottleClock,
} from "../../src/bot/throttle.ts";
import { OutgoingDroppedError, withPriority } from "../../src/chat/priority.ts";

type Prev = Parameters<Transformer>[0];

const PRIVATE_MS = 1050;
const GROUP_MS = 3150;
const GLOBAL_MS = 35;

/** A clock whose time moves only when the test advances it. */
class FakeClock implements ThrottleClock {
  #now = 0;
  #timers: { at: number; callback: () => void }[] = [];

  now(): number {
    return this.#now;
  }

  setTimer(callback: () => void, ms: number): () => void {
    const timer = { at: this.#now + ms, callback };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  /** Timers not yet fired or cancelled. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Fires due timers in time order until none is left, letting answered calls settle between. */
  runUntilIdle(): Promise<void> {
    return this.advanceTo(Number.POSITIVE_INFINITY);
  }

  /** Fires the timers due until `time` in time order, then moves the clock to `time`. */
  async advanceTo(time: number): Promise<void> {
    for (;;) {
      await settle();
      const next = this.#timers.reduce<{ at: number; callback: () => void } | undefined>(
        (a, t) => (a === undefined || t.at < a.at ? t : a),
        undefined,
      );
      if (next === undefined || next.at > time) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now = Math.max(this.#now, next.at);
      next.callback();
    }
    if (Number.isFinite(time)) this.#now = Math.max(this.#now, time);
  }
}

/** Lets pending promise callbacks run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

interface Sent {
  method: string;
  chatId: unknown;
  text: unknown;
  sentAt: number;
  answeredAt: number;
}

/** A fake Bot API that records when each call left and answers after `latencyMs` of clock time. */
function fakeApi(clock: FakeClock, latencyMs = 10, fail?: (text: unknown) => boolean) {
  const sent: Sent[] = [];
  const prev = ((method: string, payload: Record<string, unknown>) => {
    const record: Sent = {
      method,
      chatId: payload?.chat_id,
      text: payload?.text,
      sentAt: clock.now(),
      answeredAt: Number.NaN,
    };
    sent.push(record);
    return new Promise((resolve, reject) => {
      clock.setTimer(() => {
        record.answeredAt = clock.now();
        if (fail?.(record.text)) reject(new Error(`boom ${record.text}`));
        else resolve({ ok: true, result: true });
      }, latencyMs);
    });
  }) as unknown as Prev;
  return { prev, sent };
}

function setup(options: Omit<SendThrottleOptions, "clock"> = {}, latencyMs?: number) {
  const clock = new FakeClock();
  const api = fakeApi(clock, latencyMs);
  const throttle = sendThrottleTransformer({ ...options, clock });
  const call = (method: string, payload: Record<string, unknown>, signal?: AbortSignal) =>
    throttle(api.prev, method as "sendMessage", payload as never, signal as never);
  const send = (chatId: number | string, text: string, signal?: AbortSignal) =>
    call("sendMessage", { chat_id: chatId, text }, signal);
  return { clock, sent: api.sent, call, send };
}

function sentTo(sent: Sent[], chatId: number | string): Sent[] {
  return sent.filter((s) => s.chatId === chatId);
}

/** Each call to the chat left at least `intervalMs` after the previous one was answered. */
function assertChatSpacing(calls: Sent[], intervalMs: number): void {
  for (let i = 1; i < calls.length; i++) {
    const gap = calls[i]!.sentAt - calls[i - 1]!.answeredAt;
    assert(gap >= intervalMs, `call ${i} left ${gap} ms after the previous answer`);
  }
}

/** Any two calls left at least `GLOBAL_MS` apart, so no second held more than 30. */
function assertBotWideLimit(sent: Sent[], perSecond = 30): void {
  const times = sent.map((s) => s.sentAt).sort((a, b) => a - b);
  for (let i = 1; i < times.length; i++) {
    assert(times[i]! - times[i - 1]! >= GLOBAL_MS, `calls at ${times[i - 1]} and ${times[i]}`);
  }
  for (const start of times) {
    const inSecond = times.filter((t) => t >= start && t < start + 1000).length;
    assert(inSecond <= perSecond, `${inSecond} calls in the second from ${start}`);
  }
}

Deno.test("a private chat's calls leave in order, each a chat interval after the previous answer", async () => {
  const { clock, sent, send } = setup({}, 100);
  const results = ["a", "b", "c", "d"].map((text) => send(42, text));
  await clock.runUntilIdle();
  await Promise.all(results);
  assertEquals(sent.map((s) => s.text), ["a", "b", "c", "d"]);
  assertChatSpacing(sent, PRIVATE_MS);
  assertEquals(sent[0]!.sentAt, 0, "the first call left at once");
  assertEquals(clock.pending, 0, "no timer left behind");
});

Deno.test("a chat's next call waits for its turn even when the bot-wide queue held the previous one", async () => {
  // The case @grammyjs/transformer-throttler gets wrong: 60 calls to other chats fill two seconds
  // of the bot-wide limit, so chat 7's first call waits there longer than a chat interval.
  const { clock, sent, send } = setup({}, 20);
  const results = Array.from({ length: 60 }, (_, i) => send(1000 + i, `other ${i}`));
  results.push(send(7, "first"), send(7, "second"), send(7, "third"));
  await clock.runUntilIdle();
  await Promise.all(results);
  const chat = sentTo(sent, 7);
  assertEquals(chat.map((s) => s.text), ["first", "second", "third"]);
  assert(chat[0]!.sentAt >= 60 * GLOBAL_MS, `the first call queued behind the others`);
  assertChatSpacing(chat, PRIVATE_MS);
  assertBotWideLimit(sent);
  assertEquals(sent.length, 63);
});

Deno.test("other chats' calls are held only by the bot-wide spacing, in the order they were made", async () => {
  const { clock, sent, send } = setup({}, 10);
  const results = [send(1, "1a"), send(2, "2a"), send(1, "1b"), send(3, "3a"), send(2, "2b")];
  await clock.runUntilIdle();
  await Promise.all(results);
  assertEquals(sent.map((s) => s.text), ["1a", "2a", "3a", "1b", "2b"]);
  assertEquals(sent.slice(0, 3).map((s) => s.sentAt), [0, GLOBAL_MS, 2 * GLOBAL_MS]);
  assertChatSpacing(sentTo(sent, 1), PRIVATE_MS);
  assertChatSpacing(sentTo(sent, 2), PRIVATE_MS);
  assertBotWideLimit(sent);
});

Deno.test("a chat with a backlog takes its turn behind calls that were already waiting", async () => {
  const { clock, sent, send } = setup({}, 10);
  const backlog = [send(1, "1a"), send(1, "1b")];
  await clock.advanceTo(1000);
  const crowd = Array.from({ length: 40 }, (_, i) => send(100 + i, `crowd ${i}`));
  await clock.runUntilIdle();
  await Promise.all([...backlog, ...crowd]);
  assertEquals(sent.map((s) => s.text), [
    "1a",
    ...Array.from({ length: 40 }, (_, i) => `crowd ${i}`),
    "1b",
  ], "1b could leave at 1060 only, after the crowd had been waiting since 1000");
  assertBotWideLimit(sent);
});

Deno.test("groups and channels get calls at least 3 s apart and at most 20 a minute", async () => {
  const { clock, sent, send } = setup({}, 10);
  const results = [
    ...Array.from({ length: 25 }, (_, i) => send(-100123, `group ${i}`)),
    send("@channel", "channel 1"),
    send("@channel", "channel 2"),
  ];
  await clock.runUntilIdle();
  await Promise.all(results);
  const group = sentTo(sent, -100123);
  assertEquals(group.map((s) => s.text), Array.from({ length: 25 }, (_, i) => `group ${i}`));
  assertChatSpacing(group, GROUP_MS);
  for (const first of group) {
    const inMinute = group.filter((s) =>
      s.sentAt >= first.sentAt && s.sentAt < first.sentAt + 60_000
    );
    assert(inMinute.length <= 20, `${inMinute.length} calls in the minute from ${first.sentAt}`);
  }
  assertChatSpacing(sentTo(sent, "@channel"), GROUP_MS);
});

Deno.test("calls without a chat wait only for the bot-wide limit", async () => {
  const { clock, sent, send, call } = setup({}, 10);
  const results = [send(5, "a"), send(5, "b"), send(5, "c")];
  results.push(call("setMyCommands", { commands: [] }), call("deleteWebhook", {}));
  await clock.runUntilIdle();
  await Promise.all(results);
  assertEquals(sent.map((s) => s.method), [
    "sendMessage",
    "setMyCommands",
    "deleteWebhook",
    "sendMessage",
    "sendMessage",
  ]);
  assertEquals(sent[1]!.sentAt, GLOBAL_MS);
  assertEquals(sent[2]!.sentAt, 2 * GLOBAL_MS);
  assertBotWideLimit(sent);
});

Deno.test("button answers, polling and getMe are never delayed", async () => {
  const { clock, sent, send, call } = setup({}, 10);
  const queued = Array.from({ length: 40 }, (_, i) => send(i + 1, "busy"));
  const immediate = [
    call("answerCallbackQuery", { callback_query_id: "1" }),
    call("getUpdates", { offset: 0 }),
    call("getMe", {}),
  ];
  const atOnce = sent.filter((s) => s.sentAt === 0).map((s) => s.method);
  assertEquals(atOnce, ["sendMessage", "answerCallbackQuery", "getUpdates", "getMe"]);
  await clock.runUntilIdle();
  await Promise.all([...queued, ...immediate]);
  assertBotWideLimit(sent.filter((s) => s.method === "sendMessage"));
});

Deno.test("an aborted waiting call rejects like grammY, is never sent, and the chat's order holds", async () => {
  const { clock, sent, send } = setup({}, 10);
  const abort = new AbortController();
  const first = send(9, "first");
  const aborted = send(9, "aborted", abort.signal);
  const last = send(9, "last");
  await settle();
  abort.abort();
  await assertRejects(() => aborted, HttpError);
  await clock.runUntilIdle();
  await Promise.all([first, last]);
  assertEquals(sent.map((s) => s.text), ["first", "last"]);
  assertChatSpacing(sent, PRIVATE_MS);
  assertEquals(clock.pending, 0);
});

Deno.test("aborting the only waiting call cancels the throttle's timer", async () => {
  const { clock, sent, send } = setup({}, 10);
  await Promise.all([send(3, "first"), clock.runUntilIdle()]);
  const abort = new AbortController();
  const waiting = send(3, "waits", abort.signal);
  assertEquals(clock.pending, 1, "the call waits for the chat interval");
  abort.abort();
  await assertRejects(() => waiting, HttpError);
  assertEquals(clock.pending, 0, "nothing left to wake up for");
  assertEquals(sent.map((s) => s.text), ["first"]);
});

Deno.test("an already aborted call rejects at once without being sent", async () => {
  const { sent, send, clock } = setup();
  const abort = new AbortController();
  abort.abort();
  await assertRejects(() => send(1, "never", abort.signal), HttpError);
  assertEquals(sent.length, 0);
  assertEquals(clock.pending, 0);
});

Deno.test("a failed call reaches its caller and still holds the chat's next call for an interval", async () => {
  const clock = new FakeClock();
  const api = fakeApi(clock, 10, (text) => text === "fails");
  const throttle = sendThrottleTransformer({ clock });
  const send = (text: string) =>
    throttle(api.prev, "sendMessage", { chat_id: 4, text } as never, undefined);
  const failing = send("fails");
  const next = send("next");
  const settled = assertRejects(() => failing, Error, "boom fails");
  await clock.runUntilIdle();
  await settled;
  await next;
  assertEquals(api.sent.map((s) => s.text), ["fails", "next"]);
  assertChatSpacing(api.sent, PRIVATE_MS);
});

Deno.test("configured intervals apply with the real clock", async () => {
  const sent: { chatId: unknown; sentAt: number; answeredAt: number }[] = [];
  const prev = (async (_method: string, payload: { chat_id: number }) => {
    const record = { chatId: payload.chat_id, sentAt: performance.now(), answeredAt: Number.NaN };
    sent.push(record);
    await new Promise((resolve) => setTimeout(resolve, 1));
    record.answeredAt = performance.now();
    return { ok: true, result: true };
  }) as unknown as Prev;
  const throttle = sendThrottleTransformer({ privateChatIntervalMs: 30, globalIntervalMs: 10 });
  const calls = [1, 2, 1, 2, 1].map((chatId) =>
    throttle(prev, "sendMessage", { chat_id: chatId, text: "x" } as never, undefined)
  );
  await Promise.all(calls);
  assertEquals(sent.map((s) => s.chatId), [1, 2, 1, 2, 1]);
  for (const chatId of [1, 2]) {
    const chat = sent.filter((s) => s.chatId === chatId);
    for (let i = 1; i < chat.length; i++) {
      assert(chat[i]!.sentAt - chat[i - 1]!.answeredAt >= 30, `chat ${chatId} call ${i}`);
    }
  }
  const times = sent.map((s) => s.sentAt);
  for (let i = 1; i < times.length; i++) assert(times[i]! - times[i - 1]! >= 10, `call ${i}`);
});

Deno.test("replies leave before progress edits and refusals that were made earlier", async () => {
  const { clock, sent, send } = setup({}, 10);
  const results = [
    ...Array.from({ length: 10 }, (_, i) => withPriority("refusal", () => send(5000 + i, "no"))),
    ...Array.from({ length: 10 }, (_, i) => withPriority("progress", () => send(100 + i, "edit"))),
    send(42, "help"),
  ];
  await clock.runUntilIdle();
  await Promise.all(results);
  assertEquals(sent[0]?.text, "no", "the first refusal had left at once, before the others came");
  assertEquals(sent[1]?.text, "help", "the reply took the next bot-wide slot");
  assertEquals(sent.slice(2, 12).map((s) => s.text), Array(10).fill("edit"));
  assertEquals(sent.slice(12).map((s) => s.text), Array(9).fill("no"));
  assertBotWideLimit(sent);
});

Deno.test("in one chat a reply overtakes a waiting progress edit, never one sent already", async () => {
  const { clock, sent, send } = setup({}, 10);
  const results = [
    withPriority("progress", () => send(42, "edit 1")),
    withPriority("progress", () => send(42, "edit 2")),
    send(42, "reply"),
  ];
  await clock.runUntilIdle();
  await Promise.all(results);
  assertEquals(sent.map((s) => s.text), ["edit 1", "reply", "edit 2"]);
  assertChatSpacing(sent, PRIVATE_MS);
});

Deno.test("refusals are dropped while many calls wait, and when they waited too long", async () => {
  const { clock, sent, send } = setup({ dropRefusalsWhenWaiting: 5, refusalMaxWaitMs: 500 }, 10);
  const replies = Array.from({ length: 6 }, (_, i) => send(100 + i, "reply"));
  await assertRejects(
    () => withPriority("refusal", () => send(5000, "busy")),
    OutgoingDroppedError,
  );
  await clock.runUntilIdle();
  await Promise.all(replies);

  const first = withPriority("refusal", () => send(6000, "no 1"));
  const second = withPriority("refusal", () => send(6000, "no 2"));
  const settled = Promise.allSettled([first, second]);
  await clock.runUntilIdle();
  const [a, b] = await settled;
  assertEquals(a.status, "fulfilled");
  assertEquals(b.status, "rejected", "its chat's interval is longer than a refusal may wait");
  assert(b.status === "rejected" && b.reason instanceof OutgoingDroppedError);
  assertEquals(sent.map((s) => s.text).filter((t) => t !== "reply"), ["no 1"]);
  assertEquals(clock.pending, 0, "no timer left behind");
});

Deno.test("a progress edit with a refresh is rendered when it leaves, and one made pointless is not sent", async () => {
  const { clock, sent, send } = setup({}, 10);
  const replies = Array.from({ length: 20 }, (_, i) => send(100 + i, "reply"));
  let renderedAt = -1;
  const edit = withPriority("progress", () => send(42, "stale"), (payload) => {
    renderedAt = clock.now();
    return { ...payload, text: `fresh at ${renderedAt}` };
  });
  const dropped = withPriority("progress", () => send(43, "old"), () => null);
  await clock.runUntilIdle();
  await Promise.all([...replies, edit, dropped]);
  const toChat = sentTo(sent, 42);
  assertEquals(toChat.map((s) => s.text), [`fresh at ${renderedAt}`]);
  assertEquals(toChat[0]?.sentAt, renderedAt, "rendered at the moment it left, behind 20 replies");
  assert(renderedAt >= 20 * GLOBAL_MS - GLOBAL_MS, `rendered at ${renderedAt}`);
  assertEquals(sentTo(sent, 43), [], "the pointless one was never sent");
});

Deno.test("bot-wide, a call leaves only while fewer than 30 are unanswered or answered within the last second", async () => {
  // Telegram counts a call when it arrives, anywhere between sending and answer: 30 calls stuck
  // on the way may all arrive in the second the 31st does, however far apart they were sent.
  const clock = new FakeClock();
  const answers: (() => void)[] = [];
  const sent: { text: unknown; at: number }[] = [];
  const prev = ((_method: string, payload: Record<string, unknown>) => {
    sent.push({ text: payload.text, at: clock.now() });
    return new Promise((resolve) => answers.push(() => resolve({ ok: true, result: true })));
  }) as unknown as Prev;
  const throttle = sendThrottleTransformer({ clock });
  const results = Array.from(
    { length: 32 },
    (_, i) => throttle(prev, "sendMessage", { chat_id: 100 + i, text: `m${i}` } as never),
  );
  await clock.advanceTo(5000);
  assertEquals(sent.length, 30, "the 31st waits while 30 are unanswered");
  answers.shift()?.();
  await clock.advanceTo(5999);
  assertEquals(sent.length, 30, "an answer just now still counts for a second");
  await clock.advanceTo(6000);
  assertEquals(sent.map((s) => s.at).slice(30), [6000], "a second after that answer, one more");
  for (const answer of answers.splice(0)) answer();
  await clock.advanceTo(7000);
  for (const answer of answers.splice(0)) answer();
  await clock.runUntilIdle();
  await Promise.all(results);
  assertEquals(sent.length, 32);
  assertEquals(clock.pending, 0, "no timer left behind");
});

Deno.test("progress edits leave a third of the bot-wide budget to replies", async () => {
  const clock = new FakeClock();
  const sent: string[] = [];
  const prev = ((_method: string, payload: Record<string, unknown>) => {
    sent.push(String(payload.text));
    return new Promise(() => {}); // never answered: every place stays taken
  }) as unknown as Prev;
  const throttle = sendThrottleTransformer({ clock });
  const call = (chat: number, text: string) =>
    throttle(prev, "editMessageText", { chat_id: chat, message_id: 1, text } as never);
  for (let i = 0; i < 25; i++) void withPriority("progress", () => call(100 + i, `edit ${i}`));
  await clock.advanceTo(2000);
  assertEquals(sent.length, 20, "20 progress edits out, the other 5 wait");
  for (let i = 0; i < 12; i++) void call(500 + i, `reply ${i}`);
  await clock.advanceTo(4000);
  assertEquals(sent.filter((t) => t.startsWith("reply")).length, 10, "replies take the reserve");
  assertEquals(sent.length, 30, "and nothing beyond Telegram's 30");
});
