/**
 * A zip archive of files on disk, streamed as it is read: entries are stored (method 0: mp3,
 * m4a and opus do not compress), each followed by a data descriptor with the CRC-32 computed on
 * the way, so nothing is buffered or copied to disk and memory stays flat whatever the album's
 * size. Because stored entries keep their size, the archive's length is known before the first
 * byte ({@linkcode zipLength}): phones show real progress.
 *
 * Hand-written (about a hundred lines) because the npm zip libraries either buffer whole entries
 * or do not say the archive's length up front; the format is APPNOTE.TXT's, without ZIP64, so an
 * archive is limited to 4 GiB and 65,535 entries ({@linkcode ZipTooLargeError}). The CRC-32 is
 * `node:zlib`'s.
 *
 * @module
 */
import { crc32 } from "node:zlib";

/** One file of the archive. */
export interface ZipEntry {
  /** Path inside the archive (`/` separated, UTF-8). */
  name: string;
  /** The file to read; or `data` for a small generated entry. */
  path?: string;
  data?: Uint8Array;
  /** Its size in bytes (checked while it is read). */
  size: number;
}

/** The archive would need ZIP64 (over 4 GiB or 65,535 entries). */
export class ZipTooLargeError extends Error {
  constructor() {
    super("the archive would be larger than 4 GiB or hold more than 65535 files");
    this.name = "ZipTooLargeError";
  }
}

const LOCAL_HEADER = 30;
const DESCRIPTOR = 16;
const CENTRAL_HEADER = 46;
const END_RECORD = 22;
/** Bit 3: sizes and CRC follow the data; bit 11: names are UTF-8. */
const FLAGS = 0x0808;
const LIMIT = 0xffffffff;
/** 1980-01-01 00:00, the earliest DOS date: entries carry no real time. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

const encoder = new TextEncoder();

/** The archive's exact length in bytes; throws {@linkcode ZipTooLargeError}. */
export function zipLength(entries: readonly ZipEntry[]): number {
  let total = END_RECORD;
  for (const entry of entries) {
    const name = encoder.encode(entry.name).length;
    total += LOCAL_HEADER + name + entry.size + DESCRIPTOR + CENTRAL_HEADER + name;
  }
  if (total > LIMIT || entries.length > 0xffff) throw new ZipTooLargeError();
  return total;
}

/**
 * The archive as a stream. Files are opened one at a time as the reader pulls; a file whose size
 * differs from `size` fails the stream (the length promised up front would be wrong).
 */
export function zipStream(entries: readonly ZipEntry[]): ReadableStream<Uint8Array> {
  zipLength(entries);
  const central: Uint8Array[] = [];
  let offset = 0;
  let index = 0;
  let current: { entry: ZipEntry; name: Uint8Array; crc: number; read: number } | undefined;
  let file: Deno.FsFile | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (current === undefined) {
        const entry = entries[index++];
        if (entry === undefined) {
          controller.enqueue(endRecord(entries.length, central, offset));
          controller.close();
          return;
        }
        const name = encoder.encode(entry.name);
        central.push(centralHeader(name, offset));
        current = { entry, name, crc: 0, read: 0 };
        controller.enqueue(concat(localHeader(name), name));
        if (entry.path !== undefined) file = await Deno.open(entry.path, { read: true });
        return;
      }
      const chunk = await nextChunk(current.entry, file, current.read);
      if (chunk !== null) {
        current.crc = crc32(chunk, current.crc);
        current.read += chunk.length;
        if (current.read > current.entry.size) throw new Error(`${current.entry.name} grew`);
        controller.enqueue(chunk);
        return;
      }
      file?.close();
      file = undefined;
      if (current.read !== current.entry.size) throw new Error(`${current.entry.name} shrank`);
      const header = central[central.length - 1];
      if (header) fillSizes(header, 16, current.crc, current.read);
      controller.enqueue(descriptor(current.crc, current.read));
      offset += LOCAL_HEADER + current.name.length + current.read + DESCRIPTOR;
      central[central.length - 1] = concat(header ?? new Uint8Array(), current.name);
      current = undefined;
    },
    cancel() {
      file?.close();
    },
  }, { highWaterMark: 0 });
}

/** The next piece of an entry's bytes; null at its end. */
async function nextChunk(
  entry: ZipEntry,
  file: Deno.FsFile | undefined,
  read: number,
): Promise<Uint8Array | null> {
  if (entry.data !== undefined) return read === 0 && entry.data.length > 0 ? entry.data : null;
  if (file === undefined) return null;
  const buffer = new Uint8Array(64 * 1024);
  const n = await file.read(buffer);
  return n === null ? null : buffer.subarray(0, n);
}

function localHeader(name: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(LOCAL_HEADER);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0x04034b50, true);
  view.setUint16(4, 20, true);
  view.setUint16(6, FLAGS, true);
  view.setUint16(8, 0, true);
  view.setUint16(10, 0, true);
  view.setUint16(12, DOS_DATE, true);
  view.setUint16(26, name.length, true);
  return bytes;
}

function descriptor(crc: number, size: number): Uint8Array {
  const bytes = new Uint8Array(DESCRIPTOR);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0x08074b50, true);
  fillSizes(bytes, 4, crc, size);
  return bytes;
}

/** Writes CRC, compressed and uncompressed size (equal: stored) at `at`. */
function fillSizes(bytes: Uint8Array, at: number, crc: number, size: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  view.setUint32(at, crc >>> 0, true);
  view.setUint32(at + 4, size, true);
  view.setUint32(at + 8, size, true);
}

function centralHeader(name: Uint8Array, offset: number): Uint8Array {
  const bytes = new Uint8Array(CENTRAL_HEADER);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0x02014b50, true);
  view.setUint16(4, (3 << 8) | 20, true);
  view.setUint16(6, 20, true);
  view.setUint16(8, FLAGS, true);
  view.setUint16(10, 0, true);
  view.setUint16(12, 0, true);
  view.setUint16(14, DOS_DATE, true);
  view.setUint16(28, name.length, true);
  view.setUint32(38, (0o100644 << 16) >>> 0, true);
  view.setUint32(42, offset, true);
  return bytes;
}

function endRecord(count: number, central: Uint8Array[], offset: number): Uint8Array {
  const directory = concat(...central);
  const end = new Uint8Array(END_RECORD);
  const view = new DataView(end.buffer);
  view.setUint32(0, 0x06054b50, true);
  view.setUint16(8, count, true);
  view.setUint16(10, count, true);
  view.setUint32(12, directory.length, true);
  view.setUint32(16, offset, true);
  return concat(directory, end);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
