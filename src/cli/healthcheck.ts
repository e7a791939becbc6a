/**
 * `dlbot healthcheck`: probes the running bot's readiness endpoint and turns the answer into one
 * line of text and an exit code that Docker `HEALTHCHECK`, compose and systemd understand.
 *
 * Exit codes: 0 healthy, 1 unhealthy (the bot answered but is not ready), 2 unreachable (nothing
 * answered: connection refused, timeout, unknown host, bad URL).
 *
 * @module
 */
import { z } from "zod";
import { errorText } from "../runtime/error_text.ts";
import { reachableHost, urlHost } from "../runtime/host.ts";

/** Exit code of the healthcheck: 0 healthy, 1 unhealthy, 2 unreachable. */
export type HealthcheckExitCode = 0 | 1 | 2;

/** Options for {@link runHealthcheck}. */
export interface HealthcheckOptions {
  /** Readiness URL to probe, e.g. `http://127.0.0.1:8080/readyz` (see {@link defaultHealthUrl}). */
  url: string;
  /** Time allowed for the whole request, body included; default {@link DEFAULT_HEALTHCHECK_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Receives the single result line. */
  print: (line: string) => void;
}

/** Default time allowed for one probe. Docker's own HEALTHCHECK timeout should be longer. */
export const DEFAULT_HEALTHCHECK_TIMEOUT_MS = 3000;

/** Path of the readiness endpoint served by the bot's HTTP server. */
export const READINESS_PATH = "/readyz";

/** Longest reason text printed, so a misbehaving server cannot flood the log line. */
const MAX_REASON_LENGTH = 200;

/**
 * One entry of `checks` in the readiness body. The bot reports `{ ok, message? }` per dependency
 * (src/http/health.ts); plain strings ("ok" or a reason), booleans and `status`/`detail` objects
 * are accepted too, so the probe keeps working against other versions of the bot.
 */
const checkValueSchema = z.union([
  z.string(),
  z.boolean(),
  z.looseObject({
    ok: z.boolean().optional(),
    status: z.string().optional(),
    detail: z.string().optional(),
    message: z.string().optional(),
    reason: z.string().optional(),
    error: z.string().optional(),
  }),
]);

/** The JSON body of `/readyz`: `{"status":"ready"|"not_ready","checks":{...}}`. */
const readinessBodySchema = z.looseObject({
  status: z.string(),
  checks: z.record(z.string(), checkValueSchema).default({}),
});

type CheckValue = z.infer<typeof checkValueSchema>;

/** Status words that mean a single check passed. */
const PASSING_WORDS = new Set(["ok", "pass", "passed", "up", "ready", "healthy"]);

/**
 * Probes `options.url` once and prints one line:
 * `healthy: ready (kv ok, telegram ok, downloader ok)`,
 * `unhealthy: not_ready (telegram: no successful API call yet)` or `unreachable: <reason>`.
 *
 * Never throws for network or protocol problems; they become exit code 2 (unreachable) or 1
 * (the server answered with something other than a ready status).
 */
export async function runHealthcheck(options: HealthcheckOptions): Promise<HealthcheckExitCode> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_HEALTHCHECK_TIMEOUT_MS;
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    options.print(`unreachable: invalid URL ${JSON.stringify(options.url)}`);
    return 2;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    options.print(`unreachable: unsupported URL scheme ${url.protocol} (use http or https)`);
    return 2;
  }

  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  let bodyText: string;
  try {
    response = await fetch(url, {
      signal,
      redirect: "manual",
      headers: { accept: "application/json" },
    });
    bodyText = await response.text();
  } catch (error) {
    options.print(`unreachable: ${describeFetchFailure(error, url, timeoutMs)}`);
    return 2;
  }

  const body = parseReadinessBody(bodyText);
  if (!body) {
    const httpStatus = `HTTP ${response.status}${
      response.statusText ? ` ${response.statusText}` : ""
    }`;
    options.print(`unhealthy: ${httpStatus} without a readiness report from ${url.href}`);
    return 1;
  }

  const checks = Object.entries(body.checks).map(([name, value]) => describeCheck(name, value));
  if (response.ok && body.status === "ready") {
    const summary = checks.map((c) => c.text).join(", ");
    options.print(`healthy: ready${summary ? ` (${summary})` : ""}`);
    return 0;
  }
  const failing = checks.filter((c) => !c.ok).map((c) => c.text).join(", ");
  const status = clip(body.status);
  // A "ready" body with an error status is contradictory: show the status so it can be chased.
  const httpNote = body.status === "ready" ? ` [HTTP ${response.status}]` : "";
  options.print(`unhealthy: ${status}${failing ? ` (${failing})` : ""}${httpNote}`);
  return 1;
}

/**
 * The readiness URL for a `http.listen` value (`host:port`). Wildcard addresses are probed on
 * loopback: `0.0.0.0:8080` → `http://127.0.0.1:8080/readyz`, `[::]:8080` →
 * `http://[::1]:8080/readyz`.
 */
export function defaultHealthUrl(listen: string): string {
  const trimmed = listen.trim();
  const separator = trimmed.lastIndexOf(":");
  if (separator <= 0 || separator === trimmed.length - 1) {
    throw new Error(`http.listen must be host:port, got ${JSON.stringify(listen)}`);
  }
  const host = urlHost(reachableHost(trimmed.slice(0, separator)));
  const port = trimmed.slice(separator + 1);
  return `http://${host}:${port}${READINESS_PATH}`;
}

function parseReadinessBody(text: string): z.infer<typeof readinessBodySchema> | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = readinessBodySchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

function describeCheck(name: string, value: CheckValue): { ok: boolean; text: string } {
  if (typeof value === "boolean") {
    return value ? { ok: true, text: `${name} ok` } : { ok: false, text: `${name}: failed` };
  }
  if (typeof value === "string") {
    return isPassing(value)
      ? { ok: true, text: `${name} ok` }
      : { ok: false, text: `${name}: ${clip(value)}` };
  }
  const ok = value.ok ?? (value.status !== undefined && isPassing(value.status));
  if (ok) return { ok: true, text: `${name} ok` };
  const reason = value.message ?? value.detail ?? value.reason ?? value.error ?? value.status ??
    "failed";
  return { ok: false, text: `${name}: ${clip(reason)}` };
}

function isPassing(word: string): boolean {
  return PASSING_WORDS.has(word.trim().toLowerCase());
}

function describeFetchFailure(error: unknown, url: URL, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return `no answer from ${url.href} within ${timeoutMs} ms`;
  }
  const detail = errorText(error);
  if (/connection refused/i.test(detail)) {
    return `connection refused at ${url.href} (is dlbot running and listening there?)`;
  }
  if (/dns error|failed to lookup|name or service not known|nodename nor servname/i.test(detail)) {
    return `cannot resolve host ${url.hostname}`;
  }
  return `${clip(detail)} (${url.href})`;
}

function clip(text: string): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > MAX_REASON_LENGTH
    ? `${oneLine.slice(0, MAX_REASON_LENGTH - 1)}…`
    : oneLine;
}
