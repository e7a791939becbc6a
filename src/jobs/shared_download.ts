/**
 * A download that re-uses the songs any earlier job already has (`track_cache.ts`): a list is
 * first saved (spotDL's `save`: its songs, nothing downloaded), the songs already indexed are
 * linked into the job's directory, and the saved list is then downloaded, which skips them. A
 * single track needs no saving: its id is in the link.
 *
 * @module
 */
import { resolve as resolvePath } from "node:path";
import type { Config } from "../config/schema.ts";
import { readSavedList, SAVED_LIST_FILE, type SavedSong } from "../downloader/saved_list.ts";
import type { Downloader, DownloadOutcome, DownloadRequest } from "../downloader/types.ts";
import type { Log } from "../log/logger.ts";
import { errorText } from "../runtime/error_text.ts";
import type { Job, JobAudio } from "./model.ts";
import { readPlaylistOrder } from "../downloader/playlist_order.ts";
import { dropUnused, type TrackCache, trackIdOf } from "./track_cache.ts";

/** What a shared download needs. */
export interface SharedDownloadDeps {
  config: Config;
  downloader: Downloader;
  /** Absent: songs are not shared (turned off, or the downloader's names depend on the list). */
  trackCache?: TrackCache;
  logger: Log;
}

/** The songs of a job and the query that downloads exactly them. */
interface Plan {
  songs: SavedSong[];
  query: string;
}

/** What a shared download tells its job. */
export interface SharedDownloadHooks {
  /** This many songs were already there before the download. */
  reused(songs: number): void;
  /** The song key (`JobFile.songKey`) of each file, by name, once the download succeeded. */
  identified(songKeys: Map<string, string>): void;
}

/**
 * Runs `job`'s download through the track cache (see the module documentation). Without a
 * cache, or a downloader that can save a list, a plain run.
 */
export async function downloadSharingSongs(
  deps: SharedDownloadDeps,
  job: Job,
  request: DownloadRequest,
  hooks: SharedDownloadHooks,
): Promise<DownloadOutcome> {
  const cache = deps.trackCache;
  if (cache === undefined) return await deps.downloader.run(request);
  const plan = await planOf(deps, job, request);
  if (plan === undefined) return await deps.downloader.run(request);
  if ("kind" in plan) return plan;
  const audio = audioOf(deps.config, job);
  const dir = request.outputDir;
  const placed = await cache.place(audio, plan.songs, dir);
  if (placed.length > 0) {
    deps.logger.info("re-using songs earlier downloads have", {
      job_id: job.id,
      songs: placed.length,
    });
    hooks.reused(placed.length);
  }
  const failed = new Set<string>();
  const outcome = await deps.downloader.run({
    ...request,
    url: plan.query,
    onEvent(event) {
      if (event.type === "song_error") failed.add(event.songUrl);
      request.onEvent(event);
    },
  });
  if (outcome.kind !== "exited" || outcome.exitCode !== 0) return outcome;
  try {
    // spotDL's playlist file says which files it took as the songs: read once for both.
    const order = await readPlaylistOrder(dir);
    await dropUnused(dir, placed, order);
    hooks.identified(await cache.record(job.id, audio, plan.songs, failed, order));
  } catch (error) {
    deps.logger.warn("could not index a job's songs for re-use", {
      job_id: job.id,
      error: errorText(error),
    });
  }
  return outcome;
}

/** The plan; a failed save's outcome; undefined when the songs cannot be known first. */
async function planOf(
  deps: SharedDownloadDeps,
  job: Job,
  request: DownloadRequest,
): Promise<Plan | DownloadOutcome | undefined> {
  if (job.kind === "track") {
    const id = trackIdOf(job.url);
    return id === undefined
      ? undefined
      : { songs: [{ song_id: id, url: job.url }], query: job.url };
  }
  const saved = await deps.downloader.saveList?.(request);
  if (saved === undefined || saved === null) return undefined;
  if (saved.kind !== "exited" || saved.exitCode !== 0) return saved;
  const file = `${resolvePath(request.outputDir)}/${SAVED_LIST_FILE}`;
  try {
    return { songs: await readSavedList(file), query: file };
  } catch (error) {
    deps.logger.warn("could not read the saved list; downloading it without re-use", {
      job_id: job.id,
      error: errorText(error),
    });
    return undefined;
  }
}

/** The audio `job` downloads: its own settings, or the configured defaults. */
function audioOf(config: Config, job: Job): JobAudio {
  return job.audio ??
    { format: config.downloader.audio_format, bitrate: config.downloader.bitrate };
}

/**
 * Whether songs can be shared with this configuration: spotDL's output, switched on, and file
 * names that do not depend on the list (`{list-name}`, `{list-position}` …).
 */
export function sharesSongs(config: Config): boolean {
  const { downloader } = config;
  return downloader.share_songs && downloader.output_format === "spotdl" &&
    !downloader.args.some((arg) => arg.includes("{list-"));
}
