/**
 * Restart safety and retention: running jobs whose worker died are re-queued (or failed once their
 * attempts are used up), and output directories of deleted, expired, failed or cancelled jobs are
 * removed (files do not expire with their KV records).
 *
 * @module
 */
import { resolve as resolvePath } from "node:path";
import type { Config } from "../config/schema.ts";
import { killStrays, markedProcesses } from "../downloader/strays.ts";
import { leaseKey, runningKey, runningPrefix } from "../kv/keys.ts";
import type { Log } from "../log/logger.ts";
import { CANCELLED_ERROR, INTERRUPTED_ERROR } from "./errors.ts";
import { removeJobFiles } from "./files.ts";
import { isJobId } from "./ids.ts";
import { isFinal, type Job } from "./model.ts";
import { guardedObserver } from "./observer.ts";
import { requeue } from "./queue.ts";
import type { JobObserver } from "./service.ts";
import {
  commitFinal,
  isExpired,
  isLeaseLive,
  type JobTimings,
  type Lease,
  parseJobIdValue,
  parseLease,
  readJob,
} from "./store.ts";

/** Dependencies of {@linkcode recoverInterrupted}. */
export interface RecoveryDeps {
  kv: Deno.Kv;
  config: Config;
  timings: JobTimings;
  observer: JobObserver;
  logger: Log;
  downloadsDir: string;
  now: number;
  /** This instance's id: it tells the chat about the jobs it fails or cancels. */
  owner: string;
  /**
   * Whether a live lease belongs to a worker known to be gone (e.g. this instance's own id from
   * before a restart). Such leases are treated as expired.
   */
  isDeadOwner?: (lease: Lease) => boolean;
}

/** What one recovery pass did, by job id. */
export interface RecoveryReport {
  requeued: string[];
  failed: string[];
  cancelled: string[];
}

/**
 * Finds running jobs without a live lease (their worker crashed or was killed) and puts them back
 * at the front of the queue when `jobs.max_attempts` allows another attempt; otherwise fails them
 * with `interrupted` and tells the observer. A job whose cancel was requested is cancelled instead.
 * Safe to run from several instances at once: every change is check-and-set.
 */
export async function recoverInterrupted(deps: RecoveryDeps): Promise<RecoveryReport> {
  const { kv, now } = deps;
  const observer = guardedObserver(deps.observer, deps.logger);
  const report: RecoveryReport = { requeued: [], failed: [], cancelled: [] };
  const ids: { id: string; versionstamp: string; key: Deno.KvKey }[] = [];
  for await (const entry of kv.list({ prefix: runningPrefix() })) {
    const id = parseJobIdValue(entry.value);
    if (id === undefined) {
      await kv.atomic().check(entry).delete(entry.key).commit();
      continue;
    }
    ids.push({ id, versionstamp: entry.versionstamp, key: entry.key });
  }
  for (const marker of ids) {
    const entry = await readJob(kv, marker.id);
    if (entry === null || entry.job.state !== "running") {
      await kv.atomic().check(marker).delete(runningKey(marker.id)).commit();
      continue;
    }
    const leaseEntry = await kv.get(leaseKey(marker.id));
    const lease = parseLease(leaseEntry);
    if (isLeaseLive(lease, now) && !(deps.isDeadOwner?.(lease) ?? false)) continue;
    const job = entry.job;
    const props = { job_id: job.id, attempts: job.attempts, lease_owner: lease?.owner };
    if (job.cancelRequested || job.attempts >= deps.config.jobs.max_attempts) {
      const cancelled = job.cancelRequested;
      const final: Job = {
        ...job,
        state: cancelled ? "cancelled" : "failed",
        updatedAt: now,
        finishedAt: now,
        error: cancelled ? CANCELLED_ERROR : INTERRUPTED_ERROR,
      };
      const ok = await commitFinal(kv, {
        entry,
        final,
        leaseVersionstamp: leaseEntry.versionstamp,
        deliverer: deps.owner,
        now,
        timings: deps.timings,
      });
      if (!ok) continue;
      (cancelled ? report.cancelled : report.failed).push(job.id);
      deps.logger.warn(
        cancelled ? "cancelled a job whose worker stopped" : "failed a job interrupted too often",
        props,
      );
      await removeJobFiles(deps.downloadsDir, job.id, deps.logger);
      await observer.onFinished(final);
      continue;
    }
    const queued = await requeue(kv, entry, leaseEntry.versionstamp, now, {
      filesCompleteBefore: job.progress.lastSongAt,
    });
    if (queued === undefined) continue;
    report.requeued.push(job.id);
    deps.logger.info("re-queued an interrupted job", props);
    observer.onUpdate(queued);
  }
  return report;
}

