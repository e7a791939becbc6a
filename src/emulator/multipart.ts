/**
 * A small multipart/form-data parser for Bot API uploads. It accepts what grammY sends (header
 * lines without spaces, unquoted file names) as well as what browsers and `FormData` send.
 *
 * @module
 */

/** A file part. */
export interface MultipartFile {
  /** The part's file name. */
  filename: string;
  /** Content. */
  bytes: Uint8Array;
}

/** Fields and files of a multipart body, by part name. */
export interface MultipartBody {
  /** Plain fields. */
  fields: Map<string, string>;
  /** File parts (those with a filename). */
  files: Map<string, MultipartFile>;
}

/** The body is not valid multipart/form-data. */
export class MultipartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MultipartError";
  }
}

/** The boundary parameter of a multipart Content-Type, or undefined. */
export function multipartBoundary(contentType: string): string | undefined {
  if (!/^multipart\/form-data/i.test(contentType)) return undefined;
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0];
  outer: for (
    let i = haystack.indexOf(first ?? 0, from);
    i !== -1;
    i = haystack.indexOf(first ?? 0, i + 1)
  ) {
    if (i + needle.length > haystack.length) return -1;
    for (let j = 1; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

function headerParameter(header: string, name: string): string | undefined {
  const match = new RegExp(`(?:^|;)\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;]*))`, "i").exec(header);
  if (!match) return undefined;
  return (match[1] ?? match[2] ?? "").trim();
}

/** Parses a complete multipart body. */
export function parseMultipart(body: Uint8Array, boundary: string): MultipartBody {
  const fields = new Map<string, string>();
  const files = new Map<string, MultipartFile>();
  const delimiter = encoder.encode(`--${boundary}`);
  const headerEnd = encoder.encode("\r\n\r\n");
  let position = indexOf(body, delimiter, 0);
  if (position === -1) throw new MultipartError("no boundary found in the body");
  while (true) {
    position += delimiter.length;
    if (body[position] === 0x2d && body[position + 1] === 0x2d) break; // closing "--"
    if (body[position] === 0x0d && body[position + 1] === 0x0a) position += 2;
    const headersEnd = indexOf(body, headerEnd, position);
    if (headersEnd === -1) throw new MultipartError("a part has no header terminator");
    const headers = decoder.decode(body.subarray(position, headersEnd)).split("\r\n");
    const contentStart = headersEnd + headerEnd.length;
    const next = indexOf(body, encoder.encode(`\r\n--${boundary}`), contentStart);
    if (next === -1) throw new MultipartError("the body ends without a closing boundary");
    const disposition = headers.find((h) => /^content-disposition\s*:/i.test(h));
    if (disposition === undefined) throw new MultipartError("a part has no content-disposition");
    const value = disposition.slice(disposition.indexOf(":") + 1);
    const name = headerParameter(value, "name");
    if (name === undefined) throw new MultipartError("a part has no name");
    const filename = headerParameter(value, "filename");
    const content = body.slice(contentStart, next);
    if (filename === undefined) fields.set(name, decoder.decode(content));
    else files.set(name, { filename, bytes: content });
    position = next + 2;
  }
  return { fields, files };
}
