/**
 * The configured downloader: spotDL (or another command) with the flags the bot relies on.
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import { PLAYLIST_ORDER_FILE } from "./playlist_order.ts";
import { type DownloaderLogger, SubprocessDownloader } from "./subprocess.ts";

/**
 * The spotDL flags every run gets after the configured arguments (so they win): the output the
 * parser reads (`--simple-tui`, `--log-level INFO`, `--print-errors`), the playlist file that
 * gives the list order (`--m3u`) and the audio settings.
 */
export function spotdlFlags(downloader: Config["downloader"]): string[] {
  return [
    "--simple-tui",
    "--log-level",
    "INFO",
    "--print-errors",
    "--m3u",
    PLAYLIST_ORDER_FILE,
    "--format",
    downloader.audio_format,
    "--bitrate",
    downloader.bitrate,
    "--threads",
    String(downloader.threads),
  ];
}

/** The configured downloader (`[downloader]` in the config file). */
export function downloaderFromConfig(
  config: Pick<Config, "downloader">,
  logger?: DownloaderLogger,
): SubprocessDownloader {
  const { downloader } = config;
  return new SubprocessDownloader({
    command: downloader.command,
    args: downloader.output_format === "spotdl"
      ? [...downloader.args, ...spotdlFlags(downloader)]
      : downloader.args,
    format: config.downloader.output_format,
    timeoutMs: config.downloader.timeout_minutes * 60_000,
    killGraceMs: config.downloader.kill_grace_seconds * 1000,
    env: config.downloader.env,
    logger,
  });
}
