/**
 * The sandbox chat as terminal text: turns the emulator's change events into lines such as
 *
 * ```text
 * you › /download https://open.spotify.com/playlist/…
 * bot › ⏳ Job abc123 is queued (position 1).
 *       [1 Cancel]
 * bot (edited) › ⬇️ Downloading Top Hits (playlist)
 * bot (popup) › Cancelled.
 * bot › 📎 Artist - Title.mp3 (4.2 MB)
 * ```
 *
 * Rendering is a pure function of the events seen so far ({@linkcode TranscriptRenderer} keeps
 * only what it printed), so it is tested without a terminal. On a terminal the person's own
 * typing is already visible, so user messages are not echoed, and an edit of the block printed
 * last is redrawn in place with ANSI cursor movement.
 *
 * @module
 */
import type {
  ChatMessage,
  EmulatorEvent,
  SentFileInfo,
  TgInlineKeyboardMarkup,
  TgMessageEntity,
} from "../emulator/mod.ts";
import { formatBytes } from "../chat/format.ts";

/** A button that sends callback data, with the number the person types to press it. */
export interface NumberedButton {
  /** 1-based number, counted across rows left to right. */
  number: number;
  /** Label. */
  text: string;
  /** The callback data pressing it sends. */
  data: string;
}

/** How {@linkcode TranscriptRenderer} writes. */
export interface TranscriptOptions {
  /**
   * Output goes to a terminal: user messages are not echoed (the terminal shows the typing) and
   * edits of the latest block are redrawn in place.
   */
  tty: boolean;
  /** Current terminal size (asked at each redraw); without it edits are never redrawn in place. */
  terminalSize?: () => { columns: number; rows: number } | undefined;
  /** The sandbox user's own chat: other chats get a `[<chat id>]` prefix. */
  homeChatId?: number;
}

/** Moves the cursor up `n` rows to column 0 and clears to the end of the screen. */
function eraseRows(n: number): string {
  return `\x1b[${n}A\r\x1b[J`;
}

/** Callback buttons of a keyboard, numbered as the transcript shows them. */
export function numberedButtons(markup: TgInlineKeyboardMarkup | undefined): NumberedButton[] {
  const buttons: NumberedButton[] = [];
  for (const row of markup?.inline_keyboard ?? []) {
    for (const button of row) {
      if (button.callback_data !== undefined) {
        buttons.push({ number: buttons.length + 1, text: button.text, data: button.callback_data });
      }
    }
  }
  return buttons;
}

/** Keyboard rows as text: `[1 Cancel]  [2 Retry]`; URL buttons show their address. */
function keyboardLines(markup: TgInlineKeyboardMarkup | undefined): string[] {
  const lines: string[] = [];
  let number = 0;
  for (const row of markup?.inline_keyboard ?? []) {
    const cells = row.map((button) => {
      if (button.callback_data !== undefined) return `[${++number} ${button.text}]`;
      return button.url ? `[${button.text} ↗ ${button.url}]` : `[${button.text}]`;
    });
    if (cells.length > 0) lines.push(cells.join("  "));
  }
  return lines;
}

/**
 * Message text as a person reads it: the plain text Telegram shows, with the address of each
 * text link written after its label (`name (https://…)`) since a terminal cannot click it.
 */
export function plainText(text: string, entities: readonly TgMessageEntity[] = []): string {
  const links = entities
    .filter((e) => e.type === "text_link" && e.url)
    .map((e) => ({
      end: e.offset + e.length,
      url: e.url!,
      label: text.slice(e.offset, e.offset + e.length),
    }))
    .sort((a, b) => b.end - a.end);
  let out = text;
  for (const link of links) {
    if (link.label === link.url) continue;
    out = `${out.slice(0, link.end)} (${link.url})${out.slice(link.end)}`;
  }
  return out;
}

/** The readable text of a message: its text, or its caption. */
function messageText(message: ChatMessage): string | undefined {
  if (message.text !== undefined) return plainText(message.text, message.entities);
  if (message.caption !== undefined) return plainText(message.caption, message.entities);
  return undefined;
}

function fileLine(file: SentFileInfo, kind: "audio" | "document"): string {
  const name = file.fileName ??
    ([file.performer, file.title].filter(Boolean).join(" - ") ||
      (kind === "audio" ? "audio" : "file"));
  const details = file.size !== undefined ? formatBytes(file.size) : file.url;
  return `📎 ${name}${details ? ` (${details})` : ""}`;
}

/** The lines of a message's body: attachment, text or caption, then buttons. */
export function messageBody(message: ChatMessage): string[] {
  const lines: string[] = [];
  if (message.audio) lines.push(fileLine(message.audio, "audio"));
  if (message.document) lines.push(fileLine(message.document, "document"));
  const text = messageText(message);
  if (text !== undefined && text !== "") lines.push(...text.split("\n"));
  lines.push(...keyboardLines(message.replyMarkup));
  if (lines.length === 0) lines.push("(empty message)");
  return lines;
}

