/**
 * A job's files as one download: `<title>.zip` (every track in list order, with a playlist
 * inside that uses relative paths) or `<title>.m3u8` (a playlist whose entries are signed links
 * to the files, for players that stream). Both are built from the job's directory as it is now,
 * so a link outliving the files answers 410 instead of a broken download.
 *
 * The zip is answered whole (200, `Accept-Ranges: none`): it is generated as it is sent, and its
 * `Content-Length` is known before the first byte, so a download shows its progress.
 *
 * @module
 */
import { type ListedFile, listOutputFiles } from "../downloader/mod.ts";
import { fileStem } from "../downloader/names.ts";
import { contentDisposition } from "./file_response.ts";
import { fileLinkPath, type LinkSigner } from "./signing.ts";
import { type ZipEntry, zipLength, zipStream, ZipTooLargeError } from "./zip_stream.ts";

/** What a bundle answer needs. */
export interface BundleRequest {
  request: Request;
  /** The job's directory. */
  dir: string;
  jobId: string;
  kind: "zip" | "m3u8";
  /** The name the browser saves it as (`<title>.zip`). */
  fileName: string;
  /** The expiry of the bundle's own link (Unix seconds): the playlist's links expire with it. */
  expiresAt: number;
  signer: LinkSigner;
  /** The cover embedded in one of the job's songs (see `HttpHandlerDeps.coverOf`). */
  coverOf?: (jobDir: string, fileName: string) => Promise<string | undefined>;
}

/** Answers a verified bundle link. */
export async function serveBundle(options: BundleRequest): Promise<Response> {
  const files = await listOutputFiles(options.dir).catch(() => []);
  if (files.length === 0) {
    return page(410, "The files of this download are gone (they are kept for a limited time).");
  }
  const base = options.fileName.replace(/\.(zip|m3u8)$/, "");
  if (options.kind === "m3u8") {
    const body = await linkedPlaylist(files, options);
    return new Response(options.request.method === "HEAD" ? null : body, {
      headers: {
        "content-type": "audio/x-mpegurl; charset=utf-8",
        "content-disposition": contentDisposition(options.fileName),
        "cache-control": "private, no-store",
      },
    });
  }
  const playlist = new TextEncoder().encode(playlistText(files, (file) => file.name));
  const entries: ZipEntry[] = [
    ...files.map((file) => ({ name: file.name, path: file.path, size: file.size })),
    { name: `${base}.m3u8`, data: playlist, size: playlist.length },
    ...await coverEntry(options, files),
  ];
  let length: number;
  try {
    length = zipLength(entries);
  } catch (error) {
    if (!(error instanceof ZipTooLargeError)) throw error;
    return page(413, "This download is too large for one zip (over 4 GB): use the file links.");
  }
  return new Response(options.request.method === "HEAD" ? null : zipStream(entries), {
    headers: {
      "content-type": "application/zip",
      "content-length": String(length),
      "content-disposition": contentDisposition(options.fileName),
      "accept-ranges": "none",
      "cache-control": "private, no-store",
    },
  });
}

/**
 * `cover.jpg`: the picture embedded in the first song, when it has one (an album's songs share
 * theirs; a playlist gets its first song's). None when a song of the list is named so already.
 */
async function coverEntry(options: BundleRequest, files: ListedFile[]): Promise<ZipEntry[]> {
  const [first] = files;
  if (first === undefined || options.coverOf === undefined) return [];
  if (files.some((file) => file.name.toLowerCase() === COVER_NAME)) return [];
  const path = await options.coverOf(options.dir, first.name).catch(() => undefined);
  if (path === undefined) return [];
  const size = await Deno.stat(path).then((info) => info.size, () => undefined);
  return size === undefined ? [] : [{ name: COVER_NAME, path, size }];
}

const COVER_NAME = "cover.jpg";

/** `#EXTM3U` with `#EXTINF:<seconds>,<artist - title>` and where each file is. */
function playlistText(files: ListedFile[], location: (file: ListedFile) => string): string {
  const lines = ["#EXTM3U"];
  for (const file of files) {
    const title = file.title ?? fileStem(file.name);
    lines.push(`#EXTINF:${Math.round(file.durationSeconds ?? -1)},${title}`, location(file));
  }
  return `${lines.join("\n")}\n`;
}

/**
 * The playlist of signed links, relative to the playlist's own URL (`/jobs/<id>/…` →
 * `../../files/<id>/…`), so it works behind any public base path.
 */
async function linkedPlaylist(files: ListedFile[], options: BundleRequest): Promise<string> {
  const links = new Map<string, string>();
  const linkable: ListedFile[] = [];
  for (const file of files) {
    let path: string;
    try {
      path = fileLinkPath(options.jobId, file.name);
    } catch {
      continue; // a name no link can carry (see fileLinkPath); the zip still has it
    }
    links.set(file.name, `../..${await options.signer.sign(path, options.expiresAt)}`);
    linkable.push(file);
  }
  return playlistText(linkable, (file) => links.get(file.name) ?? "");
}

function page(status: number, message: string): Response {
  return new Response(`${message}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
  });
}
