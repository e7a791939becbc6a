/**
 * `dlbot run --sandbox`: the real bot against the built-in Telegram emulator, with a chat in the
 * terminal. Everything but Telegram is the production code path: whitelist, rate limits, KV,
 * the job queue, the downloader, metrics and health endpoints.
 *
 * Each input line is a message from the current user, except:
 *
 * | Line | Effect |
 * | --- | --- |
 * | `/as <id>` | speak as another user (an outsider sees the refusal) |
 * | `/wait` | wait until no job of this session is queued or running |
 * | `N` (a number) | press button N of the latest message with buttons |
 * | `/quit`, end of input | leave (piped input first waits as `/wait` does) |
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import { secretValues } from "../config/secrets.ts";
import { type AppLogger, setupLogging } from "../log/logger.ts";
import { type App, createApp } from "../app/create_app.ts";
import { type DownloaderCheck, downloaderFromConfig } from "../downloader/mod.ts";
import { parseListenAddress } from "../http/server.ts";
import { TelegramEmulator } from "../emulator/mod.ts";
import { onShutdownSignals } from "../runtime/signals.ts";
import { reachableHost, urlHost } from "../runtime/host.ts";
import { TranscriptRenderer } from "./transcript.ts";
import { Activity, jobsActive, LineReader, type SandboxIo, Session } from "./session.ts";

/** Options of {@linkcode runSandbox}. */
export interface SandboxOptions {
  /** The loaded configuration; the sandbox works on a copy. */
  config: Config;
  /** The CLI's logger; replaced, since sandbox logs go to a file. */
  logger: AppLogger;
  io: SandboxIo;
  /** The person's input; default standard input. */
  input?: ReadableStream<Uint8Array>;
}

/** Longest wait for last output when leaving. */
export const FINAL_SETTLE_MS = 2_000;
/** Longest a quitting sandbox lets running downloads finish before re-queueing them. */
const SANDBOX_GRACE_SECONDS = 5;

/** `http://host:port` for people: wildcard addresses become loopback. */
function httpBase(address: { hostname: string; port: number }): string {
  return `http://${urlHost(reachableHost(address.hostname))}:${address.port}`;
}

/**
 * The address the HTTP server will listen on: the configured one when free, else (or when its
 * port is 0) a free port on the same host, so download links carry a port that works.
 */
function chooseListen(listen: string): { listen: string; note?: string } {
  const { hostname, port } = parseListenAddress(listen);
  const free = (wanted: number): number | undefined => {
    try {
      const listener = Deno.listen({ hostname, port: wanted });
      const chosen = listener.addr.port;
      listener.close();
      return chosen;
    } catch (error) {
      if (error instanceof Deno.errors.AddrInUse) return undefined;
      throw error;
    }
  };
  if (port !== 0 && free(port) !== undefined) return { listen };
  const chosen = free(0)!;
  return {
    listen: listen.replace(/:\d+$/, `:${chosen}`),
    note: port === 0
      ? undefined
      : `(${listen} is in use, so the sandbox listens on port ${chosen})`,
  };
}

function joinPath(dir: string, name: string): string {
  return `${dir.replace(/\/+$/, "")}/${name}`;
}

/** A log sink appending to a file; writes after `close()` are dropped. */
function fileSink(path: string): { write: (line: string) => void; close: () => void } {
  const file = Deno.openSync(path, { append: true, create: true });
  const encoder = new TextEncoder();
  let open = true;
  return {
    write(line) {
      if (!open) return;
      const bytes = encoder.encode(line);
      let written = 0;
      while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
    },
    close() {
      if (open) file.close();
      open = false;
    },
  };
}

function downloaderWarning(check: DownloaderCheck & { ok: false }): string {
  return [
    `! The downloader cannot run: ${check.message}.`,
    "  Install spotDL with `pipx install spotdl`, and ffmpeg (`spotdl --download-ffmpeg` or your",
    "  package manager); or set downloader.command in config/bot.toml (or DLBOT_DOWNLOADER_COMMAND)",
    "  to the executable. The chat works anyway: /download will tell you the same.",
    "",
  ].join("\n");
}

