/**
 * The command line: `run`, `check-config`, `healthcheck`, `--version`, `--help`.
 * `main()` returns the process exit code; `main.ts` exits with it.
 *
 * @module
 */
import { Command, CommanderError, Option } from "@commander-js/extra-typings";
import { VERSION } from "../version.ts";
import { type ConfigProblem } from "../config/problem.ts";
import { loadConfig, type LoadResult, type LoadSuccess } from "../config/load.ts";
import {
  formatProblems,
  formatSummary,
  productionProblems,
  productionWarnings,
  toJson,
} from "../config/report.ts";
import { ENV_VARS } from "../config/env.ts";
import { secretValues } from "../config/secrets.ts";
import { type AppLogger, setupLogging, shutdownLogging } from "../log/logger.ts";
import { libraryDirProblem } from "../library/drop.ts";
import { type App, type AppRole, createApp } from "../app/create_app.ts";
import { StartupError } from "../app/startup_error.ts";
import { downloaderFromConfig } from "../downloader/mod.ts";
import { defaultHealthUrl, runHealthcheck } from "./healthcheck.ts";
import { errorText } from "../runtime/error_text.ts";
import { onShutdownSignals } from "../runtime/signals.ts";
import { sleep } from "../runtime/sleep.ts";

/** Where the CLI writes (injectable for tests). */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
  /** Whether standard input is a terminal (decides the sandbox fallback of `run`). */
  stdinIsTerminal: boolean;
}

const encoder = new TextEncoder();

function defaultIo(): CliIo {
  return {
    out: (text) => Deno.stdout.writeSync(encoder.encode(text)),
    err: (text) => Deno.stderr.writeSync(encoder.encode(text)),
    env: Deno.env.toObject(),
    stdinIsTerminal: Deno.stdin.isTerminal(),
  };
}

/** Exit codes. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

async function load(path: string | undefined, io: CliIo): Promise<LoadResult> {
  return await loadConfig({ path, env: io.env });
}

/**
 * The configured downloader: a problem for `check-config` when it cannot be started (or lacks
 * ffmpeg), and warnings that do not stop it (an old spotDL).
 */
async function downloaderReport(
  loaded: LoadSuccess,
): Promise<{ problem?: ConfigProblem; warnings: string[] }> {
  const downloader = downloaderFromConfig(loaded.config);
  const check = await downloader.check();
  if (check.ok) return { warnings: await downloader.warnings() };
  return {
    problem: {
      path: "downloader.command",
      message: check.message,
      hint: check.hint,
      source: loaded.sources.get("downloader.command") ?? "default",
    },
    warnings: [],
  };
}

async function runCommand(
  options: { config?: string; sandbox?: boolean; role?: AppRole },
  io: CliIo,
): Promise<number> {
  const loaded = await load(options.config, io);
  if (!loaded.ok) {
    io.err(formatProblems(loaded.problems, loaded.file));
    return EXIT.failure;
  }
  const config = loaded.config;
  const token = config.telegram.token;
  const sandbox = options.sandbox || (!token && io.stdinIsTerminal);
  if (!sandbox) {
    const problems = productionProblems(config);
    if (problems.length > 0) {
      io.err(formatProblems(problems, loaded.file));
      io.err("To try the bot without a token, run: dlbot run --sandbox\n");
      return EXIT.failure;
    }
  }
  const logger = await setupLogging({
    level: config.log.level,
    format: config.log.format,
    secrets: secretValues(config),
    journald: io.env.JOURNAL_STREAM !== undefined,
  });
  try {
    // Without a token only the sandbox can run (production checks above refused the rest).
    if (sandbox || token === undefined) {
      if (!options.sandbox) {
        io.err("No bot token configured: starting the sandbox chat (see README).\n");
      }
      // Loaded only here: the sandbox brings the whole Bot API emulator, which a real bot never
      // needs (it would cost every start-up its load time and memory).
      const { runSandbox } = await import("../sandbox/run.ts");
      return await runSandbox({ config, logger, io });
    }
    for (const warning of productionWarnings(config)) logger.warn(warning);
    let app: App;
    try {
      app = await createApp({ config, logger, token, role: options.role ?? "all" });
    } catch (error) {
      if (!(error instanceof StartupError)) throw error;
      logger.error("start-up failed", { error: error.message });
      io.err(`dlbot: ${error.message}\n`);
      return EXIT.failure;
    }
    const stopRequested = Promise.withResolvers<void>();
    const removeSignals = onShutdownSignals({
      onFirst(signal) {
        logger.info("received signal", { signal });
        stopRequested.resolve();
      },
      onRepeat(signal) {
        io.err(`Received ${signal} again: exiting now.\n`);
        app.abortDownloads();
      },
    });
    try {
      try {
        await Promise.race([app.start(), stopRequested.promise]);
      } catch (error) {
        logger.error("start-up failed", { error });
        io.err(`dlbot: ${errorText(error)}\n`);
        await app.stop();
        return EXIT.failure;
      }
      const reason = await Promise.race([stopRequested.promise, app.fatal]);
      await stopWithin(app, config.shutdown.grace_seconds + STOP_MARGIN_SECONDS, logger);
      if (reason) {
        io.err(`dlbot: ${reason.message}\n`);
        return EXIT.failure;
      }
    } finally {
      removeSignals();
    }
    return EXIT.ok;
  } finally {
    await shutdownLogging();
  }
}

