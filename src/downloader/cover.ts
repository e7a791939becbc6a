/**
 * A track's embedded cover as a Telegram thumbnail: ffmpeg copies the picture spotDL embedded
 * (an attached picture stream) into a JPEG of at most 320×320 pixels, which Telegram accepts
 * below 200 kB. A track without a cover, or no ffmpeg, gives none.
 *
 * @module
 */

/** Telegram's largest thumbnail, in bytes (`sendAudio`'s `thumbnail`). */
export const THUMBNAIL_MAX_BYTES = 200 * 1024;

/** How long one extraction may take. */
const EXTRACT_TIMEOUT_MS = 15_000;

/**
 * Writes `audioPath`'s cover to `jpegPath` with `ffmpeg`; whether a usable thumbnail is there.
 * Never throws.
 */
export async function extractCover(
  ffmpeg: string,
  audioPath: string,
  jpegPath: string,
): Promise<boolean> {
  try {
    await Deno.mkdir(jpegPath.slice(0, jpegPath.lastIndexOf("/")), { recursive: true });
    const { code } = await new Deno.Command(ffmpeg, {
      args: [
        "-nostdin",
        "-v",
        "error",
        "-y",
        "-i",
        audioPath,
        "-map",
        "0:v:0",
        "-frames:v",
        "1",
        "-vf",
        "scale=320:320:force_original_aspect_ratio=decrease",
        "-q:v",
        "4",
        "-f",
        "image2",
        jpegPath,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
      signal: AbortSignal.timeout(EXTRACT_TIMEOUT_MS),
    }).output();
    if (code !== 0) return false;
    const { size } = await Deno.stat(jpegPath);
    return size > 0 && size <= THUMBNAIL_MAX_BYTES;
  } catch {
    return false;
  }
}

/**
 * Thumbnails from the covers of audio files, each extracted once (kept at its JPEG path) with the
 * ffmpeg `findFfmpeg` finds (looked up on first use); none when there is no ffmpeg.
 */
export function coverThumbnails(
  findFfmpeg: () => Promise<string | null>,
): (audioPath: string, jpegPath: string) => Promise<string | undefined> {
  let ffmpeg: Promise<string | null> | undefined;
  return async (audioPath, jpegPath) => {
    ffmpeg ??= findFfmpeg().catch(() => null);
    const path = await ffmpeg;
    if (path === null) return undefined;
    const made = await Deno.stat(jpegPath).then((info) => info.size > 0, () => false);
    return made || await extractCover(path, audioPath, jpegPath) ? jpegPath : undefined;
  };
}
