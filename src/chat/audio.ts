/**
 * A finished single track as an audio message: what to upload and how to tag it.
 *
 * @module
 */
import type { Job, JobFile } from "../jobs/model.ts";
import { fileStem, splitArtistTitle } from "../downloader/names.ts";

export { baseName } from "../downloader/names.ts";

/** "Artist - Song" → performer and title. */
function tagsOf(text: string): { performer?: string; title: string } {
  const { artist, title } = splitArtistTitle(text);
  return artist === undefined ? { title } : { performer: artist, title };
}

/** "Artist - Song.mp3" → performer and title, as spotDL names files by default. */
export function audioTags(fileName: string): { performer?: string; title: string } {
  return tagsOf(fileStem(fileName));
}

/** The file of a succeeded single-track job, when it is small enough to upload; else undefined. */
export function uploadableTrack(job: Job, uploadLimitBytes: number): JobFile | undefined {
  const file = job.result?.files.length === 1 ? job.result.files[0] : undefined;
  if (job.state !== "succeeded" || job.kind !== "track" || !file) return undefined;
  return file.size <= uploadLimitBytes ? file : undefined;
}

/** Tracks of a list sent as audio at once (Telegram's album limit). */
export const ALBUM_SIZE = 10;

/**
 * The tracks of a succeeded list to send as audio, in list order, in albums of up to
 * {@linkcode ALBUM_SIZE}; files over the upload limit stay links only. Empty unless the job asked
 * for it.
 */
export function audioAlbums(job: Job, uploadLimitBytes: number): JobFile[][] {
  if (job.state !== "succeeded" || job.kind === "track" || !job.asAudio) return [];
  const files = (job.result?.files ?? []).filter((file) => file.size <= uploadLimitBytes);
  const albums: JobFile[][] = [];
  for (let i = 0; i < files.length; i += ALBUM_SIZE) albums.push(files.slice(i, i + ALBUM_SIZE));
  return albums;
}

/** Title, performer and duration of one track: from the downloader's list, else its name. */
export function trackTags(file: JobFile): { title: string; performer?: string; duration?: number } {
  const tags = tagsOf(file.title ?? fileStem(file.name));
  return {
    ...tags,
    ...(file.durationSeconds === undefined ? {} : { duration: Math.round(file.durationSeconds) }),
  };
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
