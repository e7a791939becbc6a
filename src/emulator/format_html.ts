/**
 * Telegram's HTML parse mode: tags and entities to plain text plus message entities.
 *
 * @module
 */
import type { TgMessageEntity } from "./emulator_types.ts";
import { byteOffset, EntityParseError, type FormattedText, sortEntities } from "./format_shared.ts";

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
