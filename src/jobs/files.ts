/**
 * Where a job's files live on disk: `<downloadsDir>/<jobId>`, removed only for names shaped like
 * job ids.
 *
 * @module
 */
import type { Log } from "../log/logger.ts";
import { errorText } from "../runtime/error_text.ts";
import { isJobId } from "./ids.ts";

/** The directory a job's files go to. */
export function jobOutputDir(downloadsDir: string, jobId: string): string {
  return `${downloadsDir.replace(/\/+$/, "")}/${jobId}`;
}

/** Removes a job's output directory; a missing one is fine. */
export async function removeOutputDir(downloadsDir: string, jobId: string): Promise<void> {
  if (!isJobId(jobId)) return;
  try {
    await Deno.remove(jobOutputDir(downloadsDir, jobId), { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/** {@linkcode removeOutputDir}, logging (not throwing) a failure; true when removed. */
export async function removeJobFiles(
  downloadsDir: string,
  jobId: string,
  logger: Log,
): Promise<boolean> {
  try {
    await removeOutputDir(downloadsDir, jobId);
    return true;
  } catch (error) {
    logger.warn("could not remove a job's files", { job_id: jobId, error: errorText(error) });
    return false;
  }
}
