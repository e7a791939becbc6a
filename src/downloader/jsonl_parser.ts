/**
 * The JSON-lines downloader protocol: lets any wrapper script drive dlbot's progress display
 * (set `downloader.output_format = "jsonl"` in `config/bot.toml`).
 *
 * ## Protocol
 *
 * The downloader writes one JSON object per line to standard output (standard error is read the
 * same way). Each object has an `event` field; other fields depend on it. Unknown extra fields are
 * ignored, so a wrapper can add its own. Lines that are not JSON, or whose `event` is unknown or
 * malformed, are logged and otherwise ignored; they never fail a download.
 *
 * | `event`      | Fields                                                                       | Meaning                          |
 * | ------------ | ---------------------------------------------------------------------------- | -------------------------------- |
 * | `total`      | `total` (integer ≥ 0), `title`? (string), `kind`? (string, e.g. `Playlist`)   | How many songs this run will do  |
 * | `track`      | `name` (string), `status`: `downloading` `converting` `embedding` `done` `skipped` `error` | A song changed state |
 * | `progress`   | `percent` (number 0–100)                                                     | Overall progress                 |
 * | `complete`   | `completed` (integer ≥ 0), `total` (integer ≥ 0)                             | Songs finished so far            |
 * | `downloaded` | `name` (string), `url`? (string: where the audio came from)                  | A song's file is ready           |
 * | `skipped`    | `name` (string), `reason`? (string)                                          | A song was not downloaded        |
 * | `error`      | `message` (string), `class`? (string), `track`? (string), `retry_after`? (seconds) | Something failed          |
 *
 * Use `"class": "RateLimit"` with `retry_after` when an upstream service asks to wait. The process
 * exit code decides success: 0 means the run finished (individual songs may still have failed).
 * Files are written into the job's output directory (`{output_dir}` in `downloader.args`, also the
 * working directory).
 *
 * Example:
 *
 * ```text
 * {"event":"total","total":2,"title":"My Playlist","kind":"Playlist"}
 * {"event":"track","name":"Artist - Song","status":"downloading"}
 * {"event":"progress","percent":25}
 * {"event":"track","name":"Artist - Song","status":"done"}
 * {"event":"downloaded","name":"Artist - Song","url":"https://example.com/watch?v=1"}
 * {"event":"error","class":"LookupError","message":"No results found","track":"Other - Song"}
 * ```
 *
 * @module
 */
import { z } from "zod";
import type { DownloaderEvent, OutputParser, SkipReason } from "./events.ts";
import { stripAnsi } from "./ansi.ts";

const count = z.number().int().min(0);

/** Schema of one protocol line. */
export const jsonLineSchema = z.discriminatedUnion("event", [
  z.object({
    event: z.literal("total"),
    total: count,
    title: z.string().optional(),
    kind: z.string().optional(),
  }),
  z.object({
    event: z.literal("track"),
    name: z.string(),
    status: z.enum(["downloading", "converting", "embedding", "done", "skipped", "error"]),
  }),
  z.object({ event: z.literal("progress"), percent: z.number().min(0).max(100) }),
  z.object({ event: z.literal("complete"), completed: count, total: count }),
  z.object({ event: z.literal("downloaded"), name: z.string(), url: z.string().optional() }),
  z.object({ event: z.literal("skipped"), name: z.string(), reason: z.string().optional() }),
  z.object({
    event: z.literal("error"),
    message: z.string(),
    class: z.string().min(1).optional(),
    track: z.string().optional(),
    retry_after: z.number().min(0).optional(),
  }),
]);

/** One protocol line, as validated. */
export type JsonLine = z.infer<typeof jsonLineSchema>;

/** Parses the JSON-lines protocol described in this module's documentation. */
export class JsonLinesParser implements OutputParser {
  /** Parses one line (without its newline). */
  parseLine(rawLine: string): DownloaderEvent[] {
    const line = stripAnsi(rawLine).trim();
    if (line === "") return [];
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return [{ type: "unknown", line }];
    }
    const parsed = jsonLineSchema.safeParse(value);
    if (!parsed.success) return [{ type: "unknown", line }];
    return [toEvent(parsed.data)];
  }
}

function toEvent(data: JsonLine): DownloaderEvent {
  switch (data.event) {
    case "total":
      return {
        type: "total",
        total: data.total,
        ...(data.title !== undefined ? { title: data.title } : {}),
        ...(data.kind !== undefined ? { listKind: data.kind } : {}),
      };
    case "track":
      return { type: "track", name: data.name, status: data.status };
    case "progress":
      return { type: "percent", percent: data.percent };
    case "complete":
      return { type: "complete", completed: data.completed, total: data.total };
    case "downloaded":
      return {
        type: "downloaded",
        name: data.name,
        ...(data.url !== undefined ? { sourceUrl: data.url } : {}),
      };
    case "skipped":
      return { type: "skipped", name: data.name, reason: skipReason(data.reason) };
    case "error":
      if (data.retry_after !== undefined) {
        return data.retry_after > 0
          ? { type: "rate_limit", retryAfterSeconds: data.retry_after }
          : { type: "rate_limit" };
      }
      return {
        type: "error",
        errorClass: data.class ?? "Error",
        message: data.message,
        ...(data.track !== undefined ? { track: data.track } : {}),
      };
  }
}

/** The protocol's free-text reason as one of the kinds the summary counts. */
function skipReason(reason: string | undefined): SkipReason {
  if (reason === undefined) return "other";
  if (/exist|duplicate/i.test(reason)) return "exists";
  if (/explicit/i.test(reason)) return "explicit";
  return /skip file/i.test(reason) ? "skip_file" : "other";
}
