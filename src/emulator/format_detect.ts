/**
 * The entities Telegram detects in what people type: bot commands and links.
 *
 * @module
 */
import type { TgMessageEntity } from "./emulator_types.ts";
import { sortEntities } from "./format_shared.ts";

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