/** Dependencies of {@linkcode sweepOutputs}. */
export interface SweepDeps {
  kv: Deno.Kv;
  downloadsDir: string;
  now: number;
  retentionMs: number;
  logger: Log;
}

/**
 * Removes output directories that should no longer exist: of jobs that are gone from KV, past
 * retention, failed or cancelled. Only directories named like job ids are touched. Returns the ids
 * whose directories were removed.
 */
export async function sweepOutputs(deps: SweepDeps): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  const homes: string[] = [];
  try {
    names = [];
    for await (const item of Deno.readDir(deps.downloadsDir)) {
      if (!item.isDirectory) continue;
      if (isJobId(item.name)) names.push(item.name);
      else if (item.name.endsWith(".home") && isJobId(item.name.slice(0, -5))) {
        homes.push(item.name.slice(0, -5));
      }
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return removed;
    throw error;
  }
  for (const id of names) {
    const entry = await readJob(deps.kv, id);
    const job = entry?.job;
    const stale = job === undefined ||
      (isFinal(job.state) &&
        (job.state !== "succeeded" || isExpired(job, deps.now, deps.retentionMs)));
    if (!stale) continue;
    if (await removeJobFiles(deps.downloadsDir, id, deps.logger)) removed.push(id);
  }
  // A run's own HOME is removed when the run ends; one left by a crash goes once the job is
  // not running.
  for (const id of homes) {
    if ((await readJob(deps.kv, id))?.job.state === "running") continue;
    await Deno.remove(`${deps.downloadsDir.replace(/\/+$/, "")}/${id}.home`, { recursive: true })
      .catch(() => {});
  }
  if (removed.length > 0) {
    deps.logger.info("removed old download directories", { count: removed.length });
  }
  return removed;
}

/** Dependencies of {@linkcode killAbandonedDownloads}. */
export interface AbandonedDeps {
  kv: Deno.Kv;
  downloadsDir: string;
  now: number;
  logger: Log;
  /** Whether a job runs in this instance (its processes are its own). */
  runsHere: (jobId: string) => boolean;
}

/**
 * Kills downloader processes of this data directory that no live run owns: left by a bot that
 * was killed (kill -9) while they ran, they would otherwise keep going and write into the
 * directory of the job's next attempt. A process whose job holds a live lease elsewhere stays.
 */
export async function killAbandonedDownloads(deps: AbandonedDeps): Promise<number[]> {
  const root = `${resolvePath(deps.downloadsDir)}/`;
  const candidates = (await markedProcesses()).filter((p) => p.marker.startsWith(root));
  const abandoned = new Set<string>();
  for (const { marker } of candidates) {
    const jobId = marker.slice(root.length);
    if (!isJobId(jobId) || deps.runsHere(jobId)) continue;
    const lease = parseLease(await deps.kv.get(leaseKey(jobId)));
    if (!isLeaseLive(lease, deps.now)) abandoned.add(marker);
  }
  if (abandoned.size === 0) return [];
  const killed = await killStrays((marker) => abandoned.has(marker));
  if (killed.length > 0) {
    deps.logger.warn("killed downloader processes left by an earlier run of the bot", {
      pids: killed,
    });
  }
  return killed;
}