/** `label › first line`, continuation lines indented under the first. */
export function formatBlock(label: string, body: readonly string[]): string[] {
  const head = `${label} › `;
  const indent = " ".repeat(Array.from(head).length);
  return body.map((line, i) => i === 0 ? head + line : line === "" ? "" : indent + line);
}

/**
 * Upper bound of a line's width in terminal cells: ASCII counts 1, everything else 2 (emoji and
 * East Asian characters take two cells; nothing takes more).
 */
function maxCells(line: string): number {
  let cells = 0;
  for (const char of line) cells += char.charCodeAt(0) < 0x80 ? 1 : 2;
  return cells;
}

interface PrintedBlock {
  key: string;
  /** Terminal rows it took. */
  rows: number;
}

/**
 * Turns emulator events into terminal text. Feed every event to {@linkcode render} and write
 * what it returns.
 */
export class TranscriptRenderer {
  readonly #options: TranscriptOptions;
  /** The body last printed for each message, for coalescing edits. */
  readonly #printed = new Map<string, string>();
  /** The block at the bottom of the screen (terminal only), when it can be redrawn. */
  #last: PrintedBlock | undefined;

  constructor(options: TranscriptOptions) {
    this.#options = options;
  }

  /** Text to write for one event; "" when nothing is shown. */
  render(event: EmulatorEvent): string {
    switch (event.type) {
      case "message":
        return this.#message(event.chatId, event.message);
      case "edit":
        return this.#edit(event.chatId, event.message);
      case "delete": {
        const key = `${event.chatId}:${event.messageId}`;
        const before = this.#printed.get(key)?.split("\n")[0] ?? `message ${event.messageId}`;
        this.#printed.delete(key);
        return this.#lines(formatBlock(this.#label(event.chatId, "bot (deleted)"), [before]));
      }
      case "callback_answer":
        if (!event.answer.text) return "";
        return this.#lines(
          formatBlock(this.#label(event.chatId, "bot (popup)"), event.answer.text.split("\n")),
        );
      default:
        return "";
    }
  }

  /** A note from the sandbox itself, e.g. `(now speaking as user 424242)`. */
  note(text: string): string {
    return this.#lines(text.split("\n"));
  }

  /**
   * Something the person did that the chat does not show as a message (pressing a button).
   * Echoed only when the output is not a terminal.
   */
  action(chatId: number, text: string): string {
    if (this.#options.tty) {
      this.#last = undefined;
      return "";
    }
    return this.#lines(formatBlock(this.#label(chatId, "you"), [text]));
  }

  /** The person typed a line on the terminal: the latest block is no longer at the bottom. */
  typed(): void {
    this.#last = undefined;
  }

  #label(chatId: number, who: string): string {
    const home = this.#options.homeChatId;
    return home === undefined || chatId === home ? who : `[${chatId}] ${who}`;
  }

  #message(chatId: number, message: ChatMessage): string {
    if (message.from === "user") {
      if (this.#options.tty) {
        this.#last = undefined;
        return "";
      }
      return this.#lines(formatBlock(this.#label(chatId, "you"), messageBody(message)));
    }
    const key = `${chatId}:${message.messageId}`;
    const body = messageBody(message);
    this.#printed.set(key, body.join("\n"));
    return this.#lines(formatBlock(this.#label(chatId, "bot"), body), key);
  }

  #edit(chatId: number, message: ChatMessage): string {
    if (message.from === "user") return "";
    const key = `${chatId}:${message.messageId}`;
    const body = messageBody(message);
    const joined = body.join("\n");
    if (this.#printed.get(key) === joined) return "";
    this.#printed.set(key, joined);
    const last = this.#last;
    const inPlace = formatBlock(this.#label(chatId, "bot"), body);
    if (last?.key === key && this.#redrawable(inPlace)) {
      return eraseRows(last.rows) + this.#lines(inPlace, key);
    }
    return this.#lines(formatBlock(this.#label(chatId, "bot (edited)"), body), key);
  }

  /** Whether a block surely takes one terminal row per line and fits on the screen. */
  #redrawable(lines: readonly string[]): boolean {
    const size = this.#options.terminalSize?.();
    return this.#options.tty && size !== undefined && lines.length < size.rows &&
      lines.every((line) => maxCells(line) < size.columns);
  }

  /** Joins lines for output; a message block is remembered for redrawing when it can be. */
  #lines(lines: readonly string[], key?: string): string {
    this.#last = key !== undefined && this.#redrawable(lines)
      ? { key, rows: lines.length }
      : undefined;
    return lines.map((line) => line + "\n").join("");
  }
}
