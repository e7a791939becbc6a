/**
 * Logging setup (LogTape). JSON lines with a stable field set in production, readable text on a
 * TTY. Every line passes through the redactor, so configured secrets (bot token, signing secret,
 * webhook secret) and anything shaped like a bot token never reach the log.
 *
 * Stable JSON fields: `ts`, `level`, `msg`, `logger`, then context properties such as
 * `update_id`, `user_id`, `chat_id`, `job_id`, `command`, `duration_ms`, `error`.
 *
 * @module
 */
import {
  configure,
  getLogger,
  type LogLevel,
  type LogRecord,
  reset,
  type Sink,
} from "@logtape/logtape";
import { makeRedactor } from "../config/secrets.ts";

/** The four logging methods modules need; tests pass recorders that implement just these. */
export interface Log {
  debug(message: string, properties?: Record<string, unknown>): void;
  info(message: string, properties?: Record<string, unknown>): void;
  warn(message: string, properties?: Record<string, unknown>): void;
  error(message: string, properties?: Record<string, unknown>): void;
}

/** What the app logs through: LogTape's logger satisfies it. */
export interface AppLogger extends Log {
  /** A child logger that adds these properties to every record. */
  with(properties: Record<string, unknown>): AppLogger;
}

/** Options for {@linkcode setupLogging}. */
export interface LoggingOptions {
  level: "debug" | "info" | "warning" | "error";
  format: "auto" | "json" | "text";
  /** Secret values to scrub from every line. */
  secrets: readonly string[];
  /** Where lines go; default standard error. */
  write?: (line: string) => void;
  /** Whether standard error is a terminal (for `format: "auto"`). */
  isTerminal?: boolean;
  /**
   * Standard error goes to the journal (systemd sets `JOURNAL_STREAM`): each line starts with its
   * syslog priority (`<4>` for a warning), so `journalctl -p warning` shows exactly the warnings
   * and errors.
   */
  journald?: boolean;
}

/** Syslog priorities of the levels, as journald reads them from a `<N>` line prefix. */
const SYSLOG_PRIORITY: Readonly<Record<LogLevel, number>> = {
  trace: 7,
  debug: 7,
  info: 6,
  warning: 4,
  error: 3,
  fatal: 2,
};

function levelName(level: LogLevel): string {
  return level === "warning" ? "warn" : level;
}

function renderMessage(record: LogRecord): string {
  return record.message.map((part) => typeof part === "string" ? part : safeJson(part)).join("");
}

function safeJson(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function normalise(value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, stack: value.stack };
  }
  return value;
}

/** Formats a record as one JSON line with the stable field set. */
export function formatJson(record: LogRecord): string {
  const fields: Record<string, unknown> = {
    ts: new Date(record.timestamp).toISOString(),
    level: levelName(record.level),
    msg: renderMessage(record),
    logger: record.category.join("."),
  };
  for (const [key, value] of Object.entries(record.properties)) {
    if (!(key in fields)) fields[key] = normalise(value);
  }
  try {
    return JSON.stringify(fields) + "\n";
  } catch {
    return JSON.stringify({ ts: fields.ts, level: fields.level, msg: fields.msg }) + "\n";
  }
}

/** Formats a record as one readable line: time, level, message, then key=value context. */
export function formatText(record: LogRecord): string {
  const time = new Date(record.timestamp).toISOString().slice(11, 19);
  const context = Object.entries(record.properties)
    .map(([key, value]) => `${key}=${safeJson(normalise(value))}`)
    .join(" ");
  const level = levelName(record.level).toUpperCase().padEnd(5);
  return `${time} ${level} ${renderMessage(record)}${context ? `  ${context}` : ""}\n`;
}

const encoder = new TextEncoder();

function writeStderr(line: string): void {
  const bytes = encoder.encode(line);
  let written = 0;
  while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
}

/**
 * Configures LogTape for the whole process and returns the root application logger.
 * Call once at start-up (the CLI does); {@linkcode shutdownLogging} flushes at exit.
 */
export async function setupLogging(options: LoggingOptions): Promise<AppLogger> {
  const json = options.format === "json" ||
    (options.format === "auto" && !(options.isTerminal ?? Deno.stderr.isTerminal()));
  const format = json ? formatJson : formatText;
  const write = options.write ?? writeStderr;
  const redact = makeRedactor(options.secrets);
  const prefix = options.journald
    ? (record: LogRecord) => `<${SYSLOG_PRIORITY[record.level]}>`
    : () => "";
  const sink: Sink = (record) => write(prefix(record) + redact(format(record)));
  await configure({
    reset: true,
    sinks: { main: sink },
    loggers: [
      { category: ["dlbot"], lowestLevel: options.level, sinks: ["main"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["main"] },
    ],
  });
  return getLogger(["dlbot"]);
}

/** The application logger for a sub-category, e.g. `appLogger("jobs")`. */
export function appLogger(...category: string[]): AppLogger {
  return getLogger(["dlbot", ...category]);
}

/** Flushes and removes the logging configuration. */
export async function shutdownLogging(): Promise<void> {
  await reset();
}

/** A logger that drops everything (tests, quiet commands). */
export const silentLogger: AppLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  with() {
    return silentLogger;
  },
};
