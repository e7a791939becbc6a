/**
 * Parser for spotDL's line output in `--simple-tui` mode (spotDL 4.x).
 *
 * What spotDL prints, from its source (`spotdl/download/progress_handler.py`,
 * `spotdl/download/downloader.py`, `spotdl/utils/search.py`), all through one rich log handler
 * on standard output, padded with spaces to the console width:
 *
 * - `Processing query: <url>` — ignored.
 * - `Found <N> songs in <name> (<Playlist|Album|Artist|Saved>)` — lists only; a single track
 *   prints no `Found` line.
 * - `<display name>: <Downloading|Converting|Embedding metadata|Done|Skipped|Error>` — printed only
 *   when the song's progress value moves, so in practice `Downloading`, `Embedding metadata`,
 *   `Done` (or `Skipped`). Older versions print `<title> - <artist>: <status>`. A failing song
 *   usually prints no `Error` status line at all: only the exception line below.
 * - `<k>/<N> complete` after each finished, skipped or failed song (N is sometimes 0).
 * - `Downloaded "<display name>": <source url>`.
 * - `Skipping <display name> (file already exists) (duplicate)`, `Skipping <name> (skip file found)`,
 *   `Skipping explicit song: <name>`.
 * - `<ExceptionClass>: <message>`, e.g. `LookupError: No results found for song: <name>`,
 *   `AudioProviderError: …`, `FFmpegError: …`; with `--print-errors`, `<url> - <Class>: <message>`
 *   at the end; the last line of a Python traceback (`requests.exceptions.ConnectionError: …`).
 * - Spotify rate limiting, logged by spotipy (often on standard error, sometimes prefixed with
 *   `WARNING:root:`): `Your application has reached a rate/request limit. Retry will occur after:
 *   <seconds>`. spotipy then sleeps for that long, so spotDL does not exit on its own.
 *
 * Set `COLUMNS` high for the subprocess (the downloader does) so rich does not wrap long lines.
 *
 * @module
 */
import { stripAnsi } from "./ansi.ts";
import type { DownloaderEvent, OutputParser, TrackStatus } from "./events.ts";

const STATUS_WORDS: Readonly<Record<string, TrackStatus>> = {
  "Downloading": "downloading",
  "Converting": "converting",
  "Embedding metadata": "embedding",
  "Done": "done",
  "Skipped": "skipped",
  "Error": "error",
};

const LOG_PREFIX = /^(?:DEBUG|INFO|WARNING|ERROR|CRITICAL):[\w.]*:\s*/;
const RATE_LIMIT =
  /reached a rate\/request limit\.?\s*Retry will occur after:?\s*(\d+(?:\.\d+)?)?/i;
const HTTP_429 = /\breturned 429\b|\bstatus:?\s*429\b/i;
const FOUND = /^Found (\d+) songs? in (.*) \(([A-Za-z]+)\)$/;
const COMPLETE = /^(\d+)\/(\d+) complete$/;
const DOWNLOADED = /^Downloaded "(.*)":\s*(.*)$/;
const SKIPPING_EXISTING =
  /^Skipping (.+) \((file already exists|skip file found)\)(?: \((duplicate)\))?$/;
const SKIPPING_EXPLICIT = /^Skipping explicit song: (.+)$/;
const SKIPPING_OTHER = /^Skipping (.+)$/;
const PROCESSING = /^Processing query:/;
const TRACK = new RegExp(`^(.+): (${Object.keys(STATUS_WORDS).join("|")})$`);
const EXCEPTION = /^(?:(\S+) - )?((?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*))(:(?: (.*))?)?$/;
const EXCEPTION_NAME = /^[A-Z]\w*(?:Error|Exception|Timeout|Interrupt|Exit)$/;
const KNOWN_EXCEPTIONS = new Set(["Error", "MaxRetryError", "SSLError", "ReadTimeout"]);
const NETWORK =
  /Max retries exceeded|Failed to establish a new connection|Read timed out|Connection (?:reset|refused|aborted)|Temporary failure in name resolution|Name or service not known|Network is unreachable/i;
const TRACK_IN_MESSAGE = [
  /^No results found for song: (.+)$/,
  /^Failed to convert (.+?), you can find error here:/,
  /^yt-dlp failed to get metadata for: (.+)$/,
  /^Song is missing required fields: (.+)$/,
];