function banner(userId: number, app: App, logPath: string, note?: string): string {
  const base = httpBase(app.httpAddress);
  return [
    "dlbot sandbox — a local chat with your bot (no Telegram needed).",
    `You are user ${userId}. Type /help. /as <id> to speak as another user (try an outsider),`,
    "/wait to wait for running jobs, /quit to leave. Press buttons by typing their number.",
    `  metrics: ${base}/metrics   readiness: ${base}/readyz`,
    `  logs:    ${logPath} (JSON lines)`,
    ...(note ? [`  ${note}`] : []),
    "",
    "",
  ].join("\n");
}

/**
 * Runs the sandbox until `/quit`, end of input or Ctrl+C; returns the exit code. See the module
 * documentation for what the person can type.
 */
export async function runSandbox(options: SandboxOptions): Promise<number> {
  const { io } = options;
  const source = options.config;
  const interactive = io.stdinIsTerminal;
  const userId = source.sandbox.user_id;
  const dataDir = source.storage.data_dir;
  await Deno.mkdir(dataDir, { recursive: true });

  const emulator = await TelegramEmulator.start({ port: 0 });
  const logPath = joinPath(dataDir, "sandbox.log");
  const sink = fileSink(logPath);
  const logger = await setupLogging({
    level: source.log.level,
    format: "json",
    secrets: [...secretValues(source), emulator.token],
    write: sink.write,
  });

  const { listen, note } = chooseListen(source.http.listen);
  const config: Config = structuredClone(source);
  config.telegram.api_root = emulator.apiRoot;
  config.telegram.token = emulator.token;
  config.telegram.mode = "polling";
  config.http.listen = listen;
  config.shutdown.grace_seconds = Math.min(config.shutdown.grace_seconds, SANDBOX_GRACE_SECONDS);

  const check = await downloaderFromConfig(config).check();

  const stdoutIsTerminal = Deno.stdout.isTerminal();
  const renderer = new TranscriptRenderer({
    tty: interactive,
    homeChatId: userId,
    terminalSize: () => {
      if (!stdoutIsTerminal) return undefined;
      try {
        return Deno.consoleSize();
      } catch {
        return undefined;
      }
    },
  });
  const activity = new Activity();
  const unsubscribe = emulator.onChange((event) => {
    activity.record(event);
    const text = renderer.render(event);
    if (text) io.out(text);
  });

  let app: App;
  try {
    app = await createApp({
      config,
      logger,
      token: emulator.token,
      kvPath: joinPath(dataDir, "sandbox.kv"),
      extraAllowedUserIds: [userId],
    });
  } catch (error) {
    io.err(`Could not start the sandbox: ${error instanceof Error ? error.message : error}\n`);
    unsubscribe();
    await emulator.close();
    sink.close();
    return 1;
  }

  const quit = new AbortController();
  // SIGINT (Ctrl+C) and SIGTERM end the session; a second one exits at once.
  const removeSignals = onShutdownSignals({
    onFirst: () => quit.abort(),
    onRepeat: () => io.err("\nExiting now.\n"),
  });
  const reader = new LineReader(options.input ?? Deno.stdin.readable);
  try {
    await app.start();
    io.out(banner(userId, app, logPath, note));
    if (!check.ok) io.err(downloaderWarning(check));
    const session = new Session({
      emulator,
      renderer,
      activity,
      io,
      homeUser: { id: userId, first_name: io.env.USER || io.env.USERNAME || "Sandbox" },
      waitLimitMs: (config.downloader.timeout_minutes * 60 + config.downloader.kill_grace_seconds) *
        1000,
      signal: quit.signal,
    });
    const ended = new Promise<undefined>((resolve) =>
      quit.signal.addEventListener("abort", () => resolve(undefined), { once: true })
    );
    for (;;) {
      const next = reader.next();
      next.catch(() => {});
      const line = await Promise.race([next, ended]);
      if (line === undefined) {
        if (!quit.signal.aborted && !interactive) await session.waitForJobs({ reportIdle: false });
        break;
      }
      if (interactive) renderer.typed();
      if (!(await session.handle(line))) break;
    }
    await session.settle(quit.signal.aborted ? 0 : FINAL_SETTLE_MS);
    return 0;
  } catch (error) {
    io.err(`The sandbox stopped: ${error instanceof Error ? error.message : error}\n`);
    return 1;
  } finally {
    reader.cancel();
    removeSignals();
    await app.stop();
    unsubscribe();
    if (jobsActive(emulator, activity.chats)) {
      io.out(renderer.note(
        "(unfinished jobs went back to the queue; they continue the next time the sandbox starts)",
      ));
    }
    await emulator.close();
    sink.close();
  }
}
