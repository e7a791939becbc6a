/**
 * Audio duration and tags via ffprobe (`ffprobe -v error -show_entries format=duration -of
 * default=nw=1:nk=1 <file>`, and `format_tags` as JSON).
 *
 * @module
 */

/** ffprobe gets this long per file before it is killed and the file counts as unmeasured. */
export const PROBE_TIMEOUT_MS = 30_000;

/** Runs ffprobe on a file and returns its standard output; undefined on any failure. */
async function runProbe(
  path: string,
  ffprobePath: string,
  entries: string[],
  timeoutMs: number,
): Promise<string | undefined> {
  // An absolute path cannot be mistaken for an ffprobe option, whatever the file is called.
  const target = path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(ffprobePath, {
      args: ["-v", "error", ...entries, target],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
  } catch {
    return undefined;
  }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  }, timeoutMs);
  try {
    const [status, stdout] = await Promise.all([child.status, new Response(child.stdout).text()]);
    return status.success ? stdout : undefined;
  } finally {
    clearTimeout(timer);
  }
}

/** The tags of a file that name it in a library (lower-case keys); absent ones are missing. */
export interface AudioTags {
  title?: string;
  artist?: string;
  album_artist?: string;
  album?: string;
  track?: string;
}

/** Reads a file's tags with ffprobe; empty when it cannot. Never throws. */
export async function probeTags(
  path: string,
  ffprobePath: string,
  timeoutMs: number = PROBE_TIMEOUT_MS,
): Promise<AudioTags> {
  return (await probeFile(path, ffprobePath, timeoutMs)).tags;
}

/** A file's duration and tags in one ffprobe run; missing ones when it cannot. Never throws. */
export async function probeFile(
  path: string,
  ffprobePath: string,
  timeoutMs: number = PROBE_TIMEOUT_MS,
): Promise<{ durationSeconds?: number; tags: AudioTags }> {
  const out = await runProbe(path, ffprobePath, [
    "-show_entries",
    "format=duration:format_tags",
    "-of",
    "json",
  ], timeoutMs);
  let format: { duration?: unknown; tags?: Record<string, unknown> } = {};
  try {
    format = JSON.parse(out ?? "{}")?.format ?? {};
  } catch {
    return { tags: {} };
  }
  const seconds = Number(format.duration);
  return {
    ...(Number.isFinite(seconds) && seconds >= 0 ? { durationSeconds: seconds } : {}),
    tags: tagsOf(format.tags ?? {}),
  };
}

function tagsOf(tags: Record<string, unknown>): AudioTags {
  const found: AudioTags = {};
  for (const [key, value] of Object.entries(tags)) {
    const name = key.toLowerCase();
    if (typeof value !== "string" || value.trim() === "") continue;
    if (name === "title" || name === "artist" || name === "album" || name === "track") {
      found[name] = value.trim();
    } else if (name === "album_artist" || name === "albumartist") {
      found.album_artist = value.trim();
    }
  }
  return found;
}
