/**
 * `dlbot run --sandbox`: the real bot against the built-in Telegram emulator, with a chat in the
 * terminal. Everything but Telegram is the production code path: whitelist, rate limits, KV,
 * the job queue, the downloader, metrics and health endpoints.
 *
 * Each input line is a message from the current user, except:
 *
 * | Line | Effect |
 * | --- | --- |
 * | `/as <id>` | speak as another user (an outsider sees the refusal) |
 * | `/wait` | wait until no job of this session is queued or running |
 * | `N` (a number) | press button N of the latest message with buttons |
 * | `/quit`, end of input | leave (piped input first waits as `/wait` does) |
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import { secretValues } from "../config/secrets.ts";
import { type AppLogger, setupLogging } from "../log/logger.ts";
import { type App, createApp } from "../app/create_app.ts";
import { type DownloaderCheck, downloaderFromConfig, LineSplitter } from "../downloader/mod.ts";
import { parseListenAddress } from "../http/server.ts";
import { TelegramEmulator } from "../emulator/emulator.ts";
import { sleep } from "../runtime/sleep.ts";
import { reachableHost, urlHost } from "../runtime/host.ts";
import type { ChatMessage, EmulatorEvent, SimulatedUser } from "../emulator/emulator_types.ts";
import { numberedButtons, TranscriptRenderer } from "./transcript.ts";

/** Where the sandbox reads and writes; `CliIo` from `src/cli.ts` satisfies it. */
export interface SandboxIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
  /** Whether standard input is a terminal (a person typing rather than a script). */
  stdinIsTerminal: boolean;
}

/** Options of {@linkcode runSandbox}. */
export interface SandboxOptions {
  /** The loaded configuration; the sandbox works on a copy. */
  config: Config;
  /** The CLI's logger; replaced, since sandbox logs go to a file. */
  logger: AppLogger;
  io: SandboxIo;
  /** The person's input; default standard input. */
  input?: ReadableStream<Uint8Array>;
}

/** One input line, understood. */
export type SandboxInput =
  | { kind: "say"; text: string }
  | { kind: "as"; userId: number }
  | { kind: "press"; number: number }
  | { kind: "wait" }
  | { kind: "quit" }
  | { kind: "empty" }
  | { kind: "invalid"; message: string };

/** Reads one input line: a sandbox command, a button number, or a message for the bot. */
export function parseInputLine(line: string): SandboxInput {
  const text = line.trim();
  if (text === "") return { kind: "empty" };
  if (/^\d{1,2}$/.test(text)) return { kind: "press", number: Number(text) };
  const [command, ...rest] = text.split(/\s+/);
  switch (command?.toLowerCase()) {
    case "/quit":
    case "/exit":
      return { kind: "quit" };
    case "/wait":
      return { kind: "wait" };
    case "/as": {
      const id = Number(rest[0]);
      if (rest.length !== 1 || !Number.isSafeInteger(id) || id <= 0) {
        return { kind: "invalid", message: "(usage: /as <user id>, for example /as 424242)" };
      }
      return { kind: "as", userId: id };
    }
    default:
      return { kind: "say", text };
  }
}

/** Quiet time after which the bot is considered done answering a line. */
const SETTLE_QUIET_MS = 300;
/** Longest wait for the bot's answer to one line (an outsider past the refusal limit gets none). */
const SETTLE_MAX_MS = 5_000;
/** Longest wait for last output when leaving. */
const FINAL_SETTLE_MS = 2_000;
/** Quiet time `/wait` needs on top of "no Cancel button left". */
const WAIT_QUIET_MS = 1_500;
/** How often waits look at the chats. */
const POLL_MS = 100;
/** Longest a quitting sandbox lets running downloads finish before re-queueing them. */
const SANDBOX_GRACE_SECONDS = 5;

/** Remembers when the chats last changed and which chats this session used. */
class Activity {
  lastChangeAt = Date.now();
  /** Last change in each chat made by the bot. */
  readonly botChangeAt = new Map<number, number>();
  readonly chats = new Set<number>();

  record(event: EmulatorEvent): void {
    if (event.type === "call") return;
    const now = Date.now();
    this.lastChangeAt = now;
    this.chats.add(event.chatId);
    const byBot = event.type === "message" || event.type === "edit"
      ? event.message.from === "bot"
      : true;
    if (byBot) this.botChangeAt.set(event.chatId, now);
  }