/**
 * Turns spotDL `--simple-tui` lines into events. Stateless; one instance per run anyway.
 *
 * A skipped song yields both a `skipped` event (from `Skipping …`) and a `track` event with status
 * `skipped`; a failed song usually yields only an `error` event (with `track` when the message
 * names it) followed by a `complete` event. Consumers should count songs by name.
 */
export class SpotdlParser implements OutputParser {
  /** Parses one line (without its newline). */
  parseLine(rawLine: string): DownloaderEvent[] {
    const line = stripAnsi(rawLine).trim();
    if (line === "") return [];
    const event = parseSpotdlLine(line);
    return event === null ? [] : [event];
  }
}

function parseSpotdlLine(line: string): DownloaderEvent | null {
  const body = line.replace(LOG_PREFIX, "");

  const rate = RATE_LIMIT.exec(body);
  if (rate) {
    const seconds = rate[1] === undefined ? undefined : Number(rate[1]);
    return {
      type: "error",
      errorClass: "RateLimit",
      message: body,
      ...(seconds !== undefined && Number.isFinite(seconds) ? { retryAfterSeconds: seconds } : {}),
    };
  }

  if (HTTP_429.test(body) && /spotify/i.test(body)) {
    return { type: "error", errorClass: "RateLimit", message: body };
  }

  const found = FOUND.exec(body);
  if (found) {
    return {
      type: "total",
      total: Number(found[1]),
      title: found[2] ?? "",
      listKind: found[3] ?? "",
    };
  }

  const complete = COMPLETE.exec(body);
  if (complete) {
    return { type: "complete", completed: Number(complete[1]), total: Number(complete[2]) };
  }

  const downloaded = DOWNLOADED.exec(body);
  if (downloaded) {
    const url = (downloaded[2] ?? "").trim();
    return {
      type: "downloaded",
      name: downloaded[1] ?? "",
      ...(url !== "" && url !== "None" ? { sourceUrl: url } : {}),
    };
  }

  const skipped = parseSkipping(body);
  if (skipped) return skipped;

  if (PROCESSING.test(body)) return null;

  const track = TRACK.exec(body);
  if (track) {
    const status = STATUS_WORDS[track[2] ?? ""];
    if (status) return { type: "track", name: (track[1] ?? "").trim(), status };
  }

  const exception = parseException(body);
  if (exception) return exception;

  if (NETWORK.test(body)) {
    return { type: "error", errorClass: "NetworkError", message: body };
  }
  return { type: "unknown", line };
}

function parseSkipping(body: string): DownloaderEvent | null {
  const explicit = SKIPPING_EXPLICIT.exec(body);
  if (explicit) return { type: "skipped", name: explicit[1] ?? "", reason: "explicit" };
  const existing = SKIPPING_EXISTING.exec(body);
  if (existing) {
    const reason = existing[3] ? `${existing[2]} (${existing[3]})` : existing[2] ?? "";
    return { type: "skipped", name: existing[1] ?? "", reason };
  }
  const other = SKIPPING_OTHER.exec(body);
  if (other) return { type: "skipped", name: other[1] ?? "", reason: "skipped" };
  return null;
}

function parseException(body: string): DownloaderEvent | null {
  const match = EXCEPTION.exec(body);
  if (!match) return null;
  const shortName = match[3] ?? "";
  const hasColon = match[4] !== undefined;
  // A bare name ends a traceback too (`KeyboardInterrupt`), but only an unmistakable one.
  const looksLikeException = EXCEPTION_NAME.test(shortName) ||
    (hasColon && KNOWN_EXCEPTIONS.has(shortName));
  if (!looksLikeException) return null;
  const message = (match[5] ?? "").trim();
  if (HTTP_429.test(message) && /Spotify|HTTPError/.test(shortName)) {
    return { type: "error", errorClass: "RateLimit", message };
  }
  const track = trackFromMessage(message);
  return {
    type: "error",
    errorClass: shortName,
    message,
    ...(track ? { track } : {}),
  };
}

function trackFromMessage(message: string): string | undefined {
  for (const pattern of TRACK_IN_MESSAGE) {
    const match = pattern.exec(message);
    if (match?.[1]) return match[1].trim();
  }
  return undefined;
}
