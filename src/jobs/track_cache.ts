/**
 * Songs shared across jobs, lists and users: each finished song is indexed by its Spotify track
 * id and audio settings, pointing at the job directory that holds its file. Before a run, the
 * songs of the new list that are indexed are hard-linked into its directory under the same name,
 * so spotDL skips them ("file already exists") and downloads only the others; after the run the
 * index points at the new job, so a song stays available as long as anyone keeps using it.
 *
 * Which file is which song comes from spotDL itself: the saved list (`.spotdl`, in list order)
 * and its playlist file (`--m3u`, the songs that got a file, in the same order); songs named by
 * `--print-errors` got none. When those do not add up, nothing of that run is indexed.
 *
 * @module
 */
import { linkOrCopy } from "../downloader/output_files.ts";
import type { ListedSong } from "../downloader/playlist_order.ts";
import type { SavedSong } from "../downloader/saved_list.ts";
import { trackCacheKey } from "../kv/keys.ts";
import { z } from "zod";
import { jobOutputDir } from "./files.ts";
import type { JobAudio } from "./model.ts";

/** Where a song's file is: a job's directory and the file's path in it. */
const entrySchema = z.object({
  job: z.string().min(1),
  file: z.string().min(1).refine(
    (file) => !file.startsWith("/") && !file.split("/").includes(".."),
    "a path inside the job's directory",
  ),
});

/** KV's limit of keys in one `getMany`. */
const GET_MANY_LIMIT = 10;
/** Mutations per atomic write, well inside KV's limits. */
const WRITE_BATCH = 100;

/** What the cache needs. */
export interface TrackCacheDeps {
  kv: Deno.Kv;
  downloadsDir: string;
  /** How long an entry lives without a new use: the jobs' retention. */
  retentionMs: number;
}

/** The index of finished songs (see the module documentation). */
export class TrackCache {
  readonly #deps: TrackCacheDeps;

  constructor(deps: TrackCacheDeps) {
    this.#deps = deps;
  }

  /**
   * Links the indexed songs of `songs` into `dir` under their names; returns the names placed
   * (a song whose file is gone, or whose name is taken in `dir`, is left to the downloader).
   */
  async place(audio: JobAudio, songs: readonly SavedSong[], dir: string): Promise<string[]> {
    const placed: string[] = [];
    for (let i = 0; i < songs.length; i += GET_MANY_LIMIT) {
      const batch = songs.slice(i, i + GET_MANY_LIMIT);
      const entries = await this.#deps.kv.getMany(
        batch.map((song) => trackCacheKey(audioKey(audio), song.song_id)),
      );
      for (const entry of entries) {
        const found = entrySchema.safeParse(entry.value);
        if (!found.success || placed.includes(found.data.file)) continue;
        const { job, file } = found.data;
        if (await placeFile(`${jobOutputDir(this.#deps.downloadsDir, job)}/${file}`, dir, file)) {
          placed.push(file);
        }
      }
    }
    return placed;
  }

  /**
   * Indexes the songs of a finished run of `jobId` whose playlist file listed `order` (see the
   * module documentation); returns each indexed file's song key (`songKeyOf`), by file name.
   */
  async record(
    jobId: string,
    audio: JobAudio,
    songs: readonly SavedSong[],
    failedUrls: ReadonlySet<string>,
    order: ReadonlyMap<string, ListedSong>,
  ): Promise<Map<string, string>> {
    const listed = [...order.entries()]
      .sort(([, a], [, b]) => a.position - b.position)
      .map(([file]) => file);
    const got = songs.filter((song) => !failedUrls.has(song.url));
    if (got.length !== listed.length) return new Map();
    const expireIn = this.#deps.retentionMs;
    for (let i = 0; i < got.length; i += WRITE_BATCH) {
      const atomic = this.#deps.kv.atomic();
      got.slice(i, i + WRITE_BATCH).forEach((song, j) => {
        const entry = { job: jobId, file: listed[i + j] };
        atomic.set(trackCacheKey(audioKey(audio), song.song_id), entry, { expireIn });
      });
      await atomic.commit();
    }
    return new Map(got.map((song, i) => [listed[i] ?? "", songKeyOf(audio, song.song_id)]));
  }
}

/**
 * Removes the placed songs of `dir` the downloader did not take as its own (their names differ
 * now): those its playlist file (`order`) does not list.
 */
export async function dropUnused(
  dir: string,
  placed: readonly string[],
  order: ReadonlyMap<string, ListedSong>,
): Promise<void> {
  if (order.size === 0) return;
  for (const file of placed) {
    if (!order.has(file)) await Deno.remove(`${dir}/${file}`).catch(() => {});
  }
}

/** The Spotify track id of a track link (`https://open.spotify.com/track/<id>`). */
export function trackIdOf(url: string): string | undefined {
  return /\/track\/([A-Za-z0-9]+)$/.exec(new URL(url).pathname)?.[1];
}

function audioKey(audio: JobAudio): string {
  return `${audio.format}/${audio.bitrate}`;
}

/** A song across jobs: its Spotify track id in one format and bitrate (`JobFile.songKey`). */
export function songKeyOf(audio: JobAudio, trackId: string): string {
  return `${audioKey(audio)}/${trackId}`;
}

async function placeFile(source: string, dir: string, file: string): Promise<boolean> {
  const target = `${dir}/${file}`;
  try {
    await Deno.lstat(target);
    return false;
  } catch {
    // Free: place it.
  }
  try {
    await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
    await linkOrCopy(source, target);
    return true;
  } catch {
    return false;
  }
}