  quietFor(): number {
    return Date.now() - this.lastChangeAt;
  }
}

/** Does any bot message in these chats still offer a Cancel button (a job queued or running)? */
function jobsActive(emulator: TelegramEmulator, chats: Iterable<number>): boolean {
  for (const chatId of chats) {
    for (const message of emulator.chat(chatId)) {
      if (message.from !== "bot") continue;
      if (numberedButtons(message.replyMarkup).some((b) => b.data.startsWith("cancel:"))) {
        return true;
      }
    }
  }
  return false;
}

/** The latest bot message in a chat that has callback buttons. */
function latestWithButtons(emulator: TelegramEmulator, chatId: number): ChatMessage | undefined {
  const messages = emulator.chat(chatId);
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    if (message.from === "bot" && numberedButtons(message.replyMarkup).length > 0) return message;
  }
  return undefined;
}

/** `http://host:port` for people: wildcard addresses become loopback. */
function httpBase(address: { hostname: string; port: number }): string {
  return `http://${urlHost(reachableHost(address.hostname))}:${address.port}`;
}

/**
 * The address the HTTP server will listen on: the configured one when free, else (or when its
 * port is 0) a free port on the same host, so download links carry a port that works.
 */
function chooseListen(listen: string): { listen: string; note?: string } {
  const { hostname, port } = parseListenAddress(listen);
  const free = (wanted: number): number | undefined => {
    try {
      const listener = Deno.listen({ hostname, port: wanted });
      const chosen = listener.addr.port;
      listener.close();
      return chosen;
    } catch (error) {
      if (error instanceof Deno.errors.AddrInUse) return undefined;
      throw error;
    }
  };
  if (port !== 0 && free(port) !== undefined) return { listen };
  const chosen = free(0)!;
  return {
    listen: listen.replace(/:\d+$/, `:${chosen}`),
    note: port === 0
      ? undefined
      : `(${listen} is in use, so the sandbox listens on port ${chosen})`,
  };
}

function joinPath(dir: string, name: string): string {
  return `${dir.replace(/\/+$/, "")}/${name}`;
}

/** A log sink appending to a file; writes after `close()` are dropped. */
function fileSink(path: string): { write: (line: string) => void; close: () => void } {
  const file = Deno.openSync(path, { append: true, create: true });
  const encoder = new TextEncoder();
  let open = true;
  return {
    write(line) {
      if (!open) return;
      const bytes = encoder.encode(line);
      let written = 0;
      while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
    },
    close() {
      if (open) file.close();
      open = false;
    },
  };
}

function downloaderWarning(check: DownloaderCheck & { ok: false }): string {
  return [
    `! The downloader cannot run: ${check.message}.`,
    "  Install spotDL with `pipx install spotdl`, and ffmpeg (`spotdl --download-ffmpeg` or your",
    "  package manager); or set downloader.command in config/bot.toml (or DLBOT_DOWNLOADER_COMMAND)",
    "  to the executable. The chat works anyway: /download will tell you the same.",
    "",
  ].join("\n");
}

function banner(userId: number, app: App, logPath: string, note?: string): string {
  const base = httpBase(app.httpAddress);
  return [
    "dlbot sandbox — a local chat with your bot (no Telegram needed).",
    `You are user ${userId}. Type /help. /as <id> to speak as another user (try an outsider),`,
    "/wait to wait for running jobs, /quit to leave. Press buttons by typing their number.",
    `  metrics: ${base}/metrics   readiness: ${base}/readyz`,
    `  logs:    ${logPath} (JSON lines)`,
    ...(note ? [`  ${note}`] : []),
    "",
    "",
  ].join("\n");
}

/** Lines of a byte stream, one at a time; `next()` resolves undefined at the end. */
class LineReader {
  readonly #reader: ReadableStreamDefaultReader<string>;
  readonly #splitter = new LineSplitter();
  readonly #ready: string[] = [];
  #ended = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  async next(): Promise<string | undefined> {
    while (this.#ready.length === 0 && !this.#ended) {
      const { value, done } = await this.#reader.read();
      if (done) {
        this.#ended = true;
        this.#ready.push(...this.#splitter.flush());
      } else {
        this.#ready.push(...this.#splitter.push(value));
      }
    }
    return this.#ready.shift();
  }

  cancel(): void {
    this.#reader.cancel().catch(() => {});
  }
}

