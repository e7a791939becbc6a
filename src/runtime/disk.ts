/**
 * Free space of the file system holding a directory, from `df` (Deno has no statfs).
 *
 * @module
 */

/** Free and total bytes where `dir` lives; undefined when `df` cannot tell. */
export async function diskSpace(dir: string): Promise<{ free: number; total: number } | undefined> {
  try {
    const out = await new Deno.Command("df", {
      args: ["-Pk", dir],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
      signal: AbortSignal.timeout(5_000),
    }).output();
    const fields = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)?.split(/\s+/);
    const total = Number(fields?.[1]) * 1024;
    const free = Number(fields?.[3]) * 1024;
    return out.success && Number.isFinite(total) && Number.isFinite(free)
      ? { free, total }
      : undefined;
  } catch {
    return undefined;
  }
}
