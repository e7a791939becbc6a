/**
 * The downloader as a subprocess (spotDL by default): argument array, no shell, output parsed line
 * by line from standard output and standard error, stopped on cancel or timeout.
 *
 * Stopping: on Unix the child is started with `detached: true`, which makes it the leader of a new
 * session and process group (pgid = pid), so signals go to `-pid` and reach spotDL's yt-dlp and
 * ffmpeg children too: SIGTERM first, SIGKILL after the grace period. Once the leader has exited,
 * whatever is left in its group gets SIGKILL, so no stray child keeps running or keeps the output
 * pipes open. (A detached child does not die with the bot; the systemd unit's control-group kill
 * covers a crash of the bot itself.)
 *
 * After a cancel or timeout, `run()` removes unfinished files (`.part`, `.temp`, `.tmp`, `.ytdl`)
 * from the output directory; finished songs stay (the job worker decides what to keep).
 *
 * @module
 */
import { resolve as resolvePath } from "node:path";
import { stripAnsi } from "./ansi.ts";
import { buildArgs, envPath, isMissingError, missingText, resolveExecutable } from "./command.ts";
import { findFfmpeg, isOlder, isSpotdl, KNOWN_GOOD_SPOTDL, spotdlVersion } from "./spotdl_check.ts";
import type { DownloaderEvent } from "./events.ts";
import { readLines } from "./lines.ts";
import { killStrays, RUN_MARKER } from "./strays.ts";
import {
  eventDetail,
  settlesWithin,
  signalGroup,
  signalTree,
  USE_PROCESS_GROUPS,
} from "./process_tree.ts";
import { removePartialFiles } from "./output_files.ts";
import { saveArgs, SAVED_LIST_FILE } from "./saved_list.ts";
import { createParser, type OutputFormat } from "./parser.ts";
import type { Downloader, DownloaderCheck, DownloadOutcome, DownloadRequest } from "./types.ts";
import { errorText } from "../runtime/error_text.ts";

/** The logging this module needs; the app's logger satisfies it. */
export interface DownloaderLogger {
  debug(message: string, properties?: Record<string, unknown>): void;
  info(message: string, properties?: Record<string, unknown>): void;
  warn(message: string, properties?: Record<string, unknown>): void;
}

/** Options for {@linkcode SubprocessDownloader}. */
export interface SubprocessDownloaderOptions {
  /** Executable name (looked up on PATH) or path. */
  command: string;
  /** Argument template; `{url}` and `{output_dir}` are substituted (see `buildArgs`). */
  args: readonly string[];
  /** Output protocol. */
  format: OutputFormat;
  /** A run longer than this is stopped and reported as `timeout`. */
  timeoutMs: number;
  /** Time between SIGTERM and SIGKILL when stopping. */
  killGraceMs: number;
  /** Extra environment variables for the process (on top of the bot's own and the defaults). */
  env?: Record<string, string>;
  logger?: DownloaderLogger;
}

/**
 * Environment defaults for the child, overridable through `options.env`: unbuffered Python output
 * (live progress through a pipe), UTF-8 output (spotDL fails songs with non-ASCII names otherwise)
 * and a wide console so rich does not wrap long song names across lines.
 */
export const DEFAULT_CHILD_ENV: Readonly<Record<string, string>> = {
  PYTHONUNBUFFERED: "1",
  PYTHONIOENCODING: "utf-8",
  COLUMNS: "320",
};

/** How many standard error (and unrecognised or error) lines an outcome keeps for the log. */
export const STDERR_TAIL_LINES = 20;

/** How long to wait for the output pipes to close after the process exited. */
export const DRAIN_TIMEOUT_MS = 5_000;

const NO_LOGGER: DownloaderLogger = { debug() {}, info() {}, warn() {} };

/** Runs the configured downloader executable. */
export class SubprocessDownloader implements Downloader {
  readonly #options: SubprocessDownloaderOptions;
  readonly #logger: DownloaderLogger;

  constructor(options: SubprocessDownloaderOptions) {
    this.#options = options;
    this.#logger = options.logger ?? NO_LOGGER;
  }

