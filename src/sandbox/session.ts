/**
 * The person's side of the sandbox chat: reading input lines, what each one does (speak, switch
 * user, press a button, wait, quit), and waiting for the bot's answers.
 *
 * @module
 */
import type { TelegramEmulator } from "../emulator/mod.ts";
import type { ChatMessage, EmulatorEvent, SimulatedUser } from "../emulator/mod.ts";
import { LineSplitter } from "../downloader/mod.ts";
import { sleep } from "../runtime/sleep.ts";
import { numberedButtons, type TranscriptRenderer } from "./transcript.ts";

/** Where the sandbox reads and writes; `CliIo` from `src/cli/main.ts` satisfies it. */
export interface SandboxIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
  /** Whether standard input is a terminal (a person typing rather than a script). */
  stdinIsTerminal: boolean;
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
/** Quiet time `/wait` needs on top of "no Cancel button left". */
const WAIT_QUIET_MS = 1_500;
/** How often waits look at the chats. */
const POLL_MS = 100;

/** Remembers when the chats last changed and which chats this session used. */
export class Activity {
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
export function jobsActive(emulator: TelegramEmulator, chats: Iterable<number>): boolean {
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

/** Lines of a byte stream, one at a time; `next()` resolves undefined at the end. */
export class LineReader {
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

export interface SessionDeps {
  emulator: TelegramEmulator;
  renderer: TranscriptRenderer;
  activity: Activity;
  io: SandboxIo;
  homeUser: SimulatedUser;
  waitLimitMs: number;
  signal: AbortSignal;
}

/** The person's side of the chat: who speaks, and what each line does. */
export class Session {
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
