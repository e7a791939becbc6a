/**
 * Parser for spotDL 4.x's line output with `--simple-tui --log-level INFO` on a pipe, as spotDL
 * 4.4.3's source prints it (`download/progress_handler.py`, `download/downloader.py`,
 * `console/entry_point.py`) and spotipy's rate-limit warning; see
 * `shared/reference/spotdl-and-telegram.md` for every line and where it comes from.
 *
 * - `Found <N> songs in <name> (<Playlist|Album|Artist|Saved>)`; a single track prints none.
 * - `<artist> - <name>: Downloading|Converting|Embedding metadata|Done|Skipped` (only when a
 *   song's progress moves; `Error` never appears).
 * - `Downloaded "<name>": <url>` once per finished song; `Skipping <name> (file already exists) `,
 *   `(duplicate)`, `(skip file found)`, `Skipping explicit song: <name>`; list items that cannot
 *   be downloaded: `Skipping track: <id> local tracks and <track|episode> are not supported`.
 * - `<k>/<N> complete`: reported, but never used for counting (threads can skip a k).
 * - A failed song: `<Class>: <message>`; with `--print-errors`, at the end
 *   `<spotify url> - <Class>: <message>` per failed song.
 * - A failed run: `An error occurred`, a rich traceback box, and its last line
 *   `<Class>: <message>`, held back until the output ends (`flush`).
 * - spotipy: `[WARNING:root:]Your application has reached a rate/request limit. Retry will occur
 *   after: <N|None>[ s]`.
 *
 * Lines are padded with spaces to `$COLUMNS` and wrapped past it. The downloader passes a wide
 * `COLUMNS`; a line wrapped anyway is joined back: a fragment nothing recognises is held and
 * retried together with the next line, and a failure's message takes the lines that continue it.
 * A `log_level: DEBUG` config file's line format (`[hh:mm:ss] INFO MainThread - … file.py:N`) is
 * understood too, though the bot's `--log-level INFO` overrides it.
 *
 * @module
 */
import { stripAnsi } from "./ansi.ts";
import type { DownloaderEvent, OutputParser, SkipReason, TrackStatus } from "./events.ts";

const STATUS_WORDS: Readonly<Record<string, TrackStatus>> = {
  "Downloading": "downloading",
  "Converting": "converting",
  "Embedding metadata": "embedding",
  "Done": "done",
  "Skipped": "skipped",
  "Error": "error",
};

const LOG_PREFIX = /^(?:DEBUG|INFO|WARNING|ERROR|CRITICAL):[\w.]*:\s*/;
const DEBUG_FORMAT =
  /^\[\d{2}:\d{2}:\d{2}\] (?:DEBUG|INFO|WARNING|ERROR|CRITICAL) +\S+ - (.*?)(?:\s+[\w.]+\.py:\d+)?$/;
const RATE_LIMIT =
  /reached a rate\/request limit\.?\s*Retry will occur after:?\s*(\d+(?:\.\d+)?|None)?(?:\s*s\b)?/i;
const FOUND = /^Found (\d+) songs? in (.*) \(([A-Za-z]+)\)$/;
const FOUND_START = /^Found \d+ songs? in /;
const COMPLETE = /^(\d+)\/(\d+) complete$/;
const DOWNLOADED = /^Downloaded "(.*)":\s*(.*)$/;
const DOWNLOADED_START = /^Downloaded "/;
const UNAVAILABLE = /^Skipping track: \S+ local tracks and (track|episode) are not supported$/;
const SKIPPING = /^Skipping (.+?) \((file already exists|skip file found)\)(?: \((duplicate)\))?$/;
const SKIPPING_EXPLICIT = /^Skipping explicit song: (.+)$/;
const IGNORED = /^(?:Processing query:|Fetching \d+ albums?|Scanning for known songs|Saved )/;
const TRACK = new RegExp(`^(.+): (${Object.keys(STATUS_WORDS).join("|")})$`);
const SONG_ERROR = /^(https?:\/\/open\.spotify\.com\/\S+) - ([A-Za-z_][\w.]*): ?(.*)$/;
const ERROR_LINE = /^((?:[A-Za-z_]\w*\.)*([A-Z]\w*(?:Error|Exception|Timeout|Exit))): ?(.*)$/;
const MISSING_FIELDS = /^Song is missing required fields: (.+)$/;
const TRACEBACK_START =
  /^(?:An error occurred$|Traceback \(most recent call last\):$|╭─+ Traceback \(most recent call last\))/;
