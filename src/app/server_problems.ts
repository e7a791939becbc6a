/**
 * The server's problems as the admins hear of them: a missing downloader at once, other
 * server-caused failures once three come within half an hour, a Spotify pause, a Telegram outage
 * longer than five minutes (told when it is over: during it no message gets through).
 *
 * @module
 */
import type { Job } from "../jobs/model.ts";
import type { ServerProblems } from "../jobs/run.ts";
import type { AdminAlerts } from "./admin_alerts.ts";

/** Failures within this window that make "failing repeatedly". */
const FAILURE_WINDOW_MS = 30 * 60_000;
const FAILURES_TO_ALERT = 3;
/** Outages at least this long are told. */
export const LONG_OUTAGE_SECONDS = 300;

/** {@linkcode ServerProblems} that tell the admins. */
export function adminProblems(alerts: AdminAlerts): {
  jobFailed(job: Job): Promise<void>;
  spotifyPaused(until: number): Promise<void>;
  outageEnded(seconds: number): Promise<void>;
  diskLow(freeBytes: number): Promise<void>;
  library(text: string): Promise<void>;
} & ServerProblems {
  const failures: number[] = [];
  return {
    async jobFailed(job: Job) {
      const error = job.error;
      if (error === undefined) return;
      if (error.code === "downloader_missing") {
        await alerts.alert(
          "downloader_missing",
          `the downloader cannot be started (${error.detail ?? "not found"}). ` +
            "Every download fails until it is fixed; `dlbot check-config` says what is wrong.",
        );
        return;
      }
      if (error.code === "disk_full") {
        await alerts.alert(
          "disk_low",
          "the downloads' disk filled up during a download; it was stopped and its files " +
            "removed. Free some space (lower jobs.retention_days), and set storage.min_free_mb " +
            "above the size of the largest download.",
        );
        return;
      }
      const now = Date.now();
      failures.push(now);
      while (failures.length > 0 && (failures[0] ?? now) < now - FAILURE_WINDOW_MS) {
        failures.shift();
      }
      if (failures.length >= FAILURES_TO_ALERT) {
        await alerts.alert(
          "downloader_failing",
          `${failures.length} downloads failed on the server's side within 30 minutes; the last ` +
            `one: ${error.code} (${(error.detail ?? error.userMessage).slice(0, 300)}). ` +
            "`journalctl -u dlbot -p warning` has them all.",
        );
      }
    },
    async spotifyPaused(until: number) {
      await alerts.alert(
        "spotify_pause",
        `Spotify asked for a long pause: every download waits until ${
          new Date(until).toISOString().slice(0, 16).replace("T", " ")
        } UTC and then continues by itself. Own Spotify API credentials for spotDL avoid the ` +
          "shared app's limits.",
      );
    },
    async diskLow(freeBytes: number) {
      await alerts.alert(
        "disk_low",
        `the downloads' disk has ${Math.floor(freeBytes / 1_000_000)} MB free, below ` +
          "storage.min_free_mb: new downloads are refused and queued ones wait until space is " +
          "freed (lower jobs.retention_days, or add space).",
      );
    },
    async library(text: string) {
      await alerts.alert("library", text);
    },
    async outageEnded(seconds: number) {
      if (seconds < LONG_OUTAGE_SECONDS) return;
      await alerts.alert(
        "telegram_outage",
        `Telegram was unreachable for ${Math.round(seconds / 60)} min; the bot is back.`,
      );
    },
  };
}
