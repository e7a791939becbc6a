/**
 * What a download left in its directory: the audio files (for the job result) and the partial
 * files to clean up after a cancel or timeout.
 *
 * @module
 */
import { envPath, resolveExecutable } from "./command.ts";
import { pooledMap } from "../runtime/pooled_map.ts";
import { probeFile } from "./ffprobe.ts";
import { readPlaylistOrder } from "./playlist_order.ts";

/** File extensions counted as results (compared case-insensitively). */
export const AUDIO_EXTENSIONS: readonly string[] = ["mp3", "flac", "ogg", "opus", "m4a", "wav"];

/** Suffixes of unfinished files left by yt-dlp, ffmpeg and spotDL. */
export const PARTIAL_SUFFIXES: readonly string[] = [".part", ".temp", ".tmp", ".ytdl"];

/** One audio file a download produced. */
export interface OutputFile {
  /** Relative to the job's directory, with `/` between folders. */
  name: string;
  size: number;
  /** Measured by ffprobe when it could, otherwise Spotify's as the downloader listed it. */
  durationSeconds?: number;
  /** "Artist - Title" as the downloader listed it. */
  title?: string;
}

/** Options for {@linkcode inspectOutput}. */
export interface InspectOptions {
  /**
   * ffprobe executable for durations. `undefined`: look up `ffprobe` on PATH; `null`: do not
   * measure durations.
   */
  ffprobe?: string | null;
  /**
   * Whether files the downloader's list already times and names are measured too (default
   * true): their tags name the performer best (the list says the album artist), but for a list
   * that is sent as links only, 150 ffprobe runs (0.1 s of CPU each) buy nothing.
   */
  measureListed?: boolean;
}

/** The audio files a job produced. */
export interface OutputSummary {
  /**
   * In list order when the downloader wrote its playlist file (`playlist_order.ts`), files it
   * did not list after them; otherwise sorted by name. Names are relative to the directory, with
   * `/` between folders.
   */
  files: OutputFile[];
  totalBytes: number;
  /** Sum of durations, present only when every file has one (and there is at least one). */
  totalDurationSeconds?: number;
}

interface FoundFile {
  name: string;
  path: string;
  size: number;
  /** Last written, epoch ms (0 when unknown). */
  mtime: number;
}

/** An audio file on disk, as {@linkcode listOutputFiles} finds it. */
export interface ListedFile extends OutputFile {
  /** Absolute path. */
  path: string;
}

/**
 * The audio files under `dir` as they are on disk now, in list order (see
 * {@linkcode OutputSummary.files}), with the downloader's titles and durations; nothing measured.
 */
export async function listOutputFiles(dir: string): Promise<ListedFile[]> {
  const found: FoundFile[] = [];
  for await (const file of walkFiles(dir, "")) {
    if (isAudioFile(file.name)) found.push(file);
  }
  found.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const listed = await readPlaylistOrder(dir);
  const place = (name: string) => listed.get(name)?.position ?? Number.POSITIVE_INFINITY;
  found.sort((a, b) => place(a.name) - place(b.name) || 0);
  return found.map((file) => {
    const song = listed.get(file.name);
    return {
      name: file.name,
      path: file.path,
      size: file.size,
      ...(song?.title === undefined ? {} : { title: song.title }),
      ...(song?.durationSeconds === undefined ? {} : { durationSeconds: song.durationSeconds }),
    };
  });
}

/** What ffprobe told of a file. */
type Probed = Awaited<ReturnType<typeof probeFile>>;

/** ffprobe runs at once while inspecting a finished download. */
const PROBES_AT_ONCE = 8;

/**
 * Lists the audio files under `dir` (recursively, since an output template may create folders),
 * ignoring hidden entries, symbolic links and unfinished files (`.part`, `.temp`, `.tmp`, `.ytdl`).
 * Measures them with ffprobe when available (see {@linkcode InspectOptions.measureListed}).
 */
