/**
 * A Telegram Bot API emulator: an HTTP server that speaks the real Bot API wire format, so the real
 * grammY bot runs against it unchanged (`new Bot(token, { client: { apiRoot } })`). Simulated
 * people send messages and press buttons; tests and the sandbox terminal UI read chat transcripts,
 * recorded calls and live events; faults and flood limits can be injected.
 *
 * ```ts
 * const emulator = await TelegramEmulator.start();
 * const bot = new Bot(emulator.token, { client: { apiRoot: emulator.apiRoot } });
 * emulator.sendText({ id: 42 }, "/start");
 * await emulator.waitForBotMessage(42, /welcome/i);
 * await emulator.close();
 * ```
 *
 * @module
 */
import { badRequest, BotApiError, tooManyRequests } from "./api_error.ts";
import { type SendTextOptions, SimulatedTelegram } from "./bot_api.ts";
import type {
  CallbackAnswer,
  ChatMessage,
  EmulatorEvent,
  EmulatorOptions,
  EmulatorStats,
  FaultKind,
  FaultRule,
  RecordedCall,
  SimulatedUser,
  TgBotCommand,
  TgBotUser,
  TgUpdate,
} from "./emulator_types.ts";
import { FaultInjector } from "./faults.ts";
import { readRequestParams, type UploadLimits } from "./request_params.ts";

export type * from "./emulator_types.ts";
export type { SendTextOptions } from "./bot_api.ts";

/** Bot user the emulator plays by default. */
export const DEFAULT_BOT_USER = {
  id: 123456,
  first_name: "dlbot sandbox",
  username: "dlbot_sandbox_bot",
} as const;

const TOKEN_SECRET = "AAEmulatorTokenForLocalTestsOnly000";
const DEFAULT_UPLOAD_LIMIT = 50 * 1024 * 1024;

interface Waiter {
  check: () => void;
  fail: (error: unknown) => void;
}

interface Outcome {
  status: number;
  body: Record<string, unknown>;
  /** Cut the connection instead of answering. */
  drop: boolean;
}

/** Options of {@linkcode TelegramEmulator.waitFor}. */
export interface WaitOptions {
  /** Give up after this long (default 10 000 ms). */
  timeoutMs?: number;
  /** What was awaited, for the timeout error. */
  message?: string;
  /** Also re-check this often, for conditions the emulator cannot see change (files, KV). */
  intervalMs?: number;
}

/** What a {@linkcode TelegramEmulator.waitFor} probe returns: undefined, false or null = not yet. */
export type Probed<T> = T | undefined | false | null;

/** Options of {@linkcode TelegramEmulator.waitForBotMessage}. */
export interface WaitForMessageOptions extends WaitOptions {
  /** Only messages with a higher id than this one count. */
  after?: number;
}

