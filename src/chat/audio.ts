/**
 * A finished single track as an audio message: what to upload and how to tag it.
 *
 * @module
 */
import type { Job, JobFile } from "../jobs/model.ts";

/** Last path segment of a file name relative to the job's directory. */
export function baseName(fileName: string): string {
  return fileName.split(/[\\/]/).pop() || fileName;
}

/** "Artist - Song.mp3" → performer and title, as spotDL names files by default. */
export function audioTags(fileName: string): { performer?: string; title: string } {
  const stem = baseName(fileName).replace(/\.[A-Za-z0-9]{1,5}$/, "");
  const split = stem.indexOf(" - ");
  if (split <= 0) return { title: stem };
  return { performer: stem.slice(0, split), title: stem.slice(split + 3) };
}

/** The file of a succeeded single-track job, when it is small enough to upload; else undefined. */
export function uploadableTrack(job: Job, uploadLimitBytes: number): JobFile | undefined {
  const file = job.result?.files.length === 1 ? job.result.files[0] : undefined;
  if (job.state !== "succeeded" || job.kind !== "track" || !file) return undefined;
  return file.size <= uploadLimitBytes ? file : undefined;
}

/** Caption, title, performer and duration of a track's audio message. */
export function audioMessageOptions(job: Job, file: JobFile) {
  const tags = audioTags(file.name);
  return {
    caption: (job.result?.title ?? job.progress.title ?? tags.title).slice(0, 1000),
    title: tags.title,
    performer: tags.performer,
    duration: file.durationSeconds !== undefined ? Math.round(file.durationSeconds) : undefined,
  };
}
