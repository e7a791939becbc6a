/**
 * The job side of the composition root: the job service, this instance's worker, and the chat
 * updater (plus the library drop) that reports their jobs.
 *
 * @module
 */
import type { Config } from "../config/schema.ts";
import type { AppLogger } from "../log/logger.ts";
import type { Downloader } from "../downloader/types.ts";
import { inspectOutput } from "../downloader/mod.ts";
import type { Covers } from "../downloader/cover.ts";
import { JobWorker } from "../jobs/worker.ts";
import { sharesSongs } from "../jobs/shared_download.ts";
import { TrackCache } from "../jobs/track_cache.ts";
import { KvJobService } from "../jobs/kv_service.ts";
import type { KvOutbox } from "../jobs/outbox.ts";
import type { LibraryDrop } from "../library/drop.ts";
import type { JobObserver, UploadedFiles } from "../jobs/service.ts";
import type { JobTimings } from "../jobs/store.ts";
import type { Job } from "../jobs/model.ts";
import type { ChatApi } from "../chat/chat_api.ts";
import type { FileLink } from "../chat/summary.ts";
import { ChatUpdater } from "../chat/updater.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { ServerProblems } from "../jobs/run.ts";
import type { ChatPace } from "./telegram.ts";

/** What {@linkcode wireJobs} connects. */
export interface JobWiring {
  kv: Deno.Kv;
  config: Config;
  timings: JobTimings;
  downloader: Downloader;
  api: ChatApi;
  fileLinks: (job: Job) => Promise<FileLink[]>;
  downloadsDir: string;
  metrics: Metrics;
  log: (area: string) => AppLogger;
  now: () => number;
  chatPace?: ChatPace;
  isDraining: () => boolean;
  problems: ServerProblems;
  hasSpace: () => Promise<{ ok: boolean; freeBytes?: number }>;
  /** This instance's id in leases and outbox claims. */
  instanceId: string;
  outbox: KvOutbox;
  /** Telegram's ids of uploaded files. */
  uploads: UploadedFiles;
  /** A worker's own public base URL, recorded with its jobs' files (`--role worker`). */
  servedFrom?: () => string;
  /** The songs' embedded covers, for thumbnails. */
  covers: Covers;
  /** Where finished tracks are also placed (`library.dir`), if anywhere. */
  library?: LibraryDrop;
}

/** The job service, this instance's worker, and the chat updater that reports their jobs. */
export function wireJobs(w: JobWiring) {
  const chatUpdater = new ChatUpdater({
    api: w.api,
    now: w.now,
    minEditIntervalMs: w.chatPace?.privateMs,
    groupMinEditIntervalMs: w.chatPace?.groupMs,
    fileLinks: w.fileLinks,
    uploadLimitBytes: w.config.telegram.upload_limit_mb * 1024 * 1024,
    openFile: (job, name) => Promise.resolve(`${w.downloadsDir}/${job.id}/${name}`),
    thumbnailOf: (job, name) => w.covers.thumbnail(`${w.downloadsDir}/${job.id}`, name),
    positionOf: (jobId): Promise<number | undefined> => jobs.positionOf(jobId),
    logger: w.log("chat"),
    outbox: w.outbox,
    uploads: w.uploads,
  });
  const worker = new JobWorker({
    kv: w.kv,
    config: w.config,
    timings: w.timings,
    downloader: w.downloader,
    ...(sharesSongs(w.config)
      ? {
        trackCache: new TrackCache({
          kv: w.kv,
          downloadsDir: w.downloadsDir,
          retentionMs: w.timings.retentionMs,
        }),
      }
      : {}),
    observer: w.library === undefined ? chatUpdater : withLibrary(chatUpdater, w.library),
    inspectOutput: (dir, options) => inspectOutput(dir, options),
    downloadsDir: w.downloadsDir,
    logger: w.log("jobs"),
    metrics: w.metrics.jobSink(),
    problems: w.problems,
    hasSpace: w.hasSpace,
    now: w.now,
    instanceId: w.instanceId,
    ...(w.servedFrom === undefined ? {} : { servedFrom: w.servedFrom }),
    undelivered: () => w.outbox.claimUndelivered(),
    deadOwners: w.outbox.deadOwners,
  });
  const jobs: KvJobService = new KvJobService({
    kv: w.kv,
    config: w.config,
    timings: w.timings,
    worker,
    now: w.now,
    isDraining: w.isDraining,
    hasSpace: w.hasSpace,
  });
  return { chatUpdater, worker, jobs };
}

/** The chat updater, and the library drop of every finished job (which never delays the chat). */
function withLibrary(chat: ChatUpdater, library: LibraryDrop): JobObserver {
  return {
    onUpdate: (job, position) => chat.onUpdate(job, position),
    onFinished(job) {
      void library.place(job);
      return chat.onFinished(job);
    },
  };
}