/**
 * Runs the sandbox until `/quit`, end of input or Ctrl+C; returns the exit code. See the module
 * documentation for what the person can type.
 */
export async function runSandbox(options: SandboxOptions): Promise<number> {
  const { io } = options;
  const source = options.config;
  const interactive = io.stdinIsTerminal;
  const userId = source.sandbox.user_id;
  const dataDir = source.storage.data_dir;
  await Deno.mkdir(dataDir, { recursive: true });

  const emulator = await TelegramEmulator.start({ port: 0 });
  const logPath = joinPath(dataDir, "sandbox.log");
  const sink = fileSink(logPath);
  const logger = await setupLogging({
    level: source.log.level,
    format: "json",
    secrets: [...secretValues(source), emulator.token],
    write: sink.write,
  });

  const { listen, note } = chooseListen(source.http.listen);
  const config: Config = structuredClone(source);
  config.telegram.api_root = emulator.apiRoot;
  config.telegram.token = emulator.token;
  config.telegram.mode = "polling";
  config.http.listen = listen;
  config.shutdown.grace_seconds = Math.min(config.shutdown.grace_seconds, SANDBOX_GRACE_SECONDS);

  const check = await downloaderFromConfig(config).check();

  const stdoutIsTerminal = Deno.stdout.isTerminal();
  const renderer = new TranscriptRenderer({
    tty: interactive,
    homeChatId: userId,
    terminalSize: () => {
      if (!stdoutIsTerminal) return undefined;
      try {
        return Deno.consoleSize();
      } catch {
        return undefined;
      }
    },
  });
  const activity = new Activity();
  const unsubscribe = emulator.onChange((event) => {
    activity.record(event);
    const text = renderer.render(event);
    if (text) io.out(text);
  });

  let app: App;
  try {
    app = await createApp({
      config,
      logger,
      token: emulator.token,
      kvPath: joinPath(dataDir, "sandbox.kv"),
      extraAllowedUserIds: [userId],
    });
  } catch (error) {
    io.err(`Could not start the sandbox: ${error instanceof Error ? error.message : error}\n`);
    unsubscribe();
    await emulator.close();
    sink.close();
    return 1;
  }

  const quit = new AbortController();
  const removeSignals = onSignals(() => quit.abort(), io);
  const reader = new LineReader(options.input ?? Deno.stdin.readable);
  try {
    await app.start();
    io.out(banner(userId, app, logPath, note));
    if (!check.ok) io.err(downloaderWarning(check));
    const session = new Session({
      emulator,
      renderer,
      activity,
      io,
      homeUser: { id: userId, first_name: io.env.USER || io.env.USERNAME || "Sandbox" },
      waitLimitMs: (config.downloader.timeout_minutes * 60 + config.downloader.kill_grace_seconds) *
        1000,
      signal: quit.signal,
    });
    const ended = new Promise<undefined>((resolve) =>
      quit.signal.addEventListener("abort", () => resolve(undefined), { once: true })
    );
    for (;;) {
      const next = reader.next();
      next.catch(() => {});
      const line = await Promise.race([next, ended]);
      if (line === undefined) {
        if (!quit.signal.aborted && !interactive) await session.waitForJobs({ reportIdle: false });
        break;
      }
      if (interactive) renderer.typed();
      if (!(await session.handle(line))) break;
    }
    await session.settle(quit.signal.aborted ? 0 : FINAL_SETTLE_MS);
    return 0;
  } catch (error) {
    io.err(`The sandbox stopped: ${error instanceof Error ? error.message : error}\n`);
    return 1;
  } finally {
    reader.cancel();
    removeSignals();
    await app.stop();
    unsubscribe();
    if (jobsActive(emulator, activity.chats)) {
      io.out(renderer.note(
        "(unfinished jobs went back to the queue; they continue the next time the sandbox starts)",
      ));
    }
    await emulator.close();
    sink.close();
  }
}

/** SIGINT (Ctrl+C) and SIGTERM end the session; a second one exits at once. */
function onSignals(handler: () => void, io: SandboxIo): () => void {
  let received = 0;
  const listener = () => {
    if (++received > 1) {
      io.err("\nExiting now.\n");
      Deno.exit(130);
    }
    handler();
  };
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, listener);
  return () => {
    for (const signal of signals) Deno.removeSignalListener(signal, listener);
  };
}

