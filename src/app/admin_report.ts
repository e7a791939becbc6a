/**
 * What `/admin` shows the bot's admins: the queue, running downloads, a Spotify pause, the disk
 * of the data directory, recent failures and refusals.
 *
 * @module
 */
import { escapeHtml, formatBytes, formatUtcTime } from "../chat/format.ts";
import type { KvJobService } from "../jobs/kv_service.ts";
import type { Metrics } from "../metrics/metrics.ts";

/** What {@linkcode adminReport} reads. */
export interface AdminReportDeps {
  jobs: KvJobService;
  metrics: Metrics;
  dataDir: string;
  now: () => number;
  /** Free and total bytes of the data directory's disk. */
  disk: () => Promise<{ free: number; total: number } | undefined>;
}

/** The `/admin` text (Telegram HTML). */
export async function adminReport(deps: AdminReportDeps): Promise<string> {
  const now = deps.now();
  const requester = { userId: 0, isAdmin: true };
  const [queued, running, pause, disk, recent] = await Promise.all([
    deps.jobs.queueDepth(),
    deps.jobs.runningCount(),
    deps.jobs.spotifyPauseUntil(),
    deps.disk(),
    deps.jobs.list(requester, 50),
  ]);
  const failed = recent.filter((v) => v.job.state === "failed").slice(0, 5);
  const refusals = (await deps.metrics.rejected.get()).values
    .filter((v) => v.labels.reason === "unauthorized")
    .reduce((sum, v) => sum + v.value, 0);
  const lines = [
    "<b>dlbot status</b>",
    `Queue: ${queued} waiting · ${running} running`,
    pause === undefined
      ? "Spotify: no pause"
      : `Spotify: paused until ${formatUtcTime(pause, now)}`,
    disk === undefined
      ? "Disk: unknown"
      : `Disk: ${formatBytes(disk.free)} free of ${formatBytes(disk.total)}`,
    `Refusals to outsiders since start: ${refusals}`,
    "",
    failed.length === 0 ? "No recent failures." : "<b>Recent failures</b>",
    ...failed.map((v) =>
      `• <code>${v.job.id}</code> ${escapeHtml(v.job.error?.code ?? "failed")} — ` +
      `${formatUtcTime(v.job.finishedAt ?? v.job.updatedAt, now)}`
    ),
  ];
  return lines.join("\n");
}
