/**
 * Telegram's MarkdownV2 and legacy Markdown parse modes.
 *
 * @module
 */
import type { TgMessageEntity } from "./emulator_types.ts";
import { byteOffset, EntityParseError, type FormattedText, sortEntities } from "./format_shared.ts";

const MARKDOWN_V2_RESERVED = new Set("_*[]()~`>#+-=|{}.!".split(""));

const MARKDOWN_V2_NAMES: Record<string, string> = {
  bold: "Bold",
  italic: "Italic",
  underline: "Underline",
  strikethrough: "Strikethrough",
  spoiler: "Spoiler",
  text_link: "TextUrl",
  custom_emoji: "CustomEmoji",
};

interface OpenMarkdown {
  type: string;
  start: number;
  sourceIndex: number;
}

/** Parses MarkdownV2, enforcing Telegram's escaping rules. */
export function parseMarkdownV2(source: string): FormattedText {
  let text = "";
  const entities: TgMessageEntity[] = [];
  const stack: OpenMarkdown[] = [];
  let blockquoteStart: number | undefined;
  let i = 0;
  const toggle = (type: string, width: number) => {
    const openIndex = stack.findLastIndex((o) => o.type === type);
    if (openIndex >= 0) {
      const [open] = stack.splice(openIndex, 1);
      if (open) entities.push({ type, offset: open.start, length: text.length - open.start });
    } else {
      stack.push({ type, start: text.length, sourceIndex: i });
    }
    i += width;
  };
  while (i < source.length) {
    const char = source[i] as string;
    const atLineStart = i === 0 || source[i - 1] === "\n";
    if (atLineStart && blockquoteStart !== undefined && char !== ">") {
      entities.push({
        type: "blockquote",
        offset: blockquoteStart,
        length: text.length - 1 - blockquoteStart,
      });
      blockquoteStart = undefined;
    }
    if (char === "\\") {
      const next = source[i + 1];
      if (next === undefined) {
        throw new EntityParseError(
          `Character '\\' is reserved and must be escaped with the preceding '\\'`,
        );
      }
      text += next;
      i += 2;
      continue;
    }
    if (char === ">" && atLineStart) {
      blockquoteStart ??= text.length;
      i++;
      continue;
    }
    if (char === "`") {
      const fence = source.startsWith("```", i);
      const delimiter = fence ? "```" : "`";
      let j = i + delimiter.length;
      let language: string | undefined;
      if (fence) {
        const newline = source.indexOf("\n", j);
        const firstLine = newline === -1 ? "" : source.slice(j, newline);
        if (newline !== -1 && /^[^\s`]*$/.test(firstLine)) {
          language = firstLine || undefined;
          j = newline + 1;
        }
      }
      const start = text.length;
      let closed = false;
      while (j < source.length) {
        if (source[j] === "\\" && j + 1 < source.length) {
          text += source[j + 1];
          j += 2;
        } else if (source.startsWith(delimiter, j)) {
          closed = true;
          j += delimiter.length;
          break;
        } else {
          text += source[j];
          j++;
        }
      }
      if (!closed) {
        throw new EntityParseError(
          `Can't find end of ${fence ? "Pre" : "Code"} entity at byte offset ${
            byteOffset(source, i)
          }`,
        );
      }
      entities.push({
        type: fence ? "pre" : "code",
        offset: start,
        length: text.length - start,
        ...(language ? { language } : {}),
      });
      i = j;
      continue;
    }
    if (char === "*") {
      toggle("bold", 1);
      continue;
    }
    if (char === "_") {
      if (source[i + 1] === "_") toggle("underline", 2);
      else toggle("italic", 1);
      continue;
    }
    if (char === "~") {
      toggle("strikethrough", 1);
      continue;
    }
    if (char === "|" && source[i + 1] === "|") {
      toggle("spoiler", 2);
      continue;
    }
    if (char === "[" || (char === "!" && source[i + 1] === "[")) {
      stack.push({
        type: char === "!" ? "custom_emoji" : "text_link",
        start: text.length,
        sourceIndex: i,
      });
      i += char === "!" ? 2 : 1;
      continue;
    }
    if (char === "]") {
      const openIndex = stack.findLastIndex((o) =>
        o.type === "text_link" || o.type === "custom_emoji"
      );
      const open = stack[openIndex];
      if (open === undefined || source[i + 1] !== "(") {
        throw new EntityParseError(
          `Character ']' is reserved and must be escaped with the preceding '\\'`,
        );
      }
      let j = i + 2;
      let url = "";
      while (j < source.length && source[j] !== ")") {
        if (source[j] === "\\" && j + 1 < source.length) {
          url += source[j + 1];
          j += 2;
        } else {
          url += source[j];
          j++;
        }
      }
      if (j >= source.length) {
        throw new EntityParseError(
          `Can't find end of a url at byte offset ${byteOffset(source, i + 1)}`,
        );
      }
      stack.splice(openIndex, 1);
      const entity: TgMessageEntity = open.type === "custom_emoji"
        ? {
          type: "custom_emoji",
          offset: open.start,
          length: text.length - open.start,
          custom_emoji_id: /id=(\d+)/.exec(url)?.[1] ?? "",
        }
        : { type: "text_link", offset: open.start, length: text.length - open.start, url };
      entities.push(entity);
      i = j + 1;
      continue;
    }
    if (MARKDOWN_V2_RESERVED.has(char)) {
      throw new EntityParseError(
        `Character '${char}' is reserved and must be escaped with the preceding '\\'`,
      );
    }
    text += char;
    i++;
  }
  if (blockquoteStart !== undefined) {
    entities.push({
      type: "blockquote",
      offset: blockquoteStart,
      length: text.length - blockquoteStart,
    });
  }
  const unclosed = stack.pop();
  if (unclosed) {
    throw new EntityParseError(
      `Can't find end of ${
        MARKDOWN_V2_NAMES[unclosed.type] ?? unclosed.type
      } entity at byte offset ${byteOffset(source, unclosed.sourceIndex)}`,
    );
  }
  return { text, entities: sortEntities(entities) };
}

/** Parses legacy Markdown (`*bold*`, `_italic_`, `` `code` ``, ```` ```pre``` ````, links). */
export function parseMarkdownLegacy(source: string): FormattedText {
  let text = "";
  const entities: TgMessageEntity[] = [];
  let i = 0;
  while (i < source.length) {
    const char = source[i] as string;
    const delimiter = source.startsWith("```", i)
      ? "```"
      : ["*", "_", "`"].includes(char)
      ? char
      : char === "["
      ? "]"
      : undefined;
    if (delimiter === undefined) {
      text += char;
      i++;
      continue;
    }
    const contentStart = i + (delimiter === "]" ? 1 : delimiter.length);
    const close = source.indexOf(delimiter, contentStart);
    if (close === -1) {
      throw new EntityParseError(
        `Can't find end of the entity starting at byte offset ${byteOffset(source, i)}`,
      );
    }
    const content = source.slice(contentStart, close);
    const start = text.length;
    text += content;
    let next = close + delimiter.length;
    if (delimiter === "]") {
      const url = /^\(([^)]*)\)/.exec(source.slice(next));
      if (url) {
        entities.push({ type: "text_link", offset: start, length: content.length, url: url[1] });
        next += url[0].length;
      }
    } else {
      const type = { "*": "bold", _: "italic", "`": "code", "```": "pre" }[delimiter] as string;
      entities.push({ type, offset: start, length: content.length });
    }
    i = next;
  }
  return { text, entities: sortEntities(entities) };
}
