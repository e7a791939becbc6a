/**
 * Serving one file over HTTP: content type by extension, `HEAD`, single byte ranges, conditional
 * requests (`ETag` / `If-None-Match`, `If-Range`) and an attachment `Content-Disposition` that
 * keeps non-ASCII names (RFC 6266 / RFC 5987). The body is streamed from disk in chunks, never
 * read into memory.
 *
 * @module
 */
import { extname, join, sep } from "node:path";

/** Options of {@linkcode serveFile}. */
export interface ServeFileOptions {
  /** The name the browser saves the file as; default: the last segment of `filePath`. */
  downloadName?: string;
  /** Aborting it ends a body still being sent (the client sees a short download). */
  signal?: AbortSignal;
}

/** Content types of the files the bot produces; anything else is `application/octet-stream`. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".mp3": "audio/mpeg",
  ".flac": "audio/flac",
  ".ogg": "audio/ogg",
  ".opus": "audio/opus",
  ".m4a": "audio/mp4",
  ".wav": "audio/wav",
  ".zip": "application/zip",
  ".m3u": "audio/x-mpegurl",
  ".m3u8": "audio/x-mpegurl",
  ".lrc": "text/plain; charset=utf-8",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".png": "image/png",
};

/** Bytes read from disk per chunk. */
const CHUNK_BYTES = 64 * 1024;

/** The content type for a file name, by its extension (case-insensitive). */
export function contentTypeFor(fileName: string): string {
  return CONTENT_TYPES[extname(fileName).toLowerCase()] ?? "application/octet-stream";
}

/**
 * Answers `request` (GET or HEAD) with the file at `filePath`: 200 with the whole file, 206 for a
 * satisfiable single `Range`, 416 for an unsatisfiable one, 304 when `If-None-Match` matches, 404
 * when the path is missing or not a regular file, 405 for other methods. Ranges with several
 * parts are answered with the whole file (allowed by RFC 9110).
 */
export async function serveFile(
  request: Request,
  filePath: string,
  options: ServeFileOptions = {},
): Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("method not allowed\n", {
      status: 405,
      headers: { "allow": "GET, HEAD", "content-type": "text/plain; charset=utf-8" },
    });
  }
  let file: Deno.FsFile;
  try {
    // Opening a FIFO (or a device) would wait for a writer: only regular files are opened.
    if (!(await Deno.stat(filePath)).isFile) return notFound();
    file = await Deno.open(filePath, { read: true });
  } catch (error) {
    if (isMissing(error)) return notFound();
    throw error;
  }
  let handedOver = false;
  try {
    const info = await file.stat();
    if (!info.isFile) return notFound();
    const size = info.size;
    const downloadName = options.downloadName ?? filePath.split(/[\\/]/).pop() ?? "download";
    const etag = entityTag(info);
    const headers = new Headers({
      "accept-ranges": "bytes",
      "content-type": contentTypeFor(downloadName),
      "content-disposition": contentDisposition(downloadName),
      "cache-control": "private, max-age=0, must-revalidate",
      "x-content-type-options": "nosniff",
      "etag": etag,
    });
    if (info.mtime) headers.set("last-modified", info.mtime.toUTCString());

    if (matchesAny(request.headers.get("if-none-match"), etag)) {
      headers.delete("content-type");
      headers.delete("content-disposition");
      return new Response(null, { status: 304, headers });
    }

    let start = 0;
    let length = size;
    let status = 200;
    const rangeHeader = request.headers.get("range");
    if (rangeHeader !== null && ifRangeHolds(request.headers.get("if-range"), etag, info.mtime)) {
      const range = parseRange(rangeHeader, size);
      if (range === "unsatisfiable") {
        headers.set("content-range", `bytes */${size}`);
        headers.set("content-type", "text/plain; charset=utf-8");
        headers.delete("content-disposition");
        const body = request.method === "HEAD" ? null : "range not satisfiable\n";
        return new Response(body, { status: 416, headers });
      }
      if (range) {
        start = range.start;
        length = range.end - range.start + 1;
        status = 206;
        headers.set("content-range", `bytes ${range.start}-${range.end}/${size}`);
      }
    }
    headers.set("content-length", String(length));

    if (request.method === "HEAD" || length === 0) {
      return new Response(null, { status, headers });
    }
    if (start > 0) await file.seek(start, Deno.SeekMode.Start);
    handedOver = true;
    return new Response(fileStream(file, length, options.signal), { status, headers });
  } finally {
    if (!handedOver) closeQuietly(file);
  }
}