/** Time a stop may take beyond the drain's grace (a final message hanging on a dead network). */
const STOP_MARGIN_SECONDS = 5;

/**
 * Stops the app, but never for longer than `seconds`: with Telegram unreachable a last message
 * can wait on retries for minutes. Then downloads get SIGTERM and the process goes on to exit;
 * what was not sent is logged.
 */
async function stopWithin(app: App, seconds: number, logger: AppLogger): Promise<void> {
  const timer = new AbortController();
  const stopped = app.stop().then(() => true);
  const late = sleep(seconds * 1000, timer.signal).then(() => false);
  const clean = await Promise.race([stopped, late]);
  timer.abort();
  if (clean) return;
  app.abortDownloads();
  logger.warn("stopping took too long (is Telegram unreachable?); exiting anyway", {
    waited_seconds: seconds,
  });
}

async function checkConfigCommand(
  options: { config?: string; json?: boolean },
  io: CliIo,
): Promise<number> {
  const loaded = await load(options.config, io);
  if (!loaded.ok) {
    if (options.json) io.out(JSON.stringify(toJson(loaded), null, 2) + "\n");
    else io.err(formatProblems(loaded.problems, loaded.file));
    return EXIT.failure;
  }
  const problems = productionProblems(loaded.config);
  const downloader = await downloaderReport(loaded);
  downloader.warnings.unshift(...productionWarnings(loaded.config));
  if (downloader.problem) problems.push(downloader.problem);
  const libraryDir = loaded.config.library.dir;
  const library = libraryDir === undefined ? undefined : await libraryDirProblem(libraryDir);
  if (library !== undefined) {
    problems.push({
      path: "library.dir",
      message: library,
      hint: "create it and let the bot's user write there (the bot places every track in it)",
      source: loaded.sources.get("library.dir") ?? "default",
    });
  }
  if (options.json) {
    const report = toJson(problems.length ? { ok: false, file: loaded.file, problems } : loaded);
    io.out(
      JSON.stringify({ ...(report as object), warnings: downloader.warnings }, null, 2) + "\n",
    );
  } else {
    io.out(formatSummary(loaded));
    for (const warning of downloader.warnings) io.err(`warning: ${warning}\n`);
    if (problems.length > 0) io.err("\n" + formatProblems(problems, loaded.file));
  }
  return problems.length > 0 ? EXIT.failure : EXIT.ok;
}

async function healthcheckCommand(
  options: { url?: string; config?: string; timeout: string },
  io: CliIo,
): Promise<number> {
  let url = options.url;
  if (!url) {
    const loaded = await load(options.config, io);
    const listen = loaded.ok ? loaded.config.http.listen : "127.0.0.1:8080";
    url = `${defaultHealthUrl(listen)}`;
  }
  return await runHealthcheck({
    url,
    timeoutMs: Number(options.timeout),
    print: (line) => io.out(line + "\n"),
  });
}

function envHelp(): string {
  const width = Math.max(...ENV_VARS.map((v) => v.name.length));
  return "\nEnvironment variables (override config/bot.toml):\n" +
    ENV_VARS.map((v) => `  ${v.name.padEnd(width)}  ${v.description}`).join("\n") + "\n";
}

/** Builds the command tree; each action stores its exit code in `result`. */
export function buildProgram(io: CliIo, result: { code: number }) {
  const program = new Command()
    .name("dlbot")
    .description("Telegram bot that downloads music from Spotify links (spotDL).")
    .version(VERSION, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();

  const configOption = () =>
    new Option("-c, --config <path>", "config file (default: config/bot.toml if present)");

  program.command("run")
    .description("start the bot (long polling or webhook); without a token on a terminal: sandbox")
    .addOption(configOption())
    .option(
      "--sandbox",
      "local terminal chat against a built-in Telegram emulator; no token needed",
    )
    .addOption(
      new Option(
        "--role <role>",
        "all: take updates and run downloads; bot: take updates only; worker: run downloads " +
          "(and tell their chats) only, sharing the store with a bot",
      ).choices(["all", "bot", "worker"] as const).default("all" as const),
    )
    .addHelpText("after", envHelp())
    .action(async (options) => {
      result.code = await runCommand(options, io);
    });

  program.command("check-config")
    .description("validate the configuration and print every problem; exit 1 if any")
    .addOption(configOption())
    .option("--json", "machine-readable output")
    .addHelpText("after", envHelp())
    .action(async (options) => {
      result.code = await checkConfigCommand(options, io);
    });

  program.command("healthcheck")
    .description("probe the running bot's /readyz: exit 0 healthy, 1 unhealthy, 2 unreachable")
    .option("--url <url>", "readiness URL (default: from http.listen in the config)")
    .addOption(configOption())
    .option("--timeout <ms>", "give up after this many milliseconds", "3000")
    .action(async (options) => {
      result.code = await healthcheckCommand(options, io);
    });

  return program;
}

/** Runs the CLI with these arguments (without the program name); returns the exit code. */
export async function main(args: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  const result = { code: EXIT.ok as number };
  const program = buildProgram(io, result);
  try {
    await program.parseAsync([...args], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    throw error;
  }
  return result.code;
}
