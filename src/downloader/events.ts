/**
 * Typed events parsed from a downloader's output, whatever its protocol.
 *
 * @module
 */

/** Per-song status words, as spotDL prints them at the end of a line. */
export type TrackStatus =
  | "downloading"
  | "converting"
  | "embedding"
  | "done"
  | "skipped"
  | "error";

/** Why a song was not downloaded although nothing failed. */
export type SkipReason =
  /** The file is already in the output directory (`file already exists`, `duplicate`). */
  | "exists"
  /** A `.skip` file next to it. */
  | "skip_file"
  /** `Skipping explicit song:` (the downloader was told to skip explicit songs). */
  | "explicit"
  /** Any other reason the downloader gave. */
  | "other";

/** One thing the downloader said. */
export type DownloaderEvent =
  /** `Found N songs in <name> (<Kind>)`. */
  | { type: "total"; total: number; title?: string; listKind?: string }
  /** `<song>: <Status>`, printed only when the song's progress moves. */
  | { type: "track"; name: string; status: TrackStatus }
  /** `k/N complete`: informational only (two songs finishing together can skip a k). */
  | { type: "complete"; completed: number; total: number }
  /** Overall percentage from protocols that report it (JSON lines). */
  | { type: "percent"; percent: number }
  /** `Downloaded "<name>": <source url>`: one song finished. */
  | { type: "downloaded"; name: string; sourceUrl?: string }
  /** `Skipping <name> (file already exists)` and the like. */
  | { type: "skipped"; name: string; reason: SkipReason }
  /** A list item that cannot be downloaded at all (a local file, a podcast episode). */
  | { type: "unavailable"; item: "local_file" | "episode" }
  /** One song failed (`LookupError: No results found for song: <name>`). */
  | {
    type: "error";
    errorClass: string;
    message: string;
    /** The song, when the line names it. */
    track?: string;
  }
  /** A failed song in the end-of-run list (`--print-errors`): `<spotify url> - <Class>: <message>`. */
  | { type: "song_error"; songUrl: string; errorClass: string; message: string; track?: string }
  /**
   * Spotify's rate-limit warning (`Retry will occur after: N`). The downloader waits that long and
   * carries on; `retryAfterSeconds` is missing for `None`/`0`, which spotipy also prints for 404s.
   */
  | { type: "rate_limit"; retryAfterSeconds?: number }
  /** The whole run failed: the last line of the traceback after `An error occurred`. */
  | { type: "fatal"; errorClass: string; message: string }
  /** A line no parser understood; logged, never fatal. */
  | { type: "unknown"; line: string };

/** Turns output lines into events. One instance per run (parsers may keep state). */
export interface OutputParser {
  /** Parses one line (without its newline); returns zero or more events. */
  parseLine(line: string): DownloaderEvent[];
  /** The end of the output: events still held back (a traceback's last line). */
  flush?(): DownloaderEvent[];
}