export async function inspectOutput(
  dir: string,
  options: InspectOptions = {},
): Promise<OutputSummary> {
  const found = await listOutputFiles(dir);
  const ffprobe = options.ffprobe === undefined
    ? await resolveExecutable("ffprobe", envPath())
    : options.ffprobe;

  const files: OutputFile[] = [];
  let totalBytes = 0;
  let totalDuration = 0;
  let allMeasured = found.length > 0;
  const listed = (file: ListedFile) =>
    file.durationSeconds !== undefined && file.title !== undefined;
  const skip = (file: ListedFile) => options.measureListed === false && listed(file);
  // A few at a time: a 150-song list is 150 ffprobe runs.
  const probes = await pooledMap(
    found,
    PROBES_AT_ONCE,
    (file): Promise<Probed> =>
      ffprobe === null || skip(file)
        ? Promise.resolve({ tags: {} })
        : probeFile(file.path, ffprobe),
  );
  for (const [i, file] of found.entries()) {
    totalBytes += file.size;
    const probed: Probed = probes[i] ?? { tags: {} };
    const duration = probed.durationSeconds ?? file.durationSeconds;
    // The file's own tags name it best; the downloader's list otherwise.
    const tagged = probed.tags.artist && probed.tags.title
      ? `${probed.tags.artist} - ${probed.tags.title}`
      : undefined;
    const name = tagged ?? file.title;
    const title = name === undefined ? {} : { title: name };
    if (duration === undefined) {
      allMeasured = false;
      files.push({ name: file.name, size: file.size, ...title });
    } else {
      totalDuration += duration;
      files.push({ name: file.name, size: file.size, durationSeconds: duration, ...title });
    }
  }
  return {
    files,
    totalBytes,
    ...(allMeasured ? { totalDurationSeconds: totalDuration } : {}),
  };
}

/**
 * Deletes unfinished files (`.part`, `.temp`, `.tmp`, `.ytdl`) under `dir`, recursively; finished
 * songs stay. Returns the relative names removed. A missing directory is not an error.
 */
export async function removePartialFiles(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for await (const file of walkFiles(dir, "", true)) {
    if (!isPartialFile(file.name)) continue;
    try {
      await Deno.remove(file.path);
      removed.push(file.name);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return removed;
}

/**
 * Prepares the directory of a run that continues an earlier one: songs last written before
 * `completeBefore` (epoch ms) are complete and stay (the downloader skips them); anything written
 * later may have been cut off and goes, and so do unfinished and hidden files. Returns how many
 * songs were kept.
 */
export async function keepCompleteSongs(dir: string, completeBefore: number): Promise<number> {
  let kept = 0;
  for await (const file of walkFiles(dir, "", true)) {
    if (isAudioFile(file.name) && file.mtime > 0 && file.mtime <= completeBefore) {
      kept++;
      continue;
    }
    try {
      await Deno.remove(file.path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return kept;
}

function isAudioFile(name: string): boolean {
  const base = name.slice(name.lastIndexOf("/") + 1);
  if (base.startsWith(".") || isPartialFile(name)) return false;
  const dot = base.lastIndexOf(".");
  return dot > 0 && AUDIO_EXTENSIONS.includes(base.slice(dot + 1).toLowerCase());
}

function isPartialFile(name: string): boolean {
  const lower = name.toLowerCase();
  return PARTIAL_SUFFIXES.some((suffix) => lower.endsWith(suffix));
}

async function* walkFiles(
  dir: string,
  prefix: string,
  includeHidden = false,
): AsyncGenerator<FoundFile> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  for (const entry of entries) {
    if (entry.isSymlink) continue;
    if (!includeHidden && entry.name.startsWith(".")) continue;
    const path = `${dir}/${entry.name}`;
    const name = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory) {
      yield* walkFiles(path, name, includeHidden);
    } else if (entry.isFile) {
      const info = await Deno.stat(path).catch(() => null);
      if (info) yield { name, path, size: info.size, mtime: info.mtime?.getTime() ?? 0 };
    }
  }
}

/**
 * Links the songs of an earlier download (`fromDir`) into a new job's directory under the same
 * names (hard links; copies across file systems), so the downloader finds them there and skips
 * them. Returns how many songs were placed; a missing `fromDir` places none.
 */
export async function linkSongs(fromDir: string, toDir: string): Promise<number> {
  let placed = 0;
  let files: ListedFile[];
  try {
    files = await listOutputFiles(fromDir);
  } catch {
    return 0;
  }
  for (const file of files) {
    const target = `${toDir}/${file.name}`;
    const folder = target.slice(0, target.lastIndexOf("/"));
    await Deno.mkdir(folder, { recursive: true });
    try {
      await linkOrCopy(file.path, target);
      placed++;
    } catch {
      // That song is downloaded again.
    }
  }
  return placed;
}

/** A hard link of `source` at `target`, or a copy where no link can be made (another disk). */
export async function linkOrCopy(source: string, target: string): Promise<void> {
  try {
    await Deno.link(source, target);
  } catch {
    await Deno.copyFile(source, target);
  }
}
