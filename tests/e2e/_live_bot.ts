/**
 * Runs `dlbot run` as a separate process, exactly as the compiled binary runs (`deno run` with the
 * flags in scripts/permissions.txt), and lets a test watch its JSON log lines, signal it and wait
 * for its exit. Used by the deployment tests (graceful shutdown, healthcheck).
 *
 * @module
 */
import { stringify } from "smol-toml";
import { mainArgs } from "../_test_utils.ts";
import { ALICE, childEnv, FAKE_SPOTDL } from "../_fixtures.ts";

/** Longest wait for anything a live process should do; a hang guard, not a timing assertion. */
export const HANG_GUARD_MS = 30_000;

/** One parsed JSON log line. */
export interface LogRecord {
  msg: string;
  level: string;
  [field: string]: unknown;
}

/** How a live process ended. */
export interface LiveExit {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}

/** Options for {@linkcode startLiveBot}. */
export interface LiveBotOptions {
  /** Environment of the process (on top of PATH, HOME, DENO_DIR and NO_COLOR). */
  env: Record<string, string>;
  /** Written as TOML to `<dir>/bot.toml` and passed with `run --config`; omit for no file. */
  config?: Record<string, unknown>;
  /** Directory for the config file (a test's temp dir). */
  dir: string;
  /** More arguments of `dlbot run` (e.g. `--role worker`). */
  args?: string[];
  /** Name of the config file in `dir` (default bot.toml), for several processes in one dir. */
  configName?: string;
}

/** A `dlbot run` process. Dispose it to kill it (SIGKILL) if it still runs. */
export interface LiveBot extends AsyncDisposable {
  readonly pid: number;
  /** Standard error so far. */
  stderr(): string;
  /** Every standard error line that parsed as a JSON log record, so far. */
  logs(): LogRecord[];
  /**
   * Resolves with the first log record whose `msg` matches (and for which `where` holds); rejects
   * when the process exits first or after {@linkcode HANG_GUARD_MS}.
   */
  waitForLog(msg: string | RegExp, where?: (record: LogRecord) => boolean): Promise<LogRecord>;
  /** Sends a signal to the process. */
  kill(signal: Deno.Signal): void;
  /** Waits for the process to end (hang guard: {@linkcode HANG_GUARD_MS}, then SIGKILL and reject). */
  exited(): Promise<LiveExit>;
}

/**
 * The environment of a production-like instance talking to `emulator`: Alice allowed, the fake
 * spotDL, any free port; `overrides` replace or add variables.
 */
export function liveBotEnv(
  emulator: { token: string; apiRoot: string },
  dataDir: string,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    TELEGRAM_BOT_TOKEN: emulator.token,
    TELEGRAM_API_ROOT: emulator.apiRoot,
    TELEGRAM_ALLOWED_USER_IDS: String(ALICE.id),
    DLBOT_DATA_DIR: dataDir,
    DLBOT_HTTP_LISTEN: "127.0.0.1:0",
    DLBOT_DOWNLOADER_COMMAND: FAKE_SPOTDL,
    ...overrides,
  };
}

/** A free TCP port on 127.0.0.1 (free when this returns; nothing keeps it reserved). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

/** Starts `dlbot run [--config <dir>/bot.toml]` with the given environment. */
export async function startLiveBot(options: LiveBotOptions): Promise<LiveBot> {
  const runArgs = ["run", ...(options.args ?? [])];
  if (options.config !== undefined) {
    const path = `${options.dir}/${options.configName ?? "bot.toml"}`;
    await Deno.writeTextFile(path, stringify(options.config));
    runArgs.push("--config", path);
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: mainArgs(...runArgs),
    cwd: options.dir,
    clearEnv: true,
    env: childEnv(options.env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  let stderr = "";
  let stdout = "";
  const records: LogRecord[] = [];
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  const collect = async (
    stream: ReadableStream<Uint8Array>,
    append: (text: string) => void,
  ) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      append(text);
      notify();
    }
  };
  let partial = "";
  const streams = Promise.all([
    collect(child.stdout, (text) => stdout += text),
    collect(child.stderr, (text) => {
      stderr += text;
      const lines = (partial + text).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        const record = parseRecord(line);
        if (record) records.push(record);
      }
    }),
  ]);
  let ended = false;
  const ending = Promise.all([child.status, streams]).then(([status]) => {
    ended = true;
    notify();
    return status;
  });

  const exited = async (): Promise<LiveExit> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const guard = new Promise<"hung">((resolve) => {
      timer = setTimeout(() => resolve("hung"), HANG_GUARD_MS);
    });
    const result = await Promise.race([ending, guard]);
    clearTimeout(timer);
    if (result === "hung") {
      killQuietly(child, "SIGKILL");
      await ending;
      throw new Error(`dlbot did not exit within ${HANG_GUARD_MS} ms; stderr:\n${stderr}`);
    }
    return { code: result.code, signal: result.signal, stdout, stderr };
  };

  const waitForLog = (
    msg: string | RegExp,
    where: (record: LogRecord) => boolean = () => true,
  ): Promise<LogRecord> => {
    const matches = (record: LogRecord) =>
      (typeof msg === "string" ? record.msg.includes(msg) : msg.test(record.msg)) && where(record);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          finish(new Error(`no log line ${msg} within ${HANG_GUARD_MS} ms; stderr:\n${stderr}`)),
        HANG_GUARD_MS,
      );
      const check = () => {
        const found = records.find(matches);
        if (found) finish(found);
        else if (ended) finish(new Error(`dlbot exited before logging ${msg}; stderr:\n${stderr}`));
      };
      function finish(outcome: LogRecord | Error) {
        clearTimeout(timer);
        listeners.delete(check);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      }
      listeners.add(check);
      check();
    });
  };

  return {
    pid: child.pid,
    stderr: () => stderr,
    logs: () => [...records],
    waitForLog,
    kill: (signal) => child.kill(signal),
    exited,
    async [Symbol.asyncDispose]() {
      if (!ended) killQuietly(child, "SIGKILL");
      await ending;
    },
  };
}

function parseRecord(line: string): LogRecord | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    if (
      typeof value === "object" && value !== null && "msg" in value &&
      typeof value.msg === "string" && "level" in value && typeof value.level === "string"
    ) {
      return value as LogRecord;
    }
  } catch {
    // Not a log record.
  }
  return undefined;
}

function killQuietly(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // Already exited.
  }
}

/** Lines of standard error that are not JSON log records (stack traces, warnings, …). */
export function nonLogLines(stderr: string): string[] {
  return stderr.split("\n").filter((line) => line.trim() !== "" && parseRecord(line) === undefined);
}

/**
 * Whether a process runs: false when it is gone or a zombie (Linux /proc; a killed child that
 * nobody reaped yet is not running).
 */
export async function isProcessRunning(pid: number): Promise<boolean> {
  let stat: string;
  try {
    stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  } catch {
    return false;
  }
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return state !== "Z" && state !== "X";
}
