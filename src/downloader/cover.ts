/**
 * The cover spotDL embedded in a song (an attached picture stream), through ffmpeg: as a
 * Telegram thumbnail (a JPEG of at most 320×320 pixels, which Telegram takes below 200 kB) and at
 * its own size for a zip's `cover.jpg`. A song without a cover, or no ffmpeg, gives none.
 *
 * @module
 */

/** Telegram's largest thumbnail, in bytes (`sendAudio`'s `thumbnail`). */
export const THUMBNAIL_MAX_BYTES = 200 * 1024;

/** How long one extraction may take. */
const EXTRACT_TIMEOUT_MS = 15_000;

/** The folder of a job's directory that holds its cover pictures (no song is named like it). */
export const COVERS_DIR = ".covers";

/** What to make of an embedded picture. */
interface PictureKind {
  /** Scale down to fit a square of this side; absent: keep its size. */
  maxSide?: number;
  /** Largest usable result. */
  maxBytes: number;
}

const THUMBNAIL: PictureKind = { maxSide: 320, maxBytes: THUMBNAIL_MAX_BYTES };
const PICTURE: PictureKind = { maxBytes: 20 * 1024 * 1024 };

/**
 * Writes `audioPath`'s embedded picture to `jpegPath` as a JPEG with `ffmpeg`; whether a usable
 * one is there. Never throws.
 */
async function extractPicture(
  ffmpeg: string,
  audioPath: string,
  jpegPath: string,
  kind: PictureKind,
): Promise<boolean> {
  const scale = kind.maxSide === undefined ? [] : [
    "-vf",
    `scale=${kind.maxSide}:${kind.maxSide}:force_original_aspect_ratio=decrease:force_divisible_by=2`,
  ];
  try {
    await Deno.mkdir(jpegPath.slice(0, jpegPath.lastIndexOf("/")), { recursive: true });
    const { code } = await new Deno.Command(ffmpeg, {
      args: [
        "-nostdin",
        ...["-v", "error", "-y", "-i", audioPath, "-map", "0:v:0", "-frames:v", "1"],
        ...scale,
        ...["-c:v", "mjpeg", "-q:v", "3", "-f", "image2", jpegPath],
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
      signal: AbortSignal.timeout(EXTRACT_TIMEOUT_MS),
    }).output();
    if (code !== 0) return false;
    const { size } = await Deno.stat(jpegPath);
    return size > 0 && size <= kind.maxBytes;
  } catch {
    return false;
  }
}

/**
 * The pictures spotDL embedded in a job's songs, made once each (kept under the job's
 * {@linkcode COVERS_DIR}) with the ffmpeg `findFfmpeg` finds, looked up on first use. None when
 * there is no ffmpeg or the song has no picture.
 */
export class Covers {
  readonly #findFfmpeg: () => Promise<string | null>;
  #ffmpeg: Promise<string | null> | undefined;

  constructor(findFfmpeg: () => Promise<string | null>) {
    this.#findFfmpeg = findFfmpeg;
  }

  /** A Telegram thumbnail of song `name` of the job in `jobDir` (JPEG, ≤ 320×320, < 200 kB). */
  thumbnail(jobDir: string, name: string): Promise<string | undefined> {
    return this.#make(`${jobDir}/${name}`, `${jobDir}/${COVERS_DIR}/${name}.jpg`, THUMBNAIL);
  }

  /** The cover of song `name` of the job in `jobDir` at its own size, as `cover.jpg`. */
  cover(jobDir: string, name: string): Promise<string | undefined> {
    return this.#make(`${jobDir}/${name}`, `${jobDir}/${COVERS_DIR}/cover.jpg`, PICTURE);
  }

  async #make(audio: string, jpeg: string, kind: PictureKind): Promise<string | undefined> {
    this.#ffmpeg ??= this.#findFfmpeg().catch(() => null);
    const ffmpeg = await this.#ffmpeg;
    if (ffmpeg === null) return undefined;
    const made = await Deno.stat(jpeg).then((info) => info.size > 0, () => false);
    return made || await extractPicture(ffmpeg, audio, jpeg, kind) ? jpeg : undefined;
  }
}
