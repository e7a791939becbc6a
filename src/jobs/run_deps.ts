/**
 * What one job's run needs (`run.ts`): the store, the downloader, the observer and the rest the
 * worker passes through.
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import type { Downloader } from "../downloader/types.ts";
import type { Log } from "../log/logger.ts";
import type { JobMetricsSink } from "../metrics/metrics.ts";
import type { Job, JobFile } from "./model.ts";
import type { JobObserver } from "./service.ts";
import type { JobTimings } from "./store.ts";
import type { TrackCache } from "./track_cache.ts";

/** What a job's output directory holds, as measured after a successful run. */
export interface InspectedOutput {
  files: JobFile[];
  totalBytes: number;
  totalDurationSeconds?: number;
}

/** Where the server's own problems go (the app tells the admins). */
export interface ServerProblems {
  /** A job failed for a reason of the server (see `isServerFailure`). */
  jobFailed(job: Job): void;
  /** Spotify paused every job until then (epoch ms). */
  spotifyPaused(until: number): void;
}

/** What a run needs; the worker passes its own dependencies through. */
export interface RunDeps {
  kv: Deno.Kv;
  config: Config;
  /** Retention, dedupe and lease windows (`jobTimings(config)`, computed once by the caller). */
  timings: JobTimings;
  downloader: Downloader;
  /** Songs earlier jobs have, to re-use; absent when songs are not shared. */
  trackCache?: TrackCache;
  /** Told of every change; the worker guards it, so its calls never throw. */
  observer: JobObserver;
  /** Lists and measures the files in a finished job's directory. */
  inspectOutput: (dir: string, options: { measureListed: boolean }) => Promise<InspectedOutput>;
  /** Each job writes into `<downloadsDir>/<jobId>`. */
  downloadsDir: string;
  logger: Log;
  metrics?: JobMetricsSink;
  problems?: ServerProblems;
  now: () => number;
  /** This instance's id, as written in leases. */
  instanceId: string;
  /**
   * This worker's public base URL, recorded with a finished job's files (`JobResult.servedFrom`)
   * when another process answers the chat; absent: links use the answering process's own.
   */
  servedFrom?: () => string;
  /** The run stopped downloading (it may still be telling the chat). */
  onDownloadDone(): void;
}
