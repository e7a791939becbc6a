/**
 * Text formatting as Telegram applies it: `parse_mode` markup (HTML, MarkdownV2, legacy Markdown)
 * turned into plain text plus entities, with Telegram's "can't parse entities" errors for bad
 * markup, and the entities Telegram detects in what users type (bot commands, links).
 *
 * Offsets and lengths are in UTF-16 code units, like the Bot API's.
 *
 * @module
 */
import { EntityParseError, type FormattedText } from "./format_shared.ts";
import { parseHtml } from "./format_html.ts";
import { parseMarkdownLegacy, parseMarkdownV2 } from "./format_markdown.ts";

export { EntityParseError, type FormattedText } from "./format_shared.ts";
export { parseHtml } from "./format_html.ts";
export { parseMarkdownLegacy, parseMarkdownV2 } from "./format_markdown.ts";
export { detectEntities } from "./format_detect.ts";

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
