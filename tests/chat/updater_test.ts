import type { InputMediaAudio } from "grammy/types";
import { Api, GrammyError, InputFile } from "grammy";
import {
  assert,
  assertEquals,
  assertMatch,
  assertNotMatch,
  assertStringIncludes,
} from "../_assert.ts";
import type { Job } from "../../src/jobs/model.ts";
import { type JobInput, makeJob, T0 } from "../_fixtures.ts";
import {
  type ChatApi,
  type ChatApiAudioOptions,
  type ChatApiSendOptions,
  type ChatApiTextOptions,
  ChatUpdater,
  type ChatUpdaterDeps,
} from "../../src/chat/updater.ts";
import { cancelKeyboard } from "../../src/chat/keyboards.ts";

const CHAT = 42;
const STATUS_MESSAGE = 7;

/** A running playlist with its status message, in {@linkcode CHAT}. */
function runningJob(overrides: JobInput = {}): Job {
  return makeJob({
    id: "job000001",
    chatId: CHAT,
    state: "running",
    startedAt: T0,
    statusMessageId: STATUS_MESSAGE,
    ...overrides,
  });
}

function runningAt(done: number, overrides: JobInput = {}): Job {
  return runningJob({
    progress: { title: "Road Trip", total: 20, done, percent: done * 5 },
    ...overrides,
  });
}

/** Lets pending promise callbacks run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

/** A manual clock whose `sleep` only ends when the test advances time. */
class FakeClock {
  t = T0;
  #timers: { at: number; resolve: () => void }[] = [];
  now = (): number => this.t;
  sleep = (ms: number, signal: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      const timer = { at: this.t + ms, resolve };
      this.#timers.push(timer);
      signal.addEventListener("abort", () => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        resolve();
      }, { once: true });
    });

  #fireNext(limit: number): boolean {
    const next = [...this.#timers].sort((a, b) => a.at - b.at)[0];
    if (!next || next.at > limit) return false;
    this.#timers = this.#timers.filter((t) => t !== next);
    this.t = Math.max(this.t, next.at);
    next.resolve();
    return true;
  }

  /** Moves time forward by `ms`, waking sleepers in order. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    await flush();
    while (this.#fireNext(target)) await flush();
    this.t = target;
    await flush();
  }

  /** Advances time as far as needed for `promise` to settle. */
  async run<T>(promise: Promise<T>): Promise<T> {
    let settled = false;
    const watched = promise.finally(() => settled = true);
    await flush();
    while (!settled) {
      if (!this.#fireNext(Number.POSITIVE_INFINITY)) throw new Error("nothing left to wake");
      await flush();
    }
    return await watched;
  }
}

type Call =
  | {
    method: "editMessageText";
    at: number;
    messageId: number;
    text: string;
    other?: ChatApiTextOptions;
  }
  | { method: "sendMessage"; at: number; text: string; other?: ChatApiSendOptions }
  | { method: "sendAudio"; at: number; audio: InputFile; other?: ChatApiAudioOptions }
  | { method: "sendMediaGroup"; at: number; media: InputMediaAudio[] };

/** Records calls; scripted errors are thrown by the next calls of a method. */
class FakeApi implements ChatApi {
  calls: Call[] = [];
  #errors: { method: Call["method"]; error: Error }[] = [];
  #nextMessageId = 100;
  constructor(readonly clock: FakeClock) {}

  failNext(method: Call["method"], error: Error): void {
    this.#errors.push({ method, error });
  }

