/**
 * Choosing the output parser for a configured protocol.
 *
 * @module
 */
import type { OutputParser } from "./events.ts";
import { JsonLinesParser } from "./jsonl_parser.ts";
import { SpotdlParser } from "./spotdl_parser.ts";

/** Output protocols (`downloader.output_format`). */
export type OutputFormat = "spotdl" | "jsonl";

/** A fresh parser for one run. */
export function createParser(format: OutputFormat): OutputParser {
  return format === "jsonl" ? new JsonLinesParser() : new SpotdlParser();
}
