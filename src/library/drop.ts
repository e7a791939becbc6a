/**
 * The library drop: every track of a finished job is also placed in a music library
 * (`library.dir`) as `<album artist>/<album>/<nn - title>.<ext>`, hard-linked when the library
 * is on the same file system (no second copy), copied otherwise, never overwriting a different
 * file. Then a Subsonic server (Navidrome, Airsonic, Gonic) is asked to rescan. Names come from
 * the file's tags when ffprobe can read them, else from the downloader's list (artist - title)
 * and the job (album name, list position). Failures go to the admins, never to the user: the
 * track stays in the bot's own storage either way.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { dirname } from "node:path";
import { probeTags } from "../downloader/ffprobe.ts";
import { asPathSegment, fileStem, splitArtistTitle } from "../downloader/names.ts";
import { linkOrCopy } from "../downloader/output_files.ts";
import type { Job, JobFile } from "../jobs/model.ts";
import { titleOf } from "../jobs/model.ts";
import type { Log } from "../log/logger.ts";
import { errorText } from "../runtime/error_text.ts";

/** What {@linkcode LibraryDrop} needs. */
export interface LibraryDropDeps {
  /** The library's root. */
  dir: string;
  /** Where the bot keeps job files (`<downloadsDir>/<jobId>/<name>`). */
  downloadsDir: string;
  subsonic?: { url: string; user: string; password: string };
  logger: Log;
  /** Tells the admins (at most once an hour per kind, by the caller). */
  problem: (text: string) => void;
  /** ffprobe for tags; null: do not read tags. */
  ffprobe: string | null;
}

/** Where one track goes, relative to the library's root. */
export interface LibraryPlace {
  artist: string;
  album: string;
  number: number;
  title: string;
}

/** Places finished tracks in the library; see the module documentation. */
export class LibraryDrop {
  readonly #deps: LibraryDropDeps;

  constructor(deps: LibraryDropDeps) {
    this.#deps = deps;
  }

  /** Places a succeeded job's tracks; returns the library paths written. Never throws. */
  async place(job: Job): Promise<string[]> {
    if (job.state !== "succeeded") return [];
    const placed: string[] = [];
    try {
      for (const [index, file] of (job.result?.files ?? []).entries()) {
        const source = `${this.#deps.downloadsDir}/${job.id}/${file.name}`;
        const where = await this.#placeOf(job, file, index, source);
        const target = await placeFile(source, this.#deps.dir, where, extensionOf(file.name));
        if (target !== undefined) placed.push(target);
      }
    } catch (error) {
      this.#deps.logger.warn("placing tracks in the library failed", {
        job_id: job.id,
        error: errorText(error),
      });
      this.#deps.problem(
        `tracks could not be placed in library.dir (${this.#deps.dir}): ${errorText(error)}. ` +
          "They stay in the bot's storage; check that the directory exists and the bot may write it.",
      );
      return placed;
    }
    if (placed.length > 0) await this.#rescan();
    return placed;
  }

  async #placeOf(job: Job, file: JobFile, index: number, path: string): Promise<LibraryPlace> {
    const tags = this.#deps.ffprobe === null ? {} : await probeTags(path, this.#deps.ffprobe);
    const listed = splitArtistTitle(file.title ?? fileStem(file.name));
    const artist = tags.album_artist ?? tags.artist ?? listed.artist ?? "Unknown Artist";
    return {
      artist,
      album: tags.album ?? (job.kind === "album" ? titleOf(job) : undefined) ?? "Unknown Album",
      number: Number.parseInt(tags.track ?? "", 10) || index + 1,
      title: tags.title ?? listed.title,
    };
  }

  async #rescan(): Promise<void> {
    const subsonic = this.#deps.subsonic;
    if (subsonic === undefined) return;
    const salt = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
    const url = new URL(`${subsonic.url.replace(/\/+$/, "")}/rest/startScan.view`);
    url.search = new URLSearchParams({
      u: subsonic.user,
      t: createHash("md5").update(subsonic.password + salt).digest("hex"),
      s: salt,
      v: "1.16.1",
      c: "dlbot",
      f: "json",
    }).toString();
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      const body = await response.json().catch(() => undefined);
      const status = body?.["subsonic-response"]?.status;
      if (!response.ok || status !== "ok") {
        const reason = body?.["subsonic-response"]?.error?.message ?? `HTTP ${response.status}`;
        throw new Error(`the server answered: ${reason}`);
      }
    } catch (error) {
      this.#deps.logger.warn("the Subsonic rescan failed", { error: errorText(error) });
      this.#deps.problem(
        `the Subsonic server (${subsonic.url}) did not start a rescan: ${errorText(error)}. ` +
          "Check library.subsonic_url, the user and its password.",
      );
    }
  }
}

/**
 * Links (or copies) `source` to `<root>/<artist>/<album>/<nn - title>.<ext>`. An identical file
 * there is kept; a different one is never overwritten: the new one gets " (2)", " (3)" … Returns
 * the path written, or undefined when the same file was there already.
 */
export async function placeFile(
  source: string,
  root: string,
  where: LibraryPlace,
  ext: string,
): Promise<string | undefined> {
  const folder = `${root}/${segment(where.artist)}/${segment(where.album)}`;
  const base = `${String(where.number).padStart(2, "0")} - ${segment(where.title)}`;
  const size = (await Deno.stat(source)).size;
  for (let copy = 1; copy < 100; copy++) {
    const target = `${folder}/${base}${copy === 1 ? "" : ` (${copy})`}.${ext}`;
    const existing = await Deno.stat(target).catch(() => undefined);
    if (existing !== undefined) {
      if (existing.size === size && await sameBytes(source, target)) return undefined;
      continue;
    }
    await Deno.mkdir(dirname(target), { recursive: true });
    await linkOrCopy(source, target);
    return target;
  }
  throw new Error(`too many different files named ${base}.${ext} in ${folder}`);
}

async function sameBytes(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([Deno.readFile(a), Deno.readFile(b)]);
  return x.length === y.length && x.every((byte, i) => byte === y[i]);
}

/** One safe path segment: no slashes or control characters, no leading dots, at most 120. */
function segment(text: string): string {
  const clean = asPathSegment(text).replace(/^\.+/, "").slice(0, 120).trim();
  return clean === "" ? "Unknown" : clean;
}

function extensionOf(name: string): string {
  return /\.([A-Za-z0-9]{1,5})$/.exec(name)?.[1]?.toLowerCase() ?? "mp3";
}

/**
 * Why `library.dir` cannot take tracks (missing, not a directory, not writable); undefined when
 * it can. For `check-config`.
 */
export async function libraryDirProblem(dir: string): Promise<string | undefined> {
  try {
    const info = await Deno.stat(dir);
    if (!info.isDirectory) return `${dir} is not a directory`;
    const probe = `${dir}/.dlbot-write-test-${crypto.randomUUID()}`;
    await Deno.writeTextFile(probe, "");
    await Deno.remove(probe);
    return undefined;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return `${dir} does not exist`;
    if (error instanceof Deno.errors.PermissionDenied) return `the bot may not write in ${dir}`;
    return `${dir} cannot be used: ${errorText(error)}`;
  }
}