/** Lines inside a rich traceback box, or a plain traceback's frames. */
const TRACEBACK_FRAME = /^[╭│╰─┌└├]|^File "|^\^+$/;
const TRACK_IN_MESSAGE = [
  /^No results found for song: (.+)$/,
  /^Failed to convert (.+?), you can find error here:/,
  /^yt-dlp failed to get metadata for: (.+)$/,
  /^Song is missing required fields: (.+)$/,
];

/** What the parser holds back until it sees the next line. */
type Held =
  | { kind: "fragment"; text: string }
  | { kind: "continuable"; event: Continuable };

/** Events whose line may go on in the next one: a failure's message, a `Downloaded` URL. */
type Continuable = DownloaderEvent & { type: "error" | "song_error" | "downloaded" };

/** Turns spotDL's lines into events; keeps state (wrapped lines, tracebacks), so one per run. */
export class SpotdlParser implements OutputParser {
  #held?: Held;
  #inTraceback = false;
  #fatal?: { errorClass: string; message: string };
  /** A blank line or a frame came after the fatal line: it takes no more continuation. */
  #fatalClosed = false;

  /** Parses one line (without its newline). */
  parseLine(rawLine: string): DownloaderEvent[] {
    const line = normalise(rawLine);
    if (line === "") {
      this.#fatalClosed = true;
      return [];
    }
    if (this.#inTraceback || TRACEBACK_START.test(line)) return this.#traceback(line);
    const out: DownloaderEvent[] = [];
    const held = this.#held;
    this.#held = undefined;
    if (held?.kind === "fragment") {
      const joined = classify(`${held.text} ${line}`);
      if (joined === null) return out;
      if (joined.type !== "unknown") return this.#take(joined, `${held.text} ${line}`, out);
      out.push({ type: "unknown", line: held.text });
    }
    const event = classify(line);
    if (held?.kind === "continuable") {
      const more = event?.type === "unknown" && !isStartOfSomething(line)
        ? continued(held.event, line)
        : undefined;
      if (more !== undefined) {
        this.#hold(more, out);
        return out;
      }
      out.push(held.event);
    }
    return this.#take(event, line, out);
  }

  /** Releases what is held: a last error line, and a failed run's final traceback line. */
  flush(): DownloaderEvent[] {
    const out: DownloaderEvent[] = [];
    const held = this.#held;
    this.#held = undefined;
    if (held?.kind === "fragment") out.push({ type: "unknown", line: held.text });
    if (held?.kind === "continuable") out.push(held.event);
    if (this.#fatal) out.push({ type: "fatal", ...this.#fatal });
    this.#fatal = undefined;
    return out;
  }

  #take(event: DownloaderEvent | null, line: string, out: DownloaderEvent[]): DownloaderEvent[] {
    if (event === null) return out;
    if (event.type === "unknown") {
      this.#held = { kind: "fragment", text: line };
      return out;
    }
    if (event.type === "error" || event.type === "song_error" || event.type === "downloaded") {
      this.#hold(event, out);
      return out;
    }
    out.push(event);
    return out;
  }

  /** Holds an event that may continue on the next line; a complete `Downloaded` goes out. */
  #hold(event: Continuable, out: DownloaderEvent[]): void {
    if (event.type === "downloaded" && event.sourceUrl !== undefined) out.push(event);
    else this.#held = { kind: "continuable", event };
  }

  /** Inside a traceback: the last `<Class>: <message>` line (and its continuation) is the cause. */
  #traceback(line: string): DownloaderEvent[] {
    const out = this.#inTraceback ? [] : this.flush();
    this.#inTraceback = true;
    if (TRACEBACK_START.test(line) || TRACEBACK_FRAME.test(line)) {
      this.#fatalClosed = true;
      return out;
    }
    const error = ERROR_LINE.exec(line);
    if (error) {
      this.#fatal = { errorClass: error[2] ?? "", message: (error[3] ?? "").trim() };
      this.#fatalClosed = false;
    } else if (this.#fatal && !this.#fatalClosed) {
      this.#fatal = { ...this.#fatal, message: `${this.#fatal.message} ${line}`.trim() };
    }
    return out;
  }
}

