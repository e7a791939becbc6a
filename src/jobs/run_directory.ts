/**
 * The directory a run downloads into: fresh, or for a job that continues an earlier attempt that
 * attempt's complete songs kept (the rest removed); a fresh one starts with the songs of the
 * latest earlier download of the same link in the same settings, by anyone, hard-linked. The
 * downloader skips songs it finds, so it fetches only what is new.
 *
 * @module
 */
import { keepCompleteSongs, linkSongs } from "../downloader/output_files.ts";
import { listCacheKey } from "../kv/keys.ts";
import type { Log } from "../log/logger.ts";
import { jobOutputDir, removeOutputDir } from "./files.ts";
import { dedupeTarget, type Job } from "./model.ts";
import { parseJobIdValue } from "./store.ts";

/** What preparing a run's directory needs. */
export interface RunDirectoryDeps {
  kv: Deno.Kv;
  downloadsDir: string;
  logger: Log;
}

/** Prepares `dir` for `job`; returns how many songs are already there (kept or re-used). */
export async function prepareRunDirectory(
  deps: RunDirectoryDeps,
  job: Job,
  dir: string,
): Promise<number> {
  const completeBefore = job.filesCompleteBefore;
  if (completeBefore !== undefined) {
    const kept = await keepCompleteSongs(dir, completeBefore);
    await Deno.mkdir(dir, { recursive: true });
    if (kept > 0) {
      deps.logger.info("continuing a job with the songs it had", { job_id: job.id, kept });
    }
    return kept;
  }
  await removeOutputDir(deps.downloadsDir, job.id);
  await Deno.mkdir(dir, { recursive: true });
  return await seedFromEarlier(deps, job, dir);
}

async function seedFromEarlier(deps: RunDirectoryDeps, job: Job, dir: string): Promise<number> {
  const entry = await deps.kv.get(listCacheKey(dedupeTarget(job.url, job.audio)));
  const earlier = parseJobIdValue(entry.value);
  if (earlier === undefined || earlier === job.id) return 0;
  const placed = await linkSongs(jobOutputDir(deps.downloadsDir, earlier), dir);
  if (placed > 0) {
    deps.logger.info("re-using the songs of an earlier download of this link", {
      job_id: job.id,
      from_job_id: earlier,
      songs: placed,
    });
  }
  return placed;
}