/** A satisfiable byte range, both ends inclusive. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Parses a `Range` header against a file of `size` bytes. Returns the range, "unsatisfiable",
 * or undefined when the header is malformed, uses another unit, or asks for several ranges (all
 * of which mean: answer with the whole file).
 */
export function parseRange(header: string, size: number): ByteRange | "unsatisfiable" | undefined {
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return undefined;
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return undefined;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== "" && Number(last) < start) return undefined;
  if (start >= size) return "unsatisfiable";
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  return { start, end };
}

/**
 * `Content-Disposition: attachment` with an ASCII `filename` fallback and, when the name needs
 * it, the exact name as `filename*=UTF-8''…` (RFC 5987).
 */
export function contentDisposition(fileName: string): string {
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\%]/g, "_");
  if (fallback === fileName) return `attachment; filename="${fileName}"`;
  const encoded = encodeURIComponent(fileName).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/**
 * Streams `length` bytes from the file's current position, closing the file when done, cancelled
 * or aborted through `signal`.
 */
function fileStream(
  file: Deno.FsFile,
  length: number,
  signal?: AbortSignal,
): ReadableStream<Uint8Array> {
  let remaining = length;
  let onAbort: (() => void) | undefined;
  const finish = () => {
    if (onAbort) signal?.removeEventListener("abort", onAbort);
    closeQuietly(file);
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (!signal) return;
      onAbort = () => {
        finish();
        controller.error(new Error("download stopped: the server is shutting down"));
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    },
    async pull(controller) {
      try {
        const buffer = new Uint8Array(Math.min(CHUNK_BYTES, remaining));
        const n = await file.read(buffer);
        if (signal?.aborted) return;
        if (n === null) {
          // The file shrank while being sent; end early (the client sees a short body).
          finish();
          controller.error(new Error("file ended before the announced length"));
          return;
        }
        remaining -= n;
        controller.enqueue(buffer.subarray(0, n));
        if (remaining <= 0) {
          finish();
          controller.close();
        }
      } catch (error) {
        finish();
        if (!signal?.aborted) controller.error(error);
      }
    },
    cancel() {
      finish();
    },
  }, { highWaterMark: 0 });
}

/**
 * A validator from size and modification time. Produced files are written once and never
 * modified in place, so it is used as a strong tag (which `If-Range` requires for resuming).
 */
function entityTag(info: Deno.FileInfo): string {
  const mtime = info.mtime?.getTime() ?? 0;
  return `"${info.size.toString(16)}-${mtime.toString(16)}"`;
}

/** Whether an `If-None-Match` list names this tag (weak comparison) or is `*`. */
function matchesAny(header: string | null, etag: string): boolean {
  if (header === null) return false;
  const bare = etag.replace(/^W\//, "");
  return header.split(",").some((t) => {
    const tag = t.trim();
    return tag === "*" || tag.replace(/^W\//, "") === bare;
  });
}

/** `If-Range`: the range applies only when the validator still matches the file. */
function ifRangeHolds(header: string | null, etag: string, mtime: Date | null): boolean {
  if (header === null) return true;
  const value = header.trim();
  // Strong comparison: a weak tag never matches.
  if (value.startsWith('"') || value.startsWith("W/")) return value === etag;
  const date = Date.parse(value);
  return mtime !== null && !Number.isNaN(date) &&
    Math.floor(mtime.getTime() / 1000) === Math.floor(date / 1000);
}

function notFound(): Response {
  return new Response("not found\n", {
    status: 404,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

function isMissing(error: unknown): boolean {
  return error instanceof Deno.errors.NotFound ||
    error instanceof Deno.errors.NotADirectory ||
    error instanceof Deno.errors.IsADirectory;
}

function closeQuietly(file: Deno.FsFile): void {
  try {
    file.close();
  } catch {
    // Already closed.
  }
}

/**
 * Resolves `<downloadsDir>/<jobId>/<fileName>` through symlinks. Undefined when it does not exist,
 * "outside" when the real path is not inside the job's real directory.
 */
export async function resolveInside(
  downloadsDir: string,
  jobId: string,
  fileName: string,
): Promise<string | "outside" | undefined> {
  try {
    const root = await Deno.realPath(downloadsDir);
    const real = await Deno.realPath(join(root, jobId, fileName));
    return real.startsWith(join(root, jobId) + sep) ? real : "outside";
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw error;
  }
}
