/**
 * Audio duration via ffprobe (`ffprobe -v error -show_entries format=duration -of
 * default=nw=1:nk=1 <file>`).
 *
 * @module
 */

/** ffprobe gets this long per file before it is killed and the file counts as unmeasured. */
export const PROBE_TIMEOUT_MS = 30_000;

/**
 * Measures one file's duration in seconds. Returns `undefined` when ffprobe is missing, fails,
 * times out or prints something that is not a non-negative number. Never throws.
 */
export async function probeDuration(
  path: string,
  ffprobePath: string,
  timeoutMs: number = PROBE_TIMEOUT_MS,
): Promise<number | undefined> {
  // An absolute path cannot be mistaken for an ffprobe option, whatever the file is called.
  const target = path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(ffprobePath, {
      args: ["-v", "error", "-show_entries", "format=duration", "-of", "default=nw=1:nk=1", target],
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
    if (!status.success) return undefined;
    const text = stdout.trim();
    if (!/^\d+(?:\.\d+)?$/.test(text)) return undefined;
    const seconds = Number(text);
    return Number.isFinite(seconds) ? seconds : undefined;
  } finally {
    clearTimeout(timer);
  }
}
