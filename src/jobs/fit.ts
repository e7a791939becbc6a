/**
 * Every job record fits in one Deno KV value (64 KiB): long texts are cut (the full text goes to
 * the log where it is made), and a result with more files than fit lists the first ones and
 * counts the rest. Applied wherever the worker writes what a download produced.
 *
 * @module
 */
import type { Job } from "./model.ts";

/** What a stored job may take, in UTF-8 bytes of its JSON: KV's limit with room to spare. */
export const JOB_RECORD_BUDGET = 60_000;

/** Longest error detail kept (its end: the last lines say most). */
const MAX_DETAIL = 4_000;
/** Longest user message, title or song name kept. */
const MAX_TEXT = 1_000;
const MAX_NAME = 300;
/** Longest file name (a path inside the job's directory) listed. */
const MAX_FILE_NAME = 1_024;

const encoder = new TextEncoder();

/** The size of a job as stored, near enough (UTF-8 bytes of its JSON). */
export function recordSize(job: Job): number {
  return encoder.encode(JSON.stringify(job)).length;
}

/** The job cut down to fit {@linkcode JOB_RECORD_BUDGET}; unchanged when it fits already. */
export function fitJob(job: Job): Job {
  if (recordSize(job) <= JOB_RECORD_BUDGET) return job;
  let cut = cutTexts(job);
  // Failures and songs in flight go from the end (their count stays) until the rest fits.
  while (recordSize(cut) > JOB_RECORD_BUDGET && cut.progress.failures.length > 0) {
    const failures = cut.progress.failures.slice(0, Math.floor(cut.progress.failures.length / 2));
    cut = { ...cut, progress: { ...cut.progress, failures, inFlight: [] } };
  }
  if (recordSize(cut) <= JOB_RECORD_BUDGET || cut.result === undefined) return cut;
  return { ...cut, result: fitFiles(cut, cut.result) };
}

function cutTexts(job: Job): Job {
  const p = job.progress;
  return {
    ...job,
    progress: {
      ...p,
      title: clip(p.title, MAX_NAME),
      current: clip(p.current, MAX_NAME),
      inFlight: p.inFlight.slice(0, 32).map((n) => n.slice(0, MAX_NAME)),
    },
    error: job.error && {
      ...job.error,
      userMessage: job.error.userMessage.slice(0, MAX_TEXT),
      detail: job.error.detail === undefined
        ? undefined
        : job.error.detail.length > MAX_DETAIL
        ? `…${job.error.detail.slice(-MAX_DETAIL)}`
        : job.error.detail,
    },
    result: job.result && {
      ...job.result,
      title: clip(job.result.title, MAX_NAME),
      files: job.result.files.filter((f) => f.name.length <= MAX_FILE_NAME),
      unlistedFiles: job.result.unlistedFiles +
        job.result.files.filter((f) => f.name.length > MAX_FILE_NAME).length,
    },
  };
}

/** As many files as fit, in their order; the rest counted in `unlistedFiles`. */
function fitFiles(job: Job, result: NonNullable<Job["result"]>): NonNullable<Job["result"]> {
  const without = recordSize({ ...job, result: { ...result, files: [] } });
  let room = JOB_RECORD_BUDGET - without;
  const files = [];
  for (const file of result.files) {
    const size = encoder.encode(JSON.stringify(file)).length + 1;
    if (size > room) break;
    room -= size;
    files.push(file);
  }
  return {
    ...result,
    files,
    unlistedFiles: result.unlistedFiles + result.files.length - files.length,
  };
}

function clip(text: string | undefined, max: number): string | undefined {
  return text === undefined || text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
