/**
 * Text formatting as Telegram applies it: `parse_mode` markup (HTML, MarkdownV2, legacy Markdown)
 * turned into plain text plus entities, with Telegram's "can't parse entities" errors for bad
 * markup, and the entities Telegram detects in what users type (bot commands, links).
 *
 * Offsets and lengths are in UTF-16 code units, like the Bot API's.
 *
 * @module
 */
import type { TgMessageEntity } from "./emulator_types.ts";

/** Plain text and the entities found in it. */
export interface FormattedText {
  /** Text without markup. */
  text: string;
  /** Entities, sorted by offset. */
  entities: TgMessageEntity[];
}

/** Markup that Telegram would reject; `message` is the part after "can't parse entities: ". */
export class EntityParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EntityParseError";
  }
}

/** Parses `text` according to `parseMode` (undefined: plain text, no entities). */
export function formatText(text: string, parseMode: string | undefined): FormattedText {
  switch (parseMode?.toLowerCase()) {
    case undefined:
    case "":
      return { text, entities: [] };
    case "html":
      return parseHtml(text);
    case "markdownv2":
      return parseMarkdownV2(text);
    case "markdown":
      return parseMarkdownLegacy(text);
    default:
      throw new EntityParseError(`Unsupported parse_mode "${parseMode}"`);
  }
}

const encoder = new TextEncoder();

function byteOffset(source: string, index: number): number {
  return encoder.encode(source.slice(0, index)).length;
}

function sortEntities(entities: TgMessageEntity[]): TgMessageEntity[] {
  return entities
    .filter((e) => e.length > 0)
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
}

const HTML_TAGS: Record<string, string> = {
  b: "bold",
  strong: "bold",
  i: "italic",
  em: "italic",
  u: "underline",
  ins: "underline",
  s: "strikethrough",
  strike: "strikethrough",
  del: "strikethrough",
  "tg-spoiler": "spoiler",
  span: "spoiler",
  a: "text_link",
  code: "code",
  pre: "pre",
  blockquote: "blockquote",
  "tg-emoji": "custom_emoji",
};

const NAMED_HTML_ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"' };

interface OpenTag {
  name: string;
  start: number;
  entity?: Omit<TgMessageEntity, "offset" | "length">;
}

function htmlAttributes(source: string): Map<string, string> {
  const attributes = new Map<string, string>();
  const pattern = /([a-zA-Z_-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/g;
  for (const match of source.matchAll(pattern)) {
    const name = match[1];
    if (name !== undefined) {
      attributes.set(
        name.toLowerCase(),
        decodeHtmlEntities(match[2] ?? match[3] ?? match[4] ?? ""),
      );
    }
  }
  return attributes;
}

function decodeHtmlEntities(source: string): string {
  return source.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, name: string) => {
    if (name.startsWith("#x")) return String.fromCodePoint(parseInt(name.slice(2), 16));
    if (name.startsWith("#")) return String.fromCodePoint(parseInt(name.slice(1), 10));
    return NAMED_HTML_ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** Parses Telegram's HTML subset. */
export function parseHtml(source: string): FormattedText {
  let text = "";
  const entities: TgMessageEntity[] = [];
  const stack: OpenTag[] = [];
  let i = 0;
  while (i < source.length) {
    const char = source[i];
    if (char === "&") {
      const match = /^&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/.exec(source.slice(i));
      if (match) {
        text += decodeHtmlEntities(match[0]);
        i += match[0].length;
        continue;
      }
      text += char;
      i++;
      continue;
    }
    if (char !== "<") {
      text += char;
      i++;
      continue;
    }
    const end = source.indexOf(">", i);
    if (end === -1) {
      throw new EntityParseError(`Unclosed start tag at byte offset ${byteOffset(source, i)}`);
    }
    const inner = source.slice(i + 1, end);
    if (inner.startsWith("/")) {
      const name = inner.slice(1).trim().toLowerCase();
      const open = stack.pop();
      if (open === undefined) {
        throw new EntityParseError(`Unexpected end tag at byte offset ${byteOffset(source, i)}`);
      }
      if (name !== open.name) {
        throw new EntityParseError(
          `Unmatched end tag at byte offset ${
            byteOffset(source, i)
          }, expected "</${open.name}>", found "</${name}>"`,
        );
      }
      if (open.entity) {
        const entity = { ...open.entity, offset: open.start, length: text.length - open.start };
        const inPre = stack.at(-1);
        if (entity.type === "code" && entity.language && inPre?.entity?.type === "pre") {
          inPre.entity = { ...inPre.entity, language: entity.language };
        } else {
          entities.push(entity as TgMessageEntity);
        }
      }
    } else {
      const name = (/^[a-zA-Z-]+/.exec(inner)?.[0] ?? "").toLowerCase();
      const type = HTML_TAGS[name];
      if (type === undefined) {
        throw new EntityParseError(
          `Unsupported start tag "${name}" at byte offset ${byteOffset(source, i)}`,
        );
      }
      const attributes = htmlAttributes(inner.slice(name.length));
      let entity: OpenTag["entity"] = { type };
      if (name === "span" && attributes.get("class") !== "tg-spoiler") {
        throw new EntityParseError(
          `Tag "span" must have class "tg-spoiler" at byte offset ${byteOffset(source, i)}`,
        );
      }
      if (name === "a") {
        const href = attributes.get("href");
        entity = href ? { type, url: href } : undefined;
      } else if (name === "code") {
        const language = /^language-(.+)$/.exec(attributes.get("class") ?? "")?.[1];
        entity = language ? { type, language } : { type };
      } else if (name === "blockquote" && attributes.has("expandable")) {
        entity = { type: "expandable_blockquote" };
      } else if (name === "tg-emoji") {
        entity = { type, custom_emoji_id: attributes.get("emoji-id") ?? "" };
      }
      stack.push({ name, start: text.length, entity });
    }
    i = end + 1;
  }
  const unclosed = stack.pop();
  if (unclosed) {
    throw new EntityParseError(
      `Can't find end tag corresponding to start tag "${unclosed.name}"`,
    );
  }
  return { text, entities: sortEntities(entities) };
}

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

const TOP_LEVEL_DOMAINS = "com|org|net|io|me|link|app|dev|co|fm|ru|de|uk|eu|tv|info|xyz";

/**
 * The entities Telegram's clients attach to what a person types: bot commands ("/start",
 * "/download@dlbot") and links (with a scheme, or bare common domains like open.spotify.com/…).
 */
export function detectEntities(text: string): TgMessageEntity[] {
  const entities: TgMessageEntity[] = [];
  const command = /(^|\s)(\/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?)(?=$|[\s.,!?;:)])/g;
  for (const match of text.matchAll(command)) {
    const prefix = match[1] ?? "";
    const value = match[2] ?? "";
    entities.push({
      type: "bot_command",
      offset: match.index + prefix.length,
      length: value.length,
    });
  }
  const url = new RegExp(
    String
      .raw`(^|[\s(<])((?:https?:\/\/[^\s<>]+)|(?:(?:[a-z0-9-]+\.)+(?:${TOP_LEVEL_DOMAINS})(?:\/[^\s<>]*)?))`,
    "gi",
  );
  for (const match of text.matchAll(url)) {
    const prefix = match[1] ?? "";
    const value = (match[2] ?? "").replace(/[.,!?;:)]+$/, "");
    entities.push({ type: "url", offset: match.index + prefix.length, length: value.length });
  }
  return sortEntities(entities);
}