/** The emulator. Start it with {@linkcode TelegramEmulator.start}; always {@linkcode close} it. */
export class TelegramEmulator {
  /** Base URL to pass to grammY as `apiRoot`, e.g. "http://127.0.0.1:43123". */
  readonly apiRoot: string;
  /** The token the emulator accepts. */
  readonly token: string;
  /** The bot user `getMe` returns. */
  readonly botUser: TgBotUser;

  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #abort = new AbortController();
  /** Aborted when closing starts: held calls let go. */
  readonly #closing = new AbortController();
  readonly #now: () => number;
  readonly #limits: UploadLimits;
  readonly #telegram: SimulatedTelegram;
  readonly #faults: FaultInjector;
  readonly #calls: RecordedCall[] = [];
  readonly #stats: EmulatorStats = {
    totalCalls: 0,
    byMethod: {},
    failedCalls: 0,
    floodRejections: 0,
    injectedFaults: 0,
  };
  readonly #listeners = new Set<(event: EmulatorEvent) => void>();
  readonly #waiters = new Set<Waiter>();
  readonly #sleeps = new Set<() => void>();
  #closed: Promise<void> | undefined;

  private constructor(options: EmulatorOptions) {
    this.botUser = {
      id: options.botUser?.id ?? DEFAULT_BOT_USER.id,
      is_bot: true,
      first_name: options.botUser?.first_name ?? DEFAULT_BOT_USER.first_name,
      username: options.botUser?.username ?? DEFAULT_BOT_USER.username,
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
    };
    this.token = options.token ?? `${this.botUser.id}:${TOKEN_SECRET}`;
    this.#now = options.now ?? Date.now;
    this.#limits = {
      maxUploadBytes: options.maxUploadBytes ?? DEFAULT_UPLOAD_LIMIT,
      recordFileBytes: options.recordFileBytes ?? true,
    };
    this.#faults = new FaultInjector(options.seed ?? 1);
    this.#telegram = new SimulatedTelegram({
      botUser: this.botUser,
      now: this.#now,
      floodLimit: options.floodLimit,
      emit: (event) => this.#emit(event),
      onPollWait: () => this.#checkWaiters(),
      onWebhookReply: async (method, params) => {
        await this.#process(this.#telegram.canonical(method), params, this.#now(), undefined);
      },
    });
    this.#server = Deno.serve({
      port: options.port ?? 0,
      hostname: options.hostname ?? "127.0.0.1",
      signal: this.#abort.signal,
      onListen: () => {},
    }, (request) => this.#handle(request));
    const { hostname, port } = this.#server.addr;
    this.apiRoot = `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
  }

  /** Starts an emulator listening on `options.port` (default: a free port on 127.0.0.1). */
  static start(options: EmulatorOptions = {}): Promise<TelegramEmulator> {
    return Promise.resolve(new TelegramEmulator(options));
  }

  // ---- simulated people ----

  /**
   * A person sends `text` to the bot (in their private chat, or in `options.chatId`). Bot
   * commands and links get entities like a real client sends. Returns the queued update.
   */
  sendText(from: SimulatedUser, text: string, options: SendTextOptions = {}): TgUpdate {
    this.#assertOpen();
    return this.#telegram.userSendsText(from, text, options);
  }

  /**
   * A person presses the inline button with callback data `data` under a bot message. Throws
   * when the message has no such button (a real person could not press it either).
   */
  pressButton(
    from: SimulatedUser,
    message: { chatId: number; messageId: number },
    data: string,
  ): TgUpdate {
    this.#assertOpen();
    return this.#telegram.userPressesButton(from, message, data);
  }

  /**
   * Queues an update exactly as given (no checks): what a hostile or broken client could make
   * Telegram deliver, for robustness tests.
   */
  sendRawUpdate(content: Record<string, unknown>): TgUpdate {
    this.#assertOpen();
    return this.#telegram.updates.push(content as Omit<TgUpdate, "update_id">);
  }

  /** Marks a private chat as blocked by its user (sends get 403) or unblocked. */
  setBlocked(userId: number, blocked: boolean): void {
    this.#telegram.setBlocked(userId, blocked);
  }

  // ---- inspection ----

  /** Every Bot API call, in the order they were answered. */
  get calls(): readonly RecordedCall[] {
    return this.#calls;
  }

  /** Calls of one method (case-insensitive). */
  callsTo(method: string): RecordedCall[] {
    const name = method.toLowerCase();
    return this.#calls.filter((c) => c.method.toLowerCase() === name);
  }

  /** The chat's live messages, both sides, in order, with edits applied. */
  chat(chatId: number): ChatMessage[] {
    const chats = this.#telegram.chats;
    return chats.messages(chatId).map((m) => chats.toChatMessage(m));
  }

  /** The bot's live messages in the chat, in order, with edits applied. */
  botMessages(chatId: number): ChatMessage[] {
    return this.chat(chatId).filter((m) => m.from === "bot");
  }

  /** Ids of every chat the emulator knows. */
  chatIds(): number[] {
    return this.#telegram.chats.chatIds();
  }

  /** The bot's answers to button presses, optionally for one chat. */
  callbackAnswers(chatId?: number): CallbackAnswer[] {
    return this.#telegram.callbackAnswers(chatId);
  }

  /** The command menu set with setMyCommands (default scope, optional language). */
  botCommands(languageCode = ""): TgBotCommand[] {
    return this.#telegram.botCommands(languageCode);
  }

  /** Whether a getUpdates long poll is waiting for updates right now. */
  get longPollWaiting(): boolean {
    return this.#telegram.updates.waiting;
  }

  /** Updates the bot has not confirmed yet. */
  get pendingUpdateCount(): number {
    return this.#telegram.updates.pendingCount;
  }

  /** Counters (a copy). */
  get stats(): EmulatorStats {
    return structuredClone(this.#stats);
  }

  /** Most sends+edits accepted in any 1-second window in `chatId` (or the busiest chat). */
  maxPerChatPerSecond(chatId?: number): number {
    return this.#telegram.flood.maxPerChatPerSecond(chatId);
  }

  /** Subscribes to state changes; returns the unsubscribe function. */
  onChange(listener: (event: EmulatorEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Resolves with the first value of `probe` other than undefined/false/null, re-checking after
   * every change in the emulator (and every `intervalMs`, when given, for conditions outside it).
   * `probe` may be async. Rejects after `timeoutMs` with the awaited condition and the recent
   * transcript, or when the emulator closes.
   */
  waitFor<T>(probe: () => Probed<T> | Promise<Probed<T>>, options: WaitOptions = {}): Promise<T> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise<T>((resolve, reject) => {
      const state: {
        timer?: ReturnType<typeof setTimeout>;
        interval?: ReturnType<typeof setInterval>;
        running: boolean;
        again: boolean;
        done: boolean;
      } = { running: false, again: false, done: false };
      const finish = () => {
        state.done = true;
        clearTimeout(state.timer);
        clearInterval(state.interval);
        this.#waiters.delete(waiter);
      };
      const settle = (value: Probed<T>) => {
        if (state.done || value === undefined || value === false || value === null) return;
        finish();
        resolve(value);
      };
      const fail = (error: unknown) => {
        if (state.done) return;
        finish();
        reject(error);
      };
      const check = () => {
        if (state.done) return;
        if (state.running) {
          state.again = true;
          return;
        }
        let value: Probed<T> | Promise<Probed<T>>;
        try {
          value = probe();
        } catch (error) {
          fail(error);
          return;
        }
        if (!(value instanceof Promise)) {
          settle(value);
          return;
        }
        state.running = true;
        value.then(settle, fail).finally(() => {
          state.running = false;
          if (state.again) {
            state.again = false;
            check();
          }
        });
      };
      const waiter: Waiter = { check, fail };
      this.#waiters.add(waiter);
      check();
      if (state.done) return;
      if (this.#closed) {
        fail(new Error(this.#describeWait("the emulator is closed", options.message)));
        return;
      }
      state.timer = setTimeout(() => {
        fail(new Error(this.#describeWait(`timed out after ${timeoutMs} ms`, options.message)));
      }, timeoutMs);
      if (options.intervalMs !== undefined) state.interval = setInterval(check, options.intervalMs);
    });
  }

  /** Waits for a bot message in the chat whose current text (or caption) matches. */
  waitForBotMessage(
    chatId: number,
    match: string | RegExp,
    options: WaitForMessageOptions = {},
  ): Promise<ChatMessage> {
    const after = options.after ?? 0;
    return this.waitFor(
      () =>
        this.botMessages(chatId).find((m) =>
          m.messageId > after && matches(m.text ?? m.caption ?? "", match)
        ),
      {
        ...options,
        message: options.message ??
          `a bot message in chat ${chatId} matching ${String(match)}` +
            (after ? ` after message ${after}` : ""),
      },
    );
  }

  // ---- fault injection ----

  /** Adds a fault rule; rules are tried in the order they were added. */
  injectFaults(rule: FaultRule): void {
    this.#faults.add(rule);
  }

  /** Removes every fault rule. */
  clearFaults(): void {
    this.#faults.clear();
  }

  // ---- lifecycle ----

  /**
   * Stops the server. A waiting getUpdates returns (empty), delayed calls go ahead, webhook
   * delivery stops, pending waiters reject; no timers or connections are left behind.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing.abort();
      for (const wake of [...this.#sleeps]) wake();
      for (const waiter of [...this.#waiters]) {
        waiter.fail(new Error(this.#describeWait("the emulator was closed", undefined)));
      }
      await this.#telegram.close();
      this.#abort.abort();
      await this.#server.finished;
    })();
    return this.#closed;
  }

  /** Same as {@linkcode close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- HTTP ----

  async #handle(request: Request): Promise<Response> {
    const at = this.#now();
    const url = new URL(request.url);
    const path = /^\/bot([^/]*)\/(?:test\/)?([A-Za-z]+)\/?$/.exec(url.pathname);
    if (path === undefined || path === null) {
      await request.body?.cancel();
      return json(404, { ok: false, error_code: 404, description: "Not Found" });
    }
    const [, token = "", rawMethod = ""] = path;
    const method = this.#telegram.canonical(rawMethod);
    let params: Record<string, unknown>;
    try {
      params = await readRequestParams(request, url, this.#limits);
    } catch (error) {
      const failure = error instanceof BotApiError ? error : badRequest(String(error));
      this.#record({ method, params: {}, at, ok: false, ...errorFields(failure) });
      return json(failure.errorCode, failure.toBody());
    }
    if (token !== this.token) {
      const failure = new BotApiError(401, "Unauthorized");
      this.#record({ method, params, at, ok: false, ...errorFields(failure) });
      return json(401, failure.toBody());
    }
    // The signal is read only for a held call: Deno warns about its legacy behaviour on access.
    const outcome = await this.#process(method, params, at, () => request.signal);
    if (outcome.drop) return droppedResponse();
    return json(outcome.status, outcome.body);
  }

  /** Runs one call through faults, flood limits and the method; records it. */
  async #process(
    method: string,
    params: Record<string, unknown>,
    at: number,
    clientGone: (() => AbortSignal) | undefined,
  ): Promise<Outcome> {
    const handler = this.#telegram.method(method);
    if (handler === undefined) {
      const failure = new BotApiError(404, "Not Found");
      this.#record({ method, params, at, ok: false, ...errorFields(failure) });
      return { status: 404, body: failure.toBody(), drop: false };
    }
    const fault = this.#faults.pick(method);
    let dropResponse = false;
    if (fault) {
      this.#stats.injectedFaults++;
      const early = this.#earlyFault(fault);
      if (early === "drop") {
        this.#record({ method, params, at, ok: false, fault: fault.kind });
        return { status: 0, body: {}, drop: true };
      }
      if (early) {
        this.#record({ method, params, at, ok: false, ...errorFields(early), fault: fault.kind });
        return { status: early.errorCode, body: early.toBody(), drop: false };
      }
      if (fault.kind === "delay") await this.#sleep(fault.delayMs ?? 1000);
      if (fault.kind === "hold") {
        await this.#held(clientGone);
        this.#record({ method, params, at, ok: false, fault: fault.kind });
        return { status: 0, body: {}, drop: true };
      }
      dropResponse = fault.kind === "drop_response";
    }
    const faultField: { fault?: FaultKind } = fault ? { fault: fault.kind } : {};
    try {
      const result = await handler(params);
      this.#record({ method, params, at, ok: !dropResponse, ...faultField });
      return { status: 200, body: { ok: true, result }, drop: dropResponse };
    } catch (error) {
      const failure = error instanceof BotApiError ? error : new BotApiError(
        500,
        `Internal Server Error: emulator failure: ${error instanceof Error ? error.stack : error}`,
      );
      if (failure.errorCode === 429) this.#stats.floodRejections++;
      this.#record({ method, params, at, ok: false, ...errorFields(failure), ...faultField });
      return { status: failure.errorCode, body: failure.toBody(), drop: dropResponse };
    }
  }

  /** Waits until the caller hangs up or the emulator closes (a "hold" fault: the call never runs). */
  #held(clientGone: (() => AbortSignal) | undefined): Promise<void> {
    const signals = [this.#closing.signal, ...(clientGone ? [clientGone()] : [])];
    const any = AbortSignal.any(signals);
    if (any.aborted) return Promise.resolve();
    return new Promise((resolve) => any.addEventListener("abort", () => resolve(), { once: true }));
  }

  #earlyFault(fault: FaultRule): BotApiError | "drop" | undefined {
    switch (fault.kind) {
      case "429":
        return tooManyRequests(fault.retryAfter ?? 1);
      case "500":
        return new BotApiError(500, "Internal Server Error");
      case "drop":
        return "drop";
      default:
        return undefined;
    }
  }

  #record(call: RecordedCall): void {
    this.#calls.push(call);
    this.#stats.totalCalls++;
    this.#stats.byMethod[call.method] = (this.#stats.byMethod[call.method] ?? 0) + 1;
    if (!call.ok) this.#stats.failedCalls++;
    this.#emit({ type: "call", call });
  }

  #emit(event: EmulatorEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    this.#checkWaiters();
  }

  #checkWaiters(): void {
    for (const waiter of [...this.#waiters]) waiter.check();
  }

  #sleep(ms: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#sleeps.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#sleeps.add(wake);
    });
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error("the emulator is closed");
  }

  #describeWait(reason: string, awaited: string | undefined): string {
    const lines = [`Waiting for ${awaited ?? "a condition"}: ${reason}.`];
    const chats = this.#telegram.chats;
    const messages = chats.chatIds()
      .flatMap((id) => chats.messages(id))
      .filter((m) => m.from === "bot")
      .slice(-10);
    lines.push(messages.length ? "Recent bot messages:" : "The bot has sent no messages.");
    for (const m of messages) {
      const body = m.text ?? m.caption ?? (m.audio ? "[audio]" : m.document ? "[document]" : "");
      const edits = m.editCount ? ` (edited ${m.editCount}x)` : "";
      lines.push(`  chat ${m.chatId} #${m.messageId}${edits}: ${JSON.stringify(body)}`);
    }
    const calls = this.#calls.filter((c) => c.method !== "getUpdates").slice(-10);
    if (calls.length) {
      lines.push("Recent calls:");
      for (const c of calls) {
        lines.push(
          `  ${c.method} ${
            c.ok ? "ok" : `failed ${c.errorCode ?? c.fault}: ${c.description ?? ""}`
          }`,
        );
      }
    }
    return lines.join("\n");
  }
}

function json(status: number, body: Record<string, unknown>): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/** A response whose body ends early: the client sees a broken connection. */
function droppedResponse(): Response {
  return new Response('{"ok":', {
    status: 200,
    headers: { "content-type": "application/json", "content-length": "4096" },
  });
}

function errorFields(error: BotApiError): Pick<RecordedCall, "errorCode" | "description"> {
  return { errorCode: error.errorCode, description: error.description };
}

function matches(text: string, match: string | RegExp): boolean {
  if (typeof match === "string") return text.includes(match);
  match.lastIndex = 0;
  return match.test(text);
}