interface SessionDeps {
  emulator: TelegramEmulator;
  renderer: TranscriptRenderer;
  activity: Activity;
  io: SandboxIo;
  homeUser: SimulatedUser;
  waitLimitMs: number;
  signal: AbortSignal;
}

/** The person's side of the chat: who speaks, and what each line does. */
class Session {
  readonly #deps: SessionDeps;
  #user: SimulatedUser;

  constructor(deps: SessionDeps) {
    this.#deps = deps;
    this.#user = deps.homeUser;
  }

  /** Handles one input line; false when the person wants to leave. */
  async handle(line: string): Promise<boolean> {
    const input = parseInputLine(line);
    const { emulator, renderer, io } = this.#deps;
    const chatId = this.#user.id;
    switch (input.kind) {
      case "empty":
        return true;
      case "quit":
        return false;
      case "invalid":
        io.out(renderer.note(input.message));
        return true;
      case "as": {
        this.#user = input.userId === this.#deps.homeUser.id
          ? this.#deps.homeUser
          : { id: input.userId };
        io.out(renderer.note(`(now speaking as user ${input.userId})`));
        return true;
      }
      case "wait":
        await this.waitForJobs({ reportIdle: true });
        return true;
      case "press": {
        const message = latestWithButtons(emulator, chatId);
        const buttons = numberedButtons(message?.replyMarkup);
        const button = buttons.find((b) => b.number === input.number);
        if (!message || !button) {
          io.out(renderer.note(
            buttons.length === 0
              ? "(no buttons to press in this chat)"
              : buttons.length === 1
              ? `(no button ${input.number}: the latest message has only button 1)`
              : `(no button ${input.number}: the latest buttons are 1–${buttons.length})`,
          ));
          return true;
        }
        io.out(renderer.action(chatId, `(pressed [${button.number} ${button.text}])`));
        const since = Date.now();
        emulator.pressButton(
          this.#user,
          { chatId, messageId: message.messageId },
          button.data,
        );
        await this.#answered(chatId, since);
        return true;
      }
      case "say": {
        const since = Date.now();
        emulator.sendText(this.#user, input.text, { chatId });
        await this.#answered(chatId, since);
        return true;
      }
    }
  }

  /** Waits for the bot's answer in a chat: a change by the bot, then a short quiet time. */
  async #answered(chatId: number, since: number): Promise<void> {
    const { activity, signal } = this.#deps;
    const deadline = Date.now() + SETTLE_MAX_MS;
    while (!signal.aborted && Date.now() < deadline) {
      const answered = (activity.botChangeAt.get(chatId) ?? 0) >= since;
      if (answered && activity.quietFor() >= SETTLE_QUIET_MS) return;
      await sleep(POLL_MS, signal);
    }
  }

  /** Waits (up to `maxMs`) until the chats have been quiet for a moment. */
  async settle(maxMs: number): Promise<void> {
    const deadline = Date.now() + maxMs;
    while (Date.now() < deadline && this.#deps.activity.quietFor() < SETTLE_QUIET_MS) {
      await sleep(POLL_MS);
    }
  }

  /**
   * Waits until no job of this session is queued or running: no status message offers a Cancel
   * button any more and the chats have been quiet for a moment (the summary has arrived).
   * Bounded by the downloader's timeout.
   */
  async waitForJobs(options: { reportIdle: boolean }): Promise<void> {
    const { emulator, activity, renderer, io, signal, waitLimitMs } = this.#deps;
    const deadline = Date.now() + waitLimitMs;
    let announced = false;
    while (!signal.aborted) {
      const busy = jobsActive(emulator, activity.chats);
      if (!busy && activity.quietFor() >= WAIT_QUIET_MS) {
        if (announced) io.out(renderer.note("(all jobs done)"));
        else if (options.reportIdle) io.out(renderer.note("(no jobs running)"));
        return;
      }
      if (Date.now() >= deadline) {
        io.out(renderer.note("(jobs are still running; stopped waiting)"));
        return;
      }
      if (busy && !announced) {
        io.out(renderer.note("(waiting for running jobs…)"));
        announced = true;
      }
      await sleep(POLL_MS, signal);
    }
  }
}