/** ANSI codes, padding, spotipy's logger prefix and the DEBUG line format removed. */
function normalise(rawLine: string): string {
  const line = stripAnsi(rawLine).trim().replace(LOG_PREFIX, "");
  const debug = DEBUG_FORMAT.exec(line);
  return (debug ? debug[1] ?? "" : line).trim();
}

/** Whether a line begins a known kind of line (so it cannot continue an earlier one). */
function isStartOfSomething(line: string): boolean {
  return FOUND_START.test(line) || DOWNLOADED_START.test(line) || /^Skipping /.test(line) ||
    IGNORED.test(line);
}

/** The event with its line continued by `more`; undefined when `more` cannot continue it. */
function continued(event: Continuable, more: string): Continuable | undefined {
  if (event.type === "downloaded") {
    return /^https?:\/\/\S+$/.test(more) ? { ...event, sourceUrl: more } : undefined;
  }
  const message = `${event.message} ${more}`.trim();
  const track = trackFromMessage(message);
  return { ...event, message, ...(track ? { track } : {}) };
}

/**
 * One complete line as an event: `unknown` when it is none of spotDL's lines, null for a known
 * line that reports nothing (`Processing query: …`).
 */
function classify(line: string): DownloaderEvent | null {
  const rate = RATE_LIMIT.exec(line);
  if (rate) {
    const seconds = rate[1] === undefined || rate[1] === "None" ? 0 : Number(rate[1]);
    return seconds > 0
      ? { type: "rate_limit", retryAfterSeconds: seconds }
      : { type: "rate_limit" };
  }
  const found = FOUND.exec(line);
  if (found) {
    return { type: "total", total: Number(found[1]), title: found[2] ?? "", listKind: found[3] };
  }
  const complete = COMPLETE.exec(line);
  if (complete) {
    return { type: "complete", completed: Number(complete[1]), total: Number(complete[2]) };
  }
  const downloaded = DOWNLOADED.exec(line);
  if (downloaded) {
    const url = (downloaded[2] ?? "").trim();
    return {
      type: "downloaded",
      name: downloaded[1] ?? "",
      ...(url !== "" && url !== "None" ? { sourceUrl: url } : {}),
    };
  }
  const skipped = parseSkipping(line);
  if (skipped) return skipped;
  if (IGNORED.test(line)) return null;
  const songError = SONG_ERROR.exec(line);
  if (songError) {
    const message = (songError[3] ?? "").trim();
    const track = trackFromMessage(message);
    return {
      type: "song_error",
      songUrl: songError[1] ?? "",
      errorClass: shortName(songError[2] ?? ""),
      message,
      ...(track ? { track } : {}),
    };
  }
  const missing = MISSING_FIELDS.exec(line);
  if (missing) {
    return { type: "error", errorClass: "MissingFields", message: line, track: missing[1] };
  }
  const track = TRACK.exec(line);
  if (track) {
    const status = STATUS_WORDS[track[2] ?? ""];
    if (status) return { type: "track", name: (track[1] ?? "").trim(), status };
  }
  const error = ERROR_LINE.exec(line);
  if (error) {
    const message = (error[3] ?? "").trim();
    const name = trackFromMessage(message);
    return {
      type: "error",
      errorClass: error[2] ?? "",
      message,
      ...(name ? { track: name } : {}),
    };
  }
  return { type: "unknown", line };
}

function parseSkipping(line: string): DownloaderEvent | null {
  const unavailable = UNAVAILABLE.exec(line);
  if (unavailable) {
    return { type: "unavailable", item: unavailable[1] === "episode" ? "episode" : "local_file" };
  }
  const explicit = SKIPPING_EXPLICIT.exec(line);
  if (explicit) return { type: "skipped", name: explicit[1] ?? "", reason: "explicit" };
  const existing = SKIPPING.exec(line);
  if (existing) {
    const reason: SkipReason = existing[2] === "skip file found" ? "skip_file" : "exists";
    return { type: "skipped", name: existing[1] ?? "", reason };
  }
  return null;
}

/** `spotipy.exceptions.SpotifyException` → `SpotifyException`. */
function shortName(name: string): string {
  return name.slice(name.lastIndexOf(".") + 1);
}

function trackFromMessage(message: string): string | undefined {
  for (const pattern of TRACK_IN_MESSAGE) {
    const match = pattern.exec(message);
    if (match?.[1]) return match[1].trim();
  }
  return undefined;
}
