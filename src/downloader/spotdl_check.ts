/**
 * What a spotDL install needs beyond its own executable: ffmpeg on the PATH it runs with (each run
 * has a HOME of its own, so an ffmpeg that `spotdl --download-ffmpeg` put into a HOME is not
 * found), and a version that still works with Spotify's API.
 *
 * @module
 */
import { resolveExecutable } from "./command.ts";

/**
 * The oldest spotDL known to work with Spotify's API after its February 2026 change (older
 * releases fail playlists with 403, spotDL issue #2621).
 */
export const KNOWN_GOOD_SPOTDL = "4.6.0";

/** Whether a command is spotDL itself (by its file name): only then are these checks made. */
export function isSpotdl(command: string): boolean {
  return command.slice(command.lastIndexOf("/") + 1) === "spotdl";
}

/** The ffmpeg spotDL will use: `--ffmpeg <path>` from the arguments, else `ffmpeg` on PATH. */
export async function findFfmpeg(
  args: readonly string[],
  pathEnv: string | undefined,
): Promise<string | null> {
  const flag = args.indexOf("--ffmpeg");
  const command = flag >= 0 ? args[flag + 1] ?? "ffmpeg" : "ffmpeg";
  return await resolveExecutable(command, pathEnv);
}

/** `spotdl --version` (bounded by `timeoutMs`): the version, or why it could not be read. */
export async function spotdlVersion(
  path: string,
  timeoutMs: number,
): Promise<{ version: string } | { error: string }> {
  try {
    const output = await new Deno.Command(path, {
      args: ["--version"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(timeoutMs),
    }).output();
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    const version = /\b(\d+\.\d+\.\d+)\b/.exec(text)?.[1];
    return version ? { version } : { error: "`spotdl --version` printed no version" };
  } catch (error) {
    return {
      error: error instanceof DOMException || (error as Error).name === "AbortError"
        ? `\`spotdl --version\` did not answer within ${timeoutMs / 1000} s`
        : `\`spotdl --version\` could not run: ${(error as Error).message}`,
    };
  }
}

/** Whether version `a` is older than `b` (dotted numbers). */
export function isOlder(a: string, b: string): boolean {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0;
  }
  return false;
}