  /** Resolves the executable without running it. */
  async check(): Promise<DownloaderCheck> {
    const path = await this.#resolve();
    if (path === null) return { ok: false, ...missingText(this.#options.command) };
    if (this.#isSpotdl() && await findFfmpeg(this.#options.args, this.#pathEnv()) === null) {
      return {
        ok: false,
        message: "ffmpeg was not found on PATH (spotDL needs it to convert audio)",
        hint: "install ffmpeg (for example `apt install ffmpeg`), or pass " +
          '"--ffmpeg", "/path/to/ffmpeg" in downloader.args',
      };
    }
    return { ok: true, path };
  }

  /** An old or unreadable spotDL version (`spotdl --version`, bounded by `timeoutMs`). */
  async warnings(timeoutMs = 15_000): Promise<string[]> {
    const path = this.#isSpotdl() ? await this.#resolve() : null;
    if (path === null) return [];
    const found = await spotdlVersion(path, timeoutMs);
    if ("error" in found) return [`spotDL's version could not be checked: ${found.error}`];
    if (!isOlder(found.version, KNOWN_GOOD_SPOTDL)) return [];
    return [
      `spotDL ${found.version} is older than ${KNOWN_GOOD_SPOTDL}: since Spotify's February 2026 ` +
      "API change older versions fail playlists with 403. Upgrade: pipx upgrade spotdl",
    ];
  }

  #isSpotdl(): boolean {
    return this.#options.format === "spotdl" && isSpotdl(this.#options.command);
  }

  #pathEnv(): string | undefined {
    return this.#options.env?.PATH ?? envPath();
  }

