/**
 * The bot's HTTP server as the composition root wires it: signed file links and bundles (with
 * the songs' covers), health, metrics and the webhook.
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import type { Covers } from "../downloader/cover.ts";
import type { Downloader } from "../downloader/types.ts";
import { createHealthChecks } from "../http/health.ts";
import { createHttpHandler, startHttpServer } from "../http/server.ts";
import type { LinkSigner } from "../http/signing.ts";
import type { AppLogger } from "../log/logger.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { webhookRoute } from "./telegram.ts";

/** What {@linkcode serveHttp} serves. */
export interface HttpWiring {
  kv: Deno.Kv;
  config: Config;
  signer: LinkSigner;
  downloadsDir: string;
  covers: Covers;
  metrics: Metrics;
  webhook: ReturnType<typeof webhookRoute>;
  lastTelegramSuccessAt: () => number | undefined;
  downloader: Downloader;
  diskCheck: () => Promise<{ ok: boolean; message?: string }>;
  now: () => number;
  logger: AppLogger;
}

/** Starts the HTTP server: file links, health, metrics and the webhook. */
export function serveHttp(w: HttpWiring) {
  return startHttpServer({
    listen: w.config.http.listen,
    handler: createHttpHandler({
      signer: w.signer,
      downloadsDir: w.downloadsDir,
      coverOf: (dir, name) => w.covers.cover(dir, name),
      health: createHealthChecks({
        kv: w.kv,
        telegram: { lastSuccessAt: w.lastTelegramSuccessAt },
        downloaderCheck: async () => {
          const check = await w.downloader.check();
          return check.ok
            ? { ok: true }
            : { ok: false, message: `${check.message}; ${check.hint}` };
        },
        diskCheck: w.diskCheck,
        now: w.now,
      }),
      metrics: w.metrics,
      webhook: w.webhook,
      logger: w.logger,
    }),
  });
}
