/**
 * Reads a Bot API request's parameters the way the Bot API does: from the query string and from a
 * JSON, urlencoded or multipart/form-data body. Form values stay strings except JSON objects and
 * arrays (reply_markup…), which are decoded; uploaded files replace their attach:// references.
 *
 * @module
 */
import { badRequest, BotApiError } from "./api_error.ts";
import type { RecordedFile } from "./emulator_types.ts";
import { multipartBoundary, MultipartError, parseMultipart } from "./multipart.ts";

/** Room for multipart headers and fields on top of the file size limit. */
const BODY_SLACK = 1024 * 1024;

/** Upload handling options. */
export interface UploadLimits {
  /** Largest file accepted, in bytes; bigger uploads get 413. */
  maxUploadBytes: number;
  /** Keep the uploaded bytes (otherwise only name and size are kept). */
  recordFileBytes: boolean;
}

/**
 * The parameters of a Bot API request: query string, then the JSON, urlencoded or multipart body.
 * Throws a {@linkcode BotApiError} (400 or 413) for bodies Telegram would refuse.
 */
export async function readRequestParams(
  request: Request,
  url: URL,
  limits: UploadLimits,
): Promise<Record<string, unknown>> {
  const params: Record<string, unknown> = {};
  for (const [key, value] of url.searchParams) params[key] = decodeField(value);
  if (request.body === null) return params;
  const body = await readLimited(request.body, limits.maxUploadBytes + BODY_SLACK);
  if (body === undefined) throw new BotApiError(413, "Request Entity Too Large");
  if (body.length === 0) return params;
  const contentType = request.headers.get("content-type") ?? "";
  const boundary = multipartBoundary(contentType);
  if (boundary !== undefined) {
    Object.assign(params, multipartParams(body, boundary, limits));
  } else if (/application\/x-www-form-urlencoded/i.test(contentType)) {
    for (const [key, value] of new URLSearchParams(new TextDecoder().decode(body))) {
      params[key] = decodeField(value);
    }
  } else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(body));
    } catch {
      throw badRequest("can't parse JSON object");
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw badRequest("can't parse JSON object");
    }
    Object.assign(params, parsed);
  }
  return params;
}

function multipartParams(
  body: Uint8Array,
  boundary: string,
  limits: UploadLimits,
): Record<string, unknown> {
  let parts;
  try {
    parts = parseMultipart(body, boundary);
  } catch (error) {
    if (error instanceof MultipartError) {
      throw badRequest(`can't parse multipart: ${error.message}`);
    }
    throw error;
  }
  for (const file of parts.files.values()) {
    if (file.bytes.length > limits.maxUploadBytes) {
      throw new BotApiError(413, "Request Entity Too Large");
    }
  }
  const toRecorded = (name: string): RecordedFile | undefined => {
    const file = parts.files.get(name);
    if (file === undefined) return undefined;
    return {
      filename: file.filename,
      size: file.bytes.length,
      bytes: limits.recordFileBytes ? file.bytes : new Uint8Array(0),
    };
  };
  const params: Record<string, unknown> = {};
  const attached = new Set<string>();
  for (const [key, value] of parts.fields) {
    const reference = /^attach:\/\/(.+)$/.exec(value)?.[1];
    const file = reference === undefined ? undefined : toRecorded(reference);
    if (reference !== undefined && file !== undefined) {
      attached.add(reference);
      params[key] = file;
    } else {
      params[key] = decodeField(value);
    }
  }
  for (const name of parts.files.keys()) {
    if (!attached.has(name)) params[name] = toRecorded(name);
  }
  return params;
}

async function readLimited(
  stream: ReadableStream<Uint8Array>,
  max: number,
): Promise<Uint8Array | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size <= max) chunks.push(chunk);
  }
  if (size > max) return undefined;
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return body;
}

/** Form values: JSON objects and arrays are decoded, everything else stays a string. */
function decodeField(value: string): unknown {
  const trimmed = value.trim();
  if (!trimmed.startsWith("{") && !trimmed.startsWith("[")) return value;
  try {
    return JSON.parse(trimmed);
  } catch {
    return value;
  }
}
