/**
 * The bot's HTTP server: signed file downloads, `/healthz`, `/readyz`, `/metrics` and (in webhook
 * mode) the Telegram webhook. {@linkcode createHttpHandler} is the routing, testable without a
 * socket; {@linkcode startHttpServer} binds it with `Deno.serve`.
 *
 * | route | answer |
 * | --- | --- |
 * | `GET /healthz` | 200 `{"status":"ok","uptime_seconds":…,"version":…}` |
 * | `GET /readyz` | 200 or 503 `{"status":"ready"\|"not_ready","checks":{…}}` |
 * | `GET /metrics` | Prometheus text format |
 * | `GET\|HEAD /files/<jobId>/<name>?exp=…&sig=…` | the file (403 bad link, 410 expired, 404 missing) |
 * | `GET\|HEAD /jobs/<jobId>/<title>.zip\|.m3u8?exp=…&sig=…` | every file as one zip, or a playlist of links (`bundle.ts`; 410 once the files are gone) |
 * | `POST <webhook path>` | Telegram update, after the secret token header is checked (401) |
 *
 * @module
 */
import { join } from "node:path";
import type { Metrics } from "../metrics/metrics.ts";
import { VERSION } from "../version.ts";
import { resolveInside, serveFile } from "./file_response.ts";
import type { HealthChecks } from "./health.ts";
import { type LinkSigner, parseBundlePath, parseFileLinkPath } from "./signing.ts";
import { serveBundle } from "./bundle.ts";
import { constantTimeEqual, MAX_WEBHOOK_BODY_BYTES, readLimited } from "./webhook_body.ts";
import type { Log } from "../log/logger.ts";
import { errorText } from "../runtime/error_text.ts";

/** The logging the HTTP layer needs; a LogTape logger fits. */
export type HttpLogger = Log;

/** The Telegram webhook endpoint, present in webhook mode. */
export interface WebhookRoute {
  /** Exact request path, e.g. `/telegram/webhook`. */
  path: string;
  /** Expected value of the `X-Telegram-Bot-Api-Secret-Token` header. */
  secretToken: string;
  /** Handles an authenticated update request (e.g. grammY's `webhookCallback(bot, "std/http")`). */
  handle: (request: Request) => Promise<Response>;
}

/** What the handler is built from. */
export interface HttpHandlerDeps {
  signer: LinkSigner;
  /** Root of job outputs: files live in `<downloadsDir>/<jobId>/<name>`. */
  downloadsDir: string;
  /** The cover embedded in a job's song (`cover.jpg`), for its zip; absent: zips have none. */
  coverOf?: (jobDir: string, fileName: string) => Promise<string | undefined>;
  health: HealthChecks;
  metrics: Pick<Metrics, "httpRequests" | "render" | "contentType">;
  webhook?: WebhookRoute;
  logger?: HttpLogger;
}

/** Per-request context the server passes to the handler. */
export interface RequestContext {
  /** Aborted when the server stops waiting for responses in flight: long bodies end then. */
  shutdownSignal?: AbortSignal;
}

/** A request handler; the context is optional so tests can call it with a bare request. */
export type HttpHandler = (request: Request, context?: RequestContext) => Promise<Response>;

/** Bounded set of route labels for `dlbot_http_requests_total`. */
type RouteLabel =
  | "healthz"
  | "readyz"
  | "metrics"
  | "files"
  | "bundle"
  | "webhook"
  | "not_found";

