/**
 * What the markup parsers share: the result type, Telegram's parse error, offsets and order.
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

const encoder = new TextEncoder();

/** UTF-8 byte offset of a UTF-16 index (Telegram's error messages count bytes). */
export function byteOffset(source: string, index: number): number {
  return encoder.encode(source.slice(0, index)).length;
}

/** Entities without empty ones, by offset (longest first at one offset). */
export function sortEntities(entities: TgMessageEntity[]): TgMessageEntity[] {
  return entities
    .filter((e) => e.length > 0)
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
}