  #maybeFail(method: Call["method"]): void {
    const index = this.#errors.findIndex((e) => e.method === method);
    if (index >= 0) throw this.#errors.splice(index, 1)[0]!.error;
  }

  editMessageText(
    chatId: number,
    messageId: number,
    text: string,
    other?: ChatApiTextOptions,
  ): Promise<unknown> {
    assertEquals(chatId, CHAT);
    this.calls.push({ method: "editMessageText", at: this.clock.t, messageId, text, other });
    this.#maybeFail("editMessageText");
    return Promise.resolve(true);
  }

  sendMessage(
    chatId: number,
    text: string,
    other?: ChatApiSendOptions,
  ): Promise<{ message_id: number }> {
    assertEquals(chatId, CHAT);
    this.calls.push({ method: "sendMessage", at: this.clock.t, text, other });
    this.#maybeFail("sendMessage");
    return Promise.resolve({ message_id: this.#nextMessageId++ });
  }

  sendAudio(chatId: number, audio: InputFile, other?: ChatApiAudioOptions): Promise<unknown> {
    assertEquals(chatId, CHAT);
    this.calls.push({ method: "sendAudio", at: this.clock.t, audio, other });
    this.#maybeFail("sendAudio");
    return Promise.resolve(true);
  }

  sendMediaGroup(chatId: number, media: InputMediaAudio[]): Promise<unknown> {
    assertEquals(chatId, CHAT);
    this.calls.push({ method: "sendMediaGroup", at: this.clock.t, media });
    this.#maybeFail("sendMediaGroup");
    return Promise.resolve([]);
  }

  edits(): Extract<Call, { method: "editMessageText" }>[] {
    return this.calls.filter((c) => c.method === "editMessageText");
  }
}

function telegramError(method: string, code: number, description: string, retryAfter?: number) {
  return new GrammyError(
    `Call to '${method}' failed! (${code}: ${description})`,
    {
      ok: false,
      error_code: code,
      description,
      parameters: retryAfter !== undefined ? { retry_after: retryAfter } : {},
    },
    method,
    {},
  );
}

interface LogLine {
  level: string;
  message: string;
  properties?: Record<string, unknown>;
}

function setup(overrides: Partial<ChatUpdaterDeps> = {}) {
  const clock = new FakeClock();
  const api = new FakeApi(clock);
  const logs: LogLine[] = [];
  const log = (level: string) => (message: string, properties?: Record<string, unknown>) =>
    logs.push({ level, message, properties });
  const opened: string[] = [];
  const updater = new ChatUpdater({
    api,
    now: clock.now,
    sleep: clock.sleep,
    minEditIntervalMs: 1000,
    uploadLimitBytes: 50_000_000,
    fileLinks: (job) =>
      Promise.resolve(
        (job.result?.files ?? []).map((f) => ({
          name: f.name,
          url: `https://dl.example/${f.name}`,
        })),
      ),
    openFile: (job, name) => {
      opened.push(name);
      return Promise.resolve(`/data/jobs/${job.id}/${name}`);
    },
    logger: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") },
    ...overrides,
  });
  return { clock, api, logs, updater, opened };
}

function finishedTrack(size: number, overrides: JobInput = {}): Job {
  return runningJob({
    kind: "track",
    url: "https://open.spotify.com/track/4aawyAB9vmqN3uQ7FjRGTy",
    state: "succeeded",
    finishedAt: T0 + 20_000,
    progress: { title: "Song", total: 1, done: 1, percent: 100 },
    result: {
      title: "Song",
      files: [{ name: "Artist - Song.mp3", size, durationSeconds: 201.6 }],
      totalBytes: size,
    },
    ...overrides,
  });
}

Deno.test("20 updates within a second give one immediate edit and one trailing edit of the last state", async () => {
  const { clock, api, updater } = setup();
  for (let done = 1; done <= 20; done++) {
    updater.onUpdate(runningAt(done));
    await clock.advance(45);
  }
  assertEquals(api.edits().length, 1, "only the first state is shown during the first second");
  assertStringIncludes(api.edits()[0]!.text, "1/20 done");

  await clock.advance(1000);
  const edits = api.edits();
  assertEquals(edits.length, 2);
  assertStringIncludes(edits[1]!.text, "20/20 done");
  assertStringIncludes(edits[1]!.text, "▓▓▓▓▓▓▓▓▓▓ 100%");
  assertEquals(edits[1]!.messageId, STATUS_MESSAGE);
  assertEquals(edits[1]!.other?.reply_markup, cancelKeyboard("job000001"));
  assert(edits[1]!.at - edits[0]!.at >= 1000, "the trailing edit respects the interval");

  await clock.advance(10_000);
  assertEquals(api.edits().length, 2, "nothing more once the last state is shown");
  await updater.close();
});

Deno.test("a status is not re-sent when only its elapsed time changed", async () => {
  const { clock, api, updater } = setup();
  updater.onUpdate(runningAt(3));
  await clock.advance(5_000);
  updater.onUpdate(runningAt(3, { updatedAt: T0 + 1 }));
  await clock.advance(5_000);
  assertEquals(api.edits().length, 1);
  updater.onUpdate(runningAt(4));
  await clock.advance(5_000);
  assertEquals(api.edits().length, 2);
  await updater.close();
});

Deno.test("'message is not modified' counts as shown and is not logged as a failure", async () => {
  const { clock, api, logs, updater } = setup();
  api.failNext(
    "editMessageText",
    telegramError(
      "editMessageText",
      400,
      "Bad Request: message is not modified: specified new message content and reply markup are exactly the same",
    ),
  );
  updater.onUpdate(runningAt(3));
  await clock.advance(5_000);
  updater.onUpdate(runningAt(3));
  await clock.advance(5_000);
  assertEquals(api.edits().length, 1, "the same text is not retried");
  assertEquals(logs.filter((l) => l.level === "warn" || l.level === "error"), []);
  await updater.close();
});

Deno.test("a 429 silences the chat for retry_after seconds, then shows the latest state", async () => {
  const { clock, api, logs, updater } = setup();
  updater.onUpdate(runningAt(1));
  await clock.advance(1_500);
  api.failNext(
    "editMessageText",
    telegramError("editMessageText", 429, "Too Many Requests: retry after 30", 30),
  );
  updater.onUpdate(runningAt(2));
  await clock.advance(10);
  assertEquals(api.edits().length, 2, "the second edit was attempted");
  const blockedAt = api.edits()[1]!.at;

  for (let done = 3; done <= 9; done++) {
    updater.onUpdate(runningAt(done));
    await clock.advance(3_000);
  }
  assertEquals(api.edits().length, 2, "no calls during the flood wait");
  await clock.advance(30_000 - (clock.t - blockedAt) - 1);
  assertEquals(api.edits().length, 2, "still waiting just before retry_after ends");

  await clock.advance(10_000);
  const edits = api.edits();
  assertEquals(edits.length, 3);
  assertStringIncludes(edits[2]!.text, "9/20 done");
  assert(edits[2]!.at - blockedAt >= 30_000);
  assert(logs.some((l) => l.level === "warn" && l.properties?.retry_after_s === 30));
  await updater.close();
});

Deno.test("after a 429 the chat is edited less often than before", async () => {
  const { clock, api, updater } = setup();
  updater.onUpdate(runningAt(1));
  await clock.advance(10);
  api.failNext("editMessageText", telegramError("editMessageText", 429, "Too Many Requests", 2));
  updater.onUpdate(runningAt(2));
  await clock.advance(5_000);
  const before = api.edits().length;
  for (let done = 3; done <= 12; done++) {
    updater.onUpdate(runningAt(done));
    await clock.advance(1_000);
  }
  const edits = api.edits().slice(before);
  assert(edits.length >= 2, `expected edits after the flood wait, got ${edits.length}`);
  assert(edits.length < 10, `expected fewer than one edit per second, got ${edits.length}`);
  await updater.close();
});

Deno.test("jobs in the same chat share the edit interval", async () => {
  const { clock, api, updater } = setup();
  updater.onUpdate(runningAt(1));
  updater.onUpdate(runningAt(1, { id: "job000002", statusMessageId: 8 }));
  await clock.advance(10);
  assertEquals(api.edits().map((e) => e.messageId), [STATUS_MESSAGE]);
  await clock.advance(1_000);
  assertEquals(api.edits().map((e) => e.messageId), [STATUS_MESSAGE, 8]);
  await updater.close();
});

Deno.test("a job without a status message is not edited", async () => {
  const { clock, api, updater } = setup();
  updater.onUpdate(runningAt(1, { statusMessageId: undefined }));
  await clock.advance(5_000);
  assertEquals(api.calls, []);
  await updater.close();
});

Deno.test("a queued job's status shows its queue position", async () => {
  const { clock, api, updater } = setup({ positionOf: () => Promise.resolve(4) });
  updater.onUpdate(runningJob({ state: "queued", startedAt: undefined }));
  await clock.advance(10);
  assertEquals(api.edits()[0]!.text, "⏳ Job <code>job000001</code> is queued (position 4).");
  await updater.close();
});

Deno.test("a queued job's position handed in with the update is shown without a look at the queue", async () => {
  let looks = 0;
  const { clock, api, updater } = setup({
    positionOf: () => {
      looks++;
      return Promise.resolve(9);
    },
  });
  updater.onUpdate(runningJob({ state: "queued", startedAt: undefined }), 2);
  await clock.advance(10);
  assertEquals(api.edits()[0]!.text, "⏳ Job <code>job000001</code> is queued (position 2).");
  assertEquals(looks, 0, "no queue scan for the edit");
  await updater.close();
});

Deno.test("a deleted status message stops progress edits but the summary still arrives", async () => {
  const { clock, api, updater } = setup();
  api.failNext(
    "editMessageText",
    telegramError("editMessageText", 400, "Bad Request: message to edit not found"),
  );
  updater.onUpdate(runningAt(1));
  await clock.advance(2_000);
  updater.onUpdate(runningAt(2));
  await clock.advance(2_000);
  assertEquals(api.edits().length, 1);
  await clock.run(
    updater.onFinished(
      runningJob({ state: "failed", error: { code: "timeout", userMessage: "Too slow." } }),
    ),
  );
  assertEquals(api.edits().length, 1, "no final edit of a deleted message");
  const sent = api.calls.filter((c) => c.method === "sendMessage");
  assertEquals(sent.length, 1);
  assertEquals(sent[0]!.other?.reply_parameters?.allow_sending_without_reply, true);
  await updater.close();
});

Deno.test("onFinished of a small single track edits the status, sends the summary, then the audio", async () => {
  const { clock, api, updater, opened } = setup();
  updater.onUpdate(
    runningAt(0, { kind: "track", progress: { title: "Song", total: 1, percent: 40 } }),
  );
  await clock.advance(10);
  await clock.run(updater.onFinished(finishedTrack(4_000_000)));

  assertEquals(api.calls.map((c) => c.method), [
    "editMessageText",
    "editMessageText",
    "sendMessage",
    "sendAudio",
  ]);
  const [, finalEdit, summary, audio] = api.calls;
  assert(finalEdit?.method === "editMessageText");
  assertEquals(finalEdit.messageId, STATUS_MESSAGE);
  assertStringIncludes(finalEdit.text, "✅ Finished <b>Song</b>");
  assertEquals(finalEdit.other?.reply_markup, undefined, "the Cancel button is removed");

  assert(summary?.method === "sendMessage");
  assertMatch(summary.text, /^✅ <b>Song<\/b> — 1 track\n1 downloaded · 0 skipped · 0 failed/);
  assertStringIncludes(
    summary.text,
    '<a href="https://dl.example/Artist - Song.mp3">Artist - Song.mp3</a>',
  );
  assertEquals(summary.other?.reply_parameters?.message_id, STATUS_MESSAGE);

  assert(audio?.method === "sendAudio");
  assert(audio.audio instanceof InputFile);
  assertEquals(audio.audio.filename, "Artist - Song.mp3");
  assertEquals(opened, ["Artist - Song.mp3"]);
  assertEquals(audio.other?.caption, "Song");
  assertEquals(audio.other?.title, "Song");
  assertEquals(audio.other?.performer, "Artist");
  assertEquals(audio.other?.duration, 202);
  await updater.close();
});

Deno.test("onFinished sends no audio for a file above the upload limit", async () => {
  const { clock, api, updater } = setup({ uploadLimitBytes: 50_000_000 });
  await clock.run(updater.onFinished(finishedTrack(50_000_001)));
  assertEquals(api.calls.map((c) => c.method), ["editMessageText", "sendMessage"]);
  await updater.close();
});

Deno.test("onFinished sends no audio for a playlist", async () => {
  const { clock, api, updater } = setup();
  const job = runningJob({
    state: "succeeded",
    finishedAt: T0 + 60_000,
    progress: { title: "Road Trip", total: 1, done: 1, percent: 100 },
    result: { title: "Road Trip", files: [{ name: "a.mp3", size: 1_000 }], totalBytes: 1_000 },
  });
  await clock.run(updater.onFinished(job));
  assertEquals(api.calls.map((c) => c.method), ["editMessageText", "sendMessage"]);
  await updater.close();
});

Deno.test("a job stopped for its size gets its question with a 'Download all N tracks' button", async () => {
  const { clock, api, updater } = setup();
  const job = runningJob({
    state: "failed",
    finishedAt: T0 + 5_000,
    progress: { total: 250 },
    error: {
      code: "needs_confirmation",
      userMessage: 'This playlist has 250 tracks. Press "Download all 250 tracks" to go ahead.',
    },
  });
  await clock.run(updater.onFinished(job));
  const summary = api.calls.find((c) => c.method === "sendMessage");
  assert(summary?.method === "sendMessage");
  assertStringIncludes(summary.text, "This playlist has 250 tracks");
  assertEquals(summary.other?.reply_markup, {
    inline_keyboard: [[{ text: "Download all 250 tracks", callback_data: `confirm:${job.id}` }]],
  });
  await updater.close();
});

Deno.test("other summaries carry no buttons", async () => {
  const { clock, api, updater } = setup();
  await clock.run(
    updater.onFinished(
      runningJob({ state: "failed", error: { code: "timeout", userMessage: "x" } }),
    ),
  );
  const summary = api.calls.find((c) => c.method === "sendMessage");
  assert(summary?.method === "sendMessage");
  assertEquals(summary.other?.reply_markup, undefined);
  await updater.close();
});

Deno.test("a failed audio upload is logged and the summary is still delivered", async () => {
  const { clock, api, logs, updater } = setup();
  api.failNext("sendAudio", telegramError("sendAudio", 400, "Bad Request: wrong file"));
  await clock.run(updater.onFinished(finishedTrack(1_000)));
  assertEquals(api.calls.map((c) => c.method), ["editMessageText", "sendMessage", "sendAudio"]);
  assert(logs.some((l) => l.level === "warn" && l.message === "audio upload failed"));
  await updater.close();
});

Deno.test("onFinished drops the job's pending progress and ignores late updates", async () => {
  const { clock, api, updater } = setup();
  updater.onUpdate(runningAt(1));
  await clock.advance(10);
  updater.onUpdate(runningAt(2));
  const failed = runningJob({
    state: "failed",
    finishedAt: T0 + 500,
    error: { code: "no_results", userMessage: "Spotify found no songs for this link." },
  });
  await clock.run(updater.onFinished(failed));
  updater.onUpdate(runningAt(3));
  await clock.advance(10_000);

  const texts = api.calls.map((c) => "text" in c ? c.text : "audio");
  assertEquals(texts.length, 3);
  assertStringIncludes(texts[0]!, "1/20 done");
  assertEquals(texts[1], "❌ Job <code>job000001</code> failed. Details below.");
  assertStringIncludes(texts[2]!, "❌ Download failed: Spotify found no songs for this link.");
  assertNotMatch(texts.join("\n"), /2\/20 done|3\/20 done/);
  await updater.close();
});

Deno.test("a summary hit by a 429 is sent again after retry_after", async () => {
  const { clock, api, updater } = setup();
  api.failNext(
    "sendMessage",
    telegramError("sendMessage", 429, "Too Many Requests: retry after 12", 12),
  );
  await clock.run(updater.onFinished(runningJob({ state: "cancelled", finishedAt: T0 })));
  const sends = api.calls.filter((c) => c.method === "sendMessage");
  assertEquals(sends.length, 2);
  assertEquals(sends[1]!.text, "🚫 Job <code>job000001</code> cancelled.");
  assert(sends[1]!.at - sends[0]!.at >= 12_000);
  await updater.close();
});

Deno.test("onUpdate never throws, even when the API does", async () => {
  const { clock, api, logs, updater } = setup();
  api.failNext("editMessageText", new TypeError("network down"));
  updater.onUpdate(runningAt(1));
  await clock.advance(10);
  assert(logs.some((l) => l.level === "warn" && l.message === "progress edit failed"));
  await clock.advance(5_000);
  assertEquals(api.edits().length, 2, "the state is shown once the network is back");
  await updater.close();
});

Deno.test("close() ends a real-timer wait and later updates are ignored", async () => {
  const api: ChatApi & { count: number } = {
    count: 0,
    editMessageText() {
      this.count++;
      return Promise.resolve(true);
    },
    sendMessage() {
      return Promise.resolve({ message_id: 1 });
    },
    sendAudio() {
      return Promise.resolve(true);
    },
    sendMediaGroup() {
      return Promise.resolve([]);
    },
  };
  const quiet = () => {};
  const updater = new ChatUpdater({
    api,
    minEditIntervalMs: 600_000,
    uploadLimitBytes: 1,
    fileLinks: () => Promise.resolve([]),
    openFile: () => Promise.reject(new Error("unused")),
    logger: { debug: quiet, info: quiet, warn: quiet, error: quiet },
  });
  updater.onUpdate(runningAt(1));
  await flush();
  updater.onUpdate(runningAt(2));
  await flush();
  await updater.close();
  updater.onUpdate(runningAt(3));
  await flush();
  assertEquals(api.count, 1);
});

Deno.test("grammY's Api satisfies ChatApi", () => {
  const api: ChatApi = new Api("123456:TEST-token-not-used");
  assertEquals(typeof api.editMessageText, "function");
});
