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

/** One thing the downloader said. */
export type DownloaderEvent =
  /** `Found N songs in <name> (<Kind>)`. */
  | { type: "total"; total: number; title?: string; listKind?: string }
  /** `<song>: <Status>`. */
  | { type: "track"; name: string; status: TrackStatus }
  /** `k/N complete`. */
  | { type: "complete"; completed: number; total: number }
  /** Overall percentage from protocols that report it (JSON lines). */
  | { type: "percent"; percent: number }
  /** `Downloaded "<name>": <source url>`. */
  | { type: "downloaded"; name: string; sourceUrl?: string }
  /** `Skipping <name> (file already exists) (duplicate)`. */
  | { type: "skipped"; name: string; reason: string }
  /** `<ExceptionClass>: <message>` and known error lines. */
  | {
    type: "error";
    errorClass: string;
    message: string;
    /** The song the error is about, when the line names it (`No results found for song: <name>`). */
    track?: string;
    /** `Retry will occur after: <seconds>` from Spotify rate limiting. */
    retryAfterSeconds?: number;
  }
  /** A line no parser understood; logged, never fatal. */
  | { type: "unknown"; line: string };

/** Turns output lines into events. One instance per run (parsers may keep state). */
export interface OutputParser {
  /** Parses one line (without its newline); returns zero or more events. */
  parseLine(line: string): DownloaderEvent[];
}