  /** Runs one download; see the module documentation for how it stops. Never throws for downloader failures. */
  async run(request: DownloadRequest): Promise<DownloadOutcome> {
    // The child runs inside the output directory, so every path it is given must be absolute: a
    // relative one (the default data dir is "./data") would be resolved a second time from there.
    const outputDir = resolvePath(request.outputDir);
    const args = buildArgs(this.#options.args, { url: request.url, output_dir: outputDir });
    // After the configured flags, so the user's choice wins (argparse keeps the last value).
    if (request.audio !== undefined && this.#options.format === "spotdl") {
      args.push("--format", request.audio.format, "--bitrate", request.audio.bitrate);
    }
    return await this.#launch(request, outputDir, args);
  }

  /** spotDL's `save` of the list (see {@linkcode Downloader.saveList}); `null` for others. */
  async saveList(request: DownloadRequest): Promise<DownloadOutcome | null> {
    if (this.#options.format !== "spotdl") return null;
    const outputDir = resolvePath(request.outputDir);
    const download = buildArgs(this.#options.args, { url: request.url, output_dir: outputDir });
    const args = saveArgs(download, `${outputDir}/${SAVED_LIST_FILE}`);
    if (args === undefined) return null;
    return await this.#launch(request, outputDir, args);
  }

  /** Runs the executable with `args` in `outputDir`, unless cancelled already or missing. */
  async #launch(
    request: DownloadRequest,
    outputDir: string,
    args: string[],
  ): Promise<DownloadOutcome> {
    if (request.signal.aborted) return { kind: "cancelled", stderrTail: [] };
    const path = await this.#resolve();
    if (path === null) {
      const text = missingText(this.#options.command);
      return { kind: "missing", message: `${text.message}; ${text.hint}` };
    }
    await Deno.mkdir(outputDir, { recursive: true });
    // A HOME of its own per run: spotDL's temp files, caches and any config.json it would read
    // (one setting there can change every line the bot relies on) stay with this run.
    const home = runHome(outputDir);
    await Deno.mkdir(home, { recursive: true });
    try {
      return await this.#spawn(path, args, outputDir, home, request);
    } finally {
      await Deno.remove(home, { recursive: true }).catch(() => {});
    }
  }

  async #spawn(
    path: string,
    args: string[],
    outputDir: string,
    home: string,
    request: DownloadRequest,
  ): Promise<DownloadOutcome> {
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(path, {
        args,
        cwd: outputDir,
        env: {
          ...DEFAULT_CHILD_ENV,
          [RUN_MARKER]: outputDir,
          HOME: home,
          XDG_CONFIG_HOME: `${home}/.config`,
          XDG_CACHE_HOME: `${home}/.cache`,
          ...this.#options.env,
        },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        detached: USE_PROCESS_GROUPS,
      }).spawn();
    } catch (error) {
      if (isMissingError(error)) {
        return {
          kind: "missing",
          message: `${this.#options.command} cannot be run: ${errorText(error)}`,
        };
      }
      throw error;
    }

    const started = Date.now();
    this.#logger.info("downloader started", {
      command: path,
      pid: child.pid,
      url: request.url,
      output_dir: outputDir,
    });
    return await this.#supervise(child, request, started);
  }

  async #supervise(
    child: Deno.ChildProcess,
    request: DownloadRequest,
    started: number,
  ): Promise<DownloadOutcome> {
    const parser = createParser(this.#options.format);
    const tail: string[] = [];
    const remember = (line: string) => {
      tail.push(line);
      if (tail.length > STDERR_TAIL_LINES) tail.shift();
    };
    const emit = (events: DownloaderEvent[], source: "stdout" | "stderr") => {
      for (const event of events) {
        const detail = eventDetail(event);
        if (source === "stdout" && detail !== undefined) remember(detail);
        if (event.type === "unknown") {
          this.#logger.debug("downloader output", { source, line: event.line });
        }
        try {
          request.onEvent(event);
        } catch (error) {
          this.#logger.warn("downloader event handler failed", { error: errorText(error) });
        }
      }
    };
    const handle = (raw: string, source: "stdout" | "stderr") => {
      const line = stripAnsi(raw).trimEnd();
      if (source === "stderr" && line.trim() !== "") remember(line);
      let events: DownloaderEvent[];
      try {
        events = parser.parseLine(raw);
      } catch (error) {
        this.#logger.warn("downloader output parser failed", { error: errorText(error), line });
        events = [{ type: "unknown", line }];
      }
      emit(events, source);
    };

    let exited = false;
    let stopReason: "cancelled" | "timeout" | null = null;
    let graceTimer: ReturnType<typeof setTimeout> | undefined;
    const stop = (reason: "cancelled" | "timeout") => {
      if (exited || stopReason !== null) return;
      stopReason = reason;
      this.#logger.info("stopping downloader", { pid: child.pid, reason });
      signalTree(child, "SIGTERM");
      graceTimer = setTimeout(() => {
        if (!exited) {
          this.#logger.warn("downloader ignored SIGTERM, sending SIGKILL", { pid: child.pid });
          signalTree(child, "SIGKILL");
        }
      }, this.#options.killGraceMs);
    };
    const onAbort = () => stop("cancelled");
    request.signal.addEventListener("abort", onAbort, { once: true });
    const timeoutTimer = setTimeout(() => stop("timeout"), this.#options.timeoutMs);

    const drainAbort = new AbortController();
    const readers = Promise.all([
      readLines(child.stdout, (line) => handle(line, "stdout"), drainAbort.signal),
      readLines(child.stderr, (line) => handle(line, "stderr"), drainAbort.signal),
    ]).catch((error) => {
      this.#logger.warn("reading downloader output failed", { error: errorText(error) });
    });

    const status = await child.status;
    exited = true;
    clearTimeout(timeoutTimer);
    clearTimeout(graceTimer);
    request.signal.removeEventListener("abort", onAbort);

    // Reap whatever the leader left behind in its process group, and anything of this run that
    // left the group (setsid) and may still hold the output pipes.
    if (USE_PROCESS_GROUPS) signalGroup(child.pid, "SIGKILL");
    const strays = await killStrays((marker) => marker === resolvePath(request.outputDir));
    if (strays.length > 0) {
      this.#logger.warn("killed downloader processes that had left its process group", {
        pids: strays,
      });
    }
    if (!await settlesWithin(readers, DRAIN_TIMEOUT_MS)) {
      this.#logger.warn("downloader output still open after exit; closing it", { pid: child.pid });
      drainAbort.abort();
      await readers;
    }
    emit(parser.flush?.() ?? [], "stdout");

    const outcome: DownloadOutcome = stopReason === null
      ? { kind: "exited", exitCode: status.code, stderrTail: tail }
      : { kind: stopReason, stderrTail: tail };
    if (stopReason !== null) await this.#removePartials(request.outputDir);
    this.#logger.info("downloader finished", {
      pid: child.pid,
      outcome: outcome.kind,
      exit_code: status.code,
      signal: status.signal,
      duration_ms: Date.now() - started,
    });
    return outcome;
  }

  async #removePartials(dir: string): Promise<void> {
    try {
      const removed = await removePartialFiles(dir);
      if (removed.length > 0) this.#logger.debug("removed partial files", { files: removed });
    } catch (error) {
      this.#logger.warn("could not remove partial files", { error: errorText(error), dir });
    }
  }

  async #resolve(): Promise<string | null> {
    return await resolveExecutable(this.#options.command, this.#pathEnv());
  }
}

/** The HOME directory of the run writing into `outputDir`: beside it, never inside. */
export function runHome(outputDir: string): string {
  return `${outputDir.replace(/\/+$/, "")}.home`;
}
