/**
 * The downloader as the job worker sees it: run one download into a directory, report events,
 * stop on cancel or timeout.
 *
 * @module
 */
import type { DownloaderEvent } from "./events.ts";

/** One download run. */
export interface DownloadRequest {
  /** Canonical Spotify URL (validated; passed as a single argument, never through a shell). */
  url: string;
  /** Empty directory owned by this job; the downloader writes its files here. */
  outputDir: string;
  /** Aborting stops the process: SIGTERM, then SIGKILL after the grace period. */
  signal: AbortSignal;
  /** Called for each parsed event, in order. */
  onEvent: (event: DownloaderEvent) => void;
  /** The audio the user chose (spotDL's `--format` and `--bitrate`); absent: as configured. */
  audio?: { format: string; bitrate: string };
}

/** How a run ended. */
export type DownloadOutcome =
  | { kind: "exited"; exitCode: number; stderrTail: string[] }
  | { kind: "timeout"; stderrTail: string[] }
  | { kind: "cancelled"; stderrTail: string[] }
  /** The executable does not exist or cannot be run. */
  | { kind: "missing"; message: string };

/** Result of checking that the downloader can be started. */
export type DownloaderCheck =
  | { ok: true; path: string }
  | { ok: false; message: string; hint: string };

/** Runs downloads. */
export interface Downloader {
  /** Resolves the executable (PATH lookup) without running a download. */
  check(): Promise<DownloaderCheck>;
  /** Things an admin should know that do not stop it from running (an old version). */
  warnings?(): Promise<string[]>;
  /** Runs one download to its end. Never throws for downloader failures: see the outcome. */
  run(request: DownloadRequest): Promise<DownloadOutcome>;
  /**
   * Writes the songs of `request.url` to `SAVED_LIST_FILE` (`saved_list.ts`) in the output
   * directory without downloading them (spotDL's `save`), reporting the list's events as
   * a download does; `null` when this downloader cannot. A later {@linkcode run} whose `url` is
   * that file's path downloads exactly those songs.
   */
  saveList?(request: DownloadRequest): Promise<DownloadOutcome | null>;
}