const SILENT_LOGGER: HttpLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** Builds the request handler (routing, link verification, metrics). */
export function createHttpHandler(deps: HttpHandlerDeps): HttpHandler {
  const logger = deps.logger ?? SILENT_LOGGER;
  const secretBytes = deps.webhook ? new TextEncoder().encode(deps.webhook.secretToken) : undefined;

  function routeOf(path: string): RouteLabel {
    if (path === "/healthz") return "healthz";
    if (path === "/readyz") return "readyz";
    if (path === "/metrics") return "metrics";
    if (path.startsWith("/files/")) return "files";
    if (path.startsWith("/jobs/")) return "bundle";
    if (deps.webhook && path === deps.webhook.path) return "webhook";
    return "not_found";
  }

  async function dispatch(
    label: RouteLabel,
    request: Request,
    url: URL,
    context: RequestContext,
  ): Promise<Response> {
    const readOnly = request.method === "GET" || request.method === "HEAD";
    switch (label) {
      case "healthz":
        return readOnly ? healthz() : methodNotAllowed("GET, HEAD");
      case "readyz":
        return readOnly ? await readyz() : methodNotAllowed("GET, HEAD");
      case "metrics":
        return readOnly ? await metricsPage() : methodNotAllowed("GET, HEAD");
      case "files":
        return readOnly ? await file(request, url, context) : methodNotAllowed("GET, HEAD");
      case "bundle":
        return readOnly ? await bundle(request, url) : methodNotAllowed("GET, HEAD");
      case "webhook":
        return deps.webhook && request.method === "POST"
          ? await webhook(request, deps.webhook)
          : methodNotAllowed("POST");
      case "not_found":
        return text(404, "not found");
    }
  }

  function healthz(): Response {
    return json(200, {
      status: "ok",
      uptime_seconds: Math.floor(performance.now() / 1000),
      version: VERSION,
    });
  }

  async function readyz(): Promise<Response> {
    const { ready, checks } = await deps.health.readiness();
    return json(ready ? 200 : 503, { status: ready ? "ready" : "not_ready", checks });
  }

  async function metricsPage(): Promise<Response> {
    return new Response(await deps.metrics.render(), {
      headers: { "content-type": deps.metrics.contentType, "cache-control": "no-store" },
    });
  }

  async function file(request: Request, url: URL, context: RequestContext): Promise<Response> {
    const target = parseFileLinkPath(url.pathname);
    if (!target) return text(404, "not found");
    const verdict = await deps.signer.verify(
      target.canonicalPath,
      url.searchParams.get("exp"),
      url.searchParams.get("sig"),
    );
    if (verdict === "invalid") return text(403, "link invalid");
    if (verdict === "expired") return text(410, "link expired");
    const resolved = await resolveInside(deps.downloadsDir, target.jobId, target.fileName);
    if (resolved === undefined) return text(404, "not found");
    if (resolved === "outside") {
      logger.warn("refused to serve a file that resolves outside its job directory", {
        job_id: target.jobId,
        file_name: target.fileName,
      });
      return text(404, "not found");
    }
    return await serveFile(request, resolved, {
      downloadName: target.fileName.slice(target.fileName.lastIndexOf("/") + 1),
      signal: context.shutdownSignal,
    });
  }

  async function bundle(request: Request, url: URL): Promise<Response> {
    const target = parseBundlePath(url.pathname);
    if (!target) return text(404, "not found");
    const exp = url.searchParams.get("exp");
    const verdict = await deps.signer.verify(
      target.canonicalPath,
      exp,
      url.searchParams.get("sig"),
    );
    if (verdict === "invalid") return text(403, "link invalid");
    if (verdict === "expired") return text(410, "link expired");
    return await serveBundle({
      request,
      dir: join(deps.downloadsDir, target.jobId),
      jobId: target.jobId,
      kind: target.kind,
      fileName: target.fileName,
      expiresAt: Number(exp),
      signer: deps.signer,
      coverOf: deps.coverOf,
    });
  }

  async function webhook(request: Request, hook: WebhookRoute): Promise<Response> {
    const given = request.headers.get("x-telegram-bot-api-secret-token");
    if (given === null || !secretBytes || !constantTimeEqual(given, secretBytes)) {
      await request.body?.cancel();
      return text(401, "unauthorized");
    }
    const body = await readLimited(request, MAX_WEBHOOK_BODY_BYTES);
    if (body === undefined) return text(413, "update too large");
    try {
      JSON.parse(body);
    } catch {
      return text(400, "not JSON");
    }
    return await hook.handle(
      new Request(request.url, { method: "POST", headers: request.headers, body }),
    );
  }

  return async (request, context = {}) => {
    const url = new URL(request.url);
    const label = routeOf(url.pathname);
    let response: Response;
    try {
      response = await dispatch(label, request, url, context);
    } catch (error) {
      logger.error("HTTP request failed", {
        method: request.method,
        route: label,
        error: errorText(error),
      });
      response = text(500, "internal error");
    }
    deps.metrics.httpRequests.inc({ route: label, status: String(response.status) });
    logger.debug("HTTP request", { method: request.method, route: label, status: response.status });
    return response;
  };
}

function text(status: number, body: string): Response {
  return new Response(`${body}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
  });
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

function methodNotAllowed(allow: string): Response {
  const response = text(405, "method not allowed");
  response.headers.set("allow", allow);
  return response;
}

/** Options of {@linkcode startHttpServer}. */
export interface HttpServerOptions {
  /** `host:port` (IPv6 as `[::1]:8080`); port 0 picks a free port. */
  listen: string;
  handler: HttpHandler;
  /** Aborting it shuts the server down like {@linkcode RunningHttpServer.shutdown}. */
  signal?: AbortSignal;
  /** How long responses in flight (downloads) may continue after shutdown starts; default 5 s. */
  drainMs?: number;
  logger?: HttpLogger;
}

/** A listening server. */
export interface RunningHttpServer {
  /** Where it actually listens (the real port when 0 was asked for). */
  addr: { hostname: string; port: number };
  /** Settles when the server has stopped. */
  finished: Promise<void>;
  /**
   * Stops accepting connections, lets responses in flight finish for up to `drainMs`, then cuts
   * the rest short. Safe to call more than once.
   */
  shutdown(): Promise<void>;
}

/** Splits `host:port` / `[v6]:port`. */
export function parseListenAddress(listen: string): { hostname: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(listen);
  const port = Number(match?.[3]);
  if (!match || port > 65535) {
    throw new TypeError(`listen address must be host:port, e.g. 127.0.0.1:8080 (got "${listen}")`);
  }
  return { hostname: match[1] ?? match[2] ?? "", port };
}

/**
 * Binds the handler with `Deno.serve` (no console output).
 *
 * @throws {Error} when the address cannot be bound (e.g. the port is in use).
 */
export function startHttpServer(options: HttpServerOptions): RunningHttpServer {
  const { hostname, port } = parseListenAddress(options.listen);
  const logger = options.logger ?? SILENT_LOGGER;
  const drainMs = options.drainMs ?? 5_000;
  const cut = new AbortController();
  const context: RequestContext = { shutdownSignal: cut.signal };

  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname,
      port,
      onListen() {},
      onError(error) {
        logger.error("HTTP handler failed", {
          error: errorText(error),
        });
        return new Response("internal error\n", { status: 500 });
      },
    }, (request) => options.handler(request, context));
  } catch (error) {
    throw new Error(`cannot listen on ${options.listen}: ${(error as Error).message}`, {
      cause: error,
    });
  }

  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      const timer = setTimeout(() => cut.abort(), drainMs);
      try {
        await server.shutdown();
      } finally {
        clearTimeout(timer);
        cut.abort();
      }
    })();
    return stopping;
  };
  if (options.signal) {
    if (options.signal.aborted) void shutdown();
    else options.signal.addEventListener("abort", () => void shutdown(), { once: true });
  }

  return {
    addr: { hostname: server.addr.hostname, port: server.addr.port },
    finished: server.finished,
    shutdown,
  };
}
