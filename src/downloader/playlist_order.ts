/**
 * The list order of a download's songs, from the playlist file spotDL writes at the end of a run
 * when asked (`--m3u <name>`, its `gen_m3u_files`): `#EXTINF:<seconds>,<album artist> - <title>`
 * lines, each followed by the song's path as the output template made it (relative to the
 * working directory, which is the job's directory). Only songs that have their file are listed.
 *
 * @module
 */

/** The name the bot gives spotDL's playlist file, in the job's directory. */
export const PLAYLIST_ORDER_FILE = "dlbot-order.m3u8";

/** One listed song. */
export interface ListedSong {
  /** 0-based place in the list. */
  position: number;
  /** "Artist - Title" from the `#EXTINF` line, when it had one. */
  title?: string;
  /** Spotify's duration of the song, when given. */
  durationSeconds?: number;
}

/**
 * The songs of `dir`'s playlist file by their path relative to `dir` (`/` between folders);
 * empty when there is none (a single track, another downloader, a run that stopped early).
 */
export async function readPlaylistOrder(dir: string): Promise<Map<string, ListedSong>> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${dir}/${PLAYLIST_ORDER_FILE}`);
  } catch {
    return new Map();
  }
  const songs = new Map<string, ListedSong>();
  let pending: Omit<ListedSong, "position"> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line === "#EXTM3U") continue;
    const info = /^#EXTINF:(-?\d+(?:\.\d+)?)?,(.*)$/.exec(line);
    if (info) {
      const seconds = Number(info[1]);
      pending = {
        ...(info[2]?.trim() ? { title: info[2].trim() } : {}),
        ...(Number.isFinite(seconds) && seconds > 0 ? { durationSeconds: seconds } : {}),
      };
      continue;
    }
    if (line.startsWith("#")) continue;
    const name = relativeTo(dir, line);
    if (name !== undefined && !songs.has(name)) {
      songs.set(name, { position: songs.size, ...pending });
    }
    pending = {};
  }
  return songs;
}

/** A listed path relative to `dir`; undefined when it points elsewhere. */
function relativeTo(dir: string, path: string): string | undefined {
  const root = dir.replace(/\/+$/, "");
  let name = path.replaceAll("\\", "/");
  if (name.startsWith("/")) {
    if (!name.startsWith(`${root}/`)) return undefined;
    name = name.slice(root.length + 1);
  }
  while (name.startsWith("./")) name = name.slice(2);
  return name.split("/").some((part) => part === "..") ? undefined : name;
}
