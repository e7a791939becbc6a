/**
 * Signed, expiring download links.
 *
 * A link is `<path>?exp=<unix seconds>&sig=<base64url HMAC-SHA256>` where the MAC covers the path
 * and the expiry. The path of a download is `/files/<jobId>/<encodeURIComponent(fileName)>`
 * ({@linkcode fileLinkPath}); the server re-encodes the decoded name before verifying, so clients
 * that encode a few characters differently still match.
 *
 * @module
 */
import { signingSecretKey } from "../kv/keys.ts";
import { retryCas } from "../kv/cas.ts";
import { isJobId } from "../jobs/ids.ts";
import { asPathSegment } from "../downloader/names.ts";

/** What {@linkcode LinkSigner.verify} concluded. */
export type LinkVerdict = "ok" | "expired" | "invalid";

/** Options of {@linkcode LinkSigner}. */
export interface LinkSignerOptions {
  /** Current time in milliseconds since the epoch (like `Date.now`); for tests. */
  now?: () => number;
}

/** Secrets shorter than this are refused: a guessable key makes every link forgeable. */
const MIN_SECRET_BYTES = 16;
/** Expiry timestamps are whole seconds; more than 12 digits is nonsense (year 33658). */
const EXP_PATTERN = /^\d{1,12}$/;
/** A base64url HMAC-SHA256 is 43 characters without padding. */
const SIG_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** Signs and verifies download links with HMAC-SHA256 (WebCrypto). */
export class LinkSigner {
  readonly #key: Promise<CryptoKey>;
  readonly #now: () => number;

  /**
   * Prepares a signer; the WebCrypto key is imported in the background. Prefer
   * {@linkcode LinkSigner.fromSecret}, which reports a bad secret right away.
   *
   * @throws {TypeError} when the secret is shorter than 16 bytes.
   */
  constructor(secret: string | Uint8Array, options: LinkSignerOptions = {}) {
    const bytes = typeof secret === "string" ? new TextEncoder().encode(secret) : secret;
    if (bytes.length < MIN_SECRET_BYTES) {
      throw new TypeError(`link signing secret must be at least ${MIN_SECRET_BYTES} bytes`);
    }
    this.#now = options.now ?? Date.now;
    this.#key = crypto.subtle.importKey(
      "raw",
      new Uint8Array(bytes),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    // Errors surface on first use (or in fromSecret); avoid an unhandled rejection meanwhile.
    this.#key.catch(() => {});
  }

  /** Creates a signer whose key is ready to use. */
  static async fromSecret(
    secret: string | Uint8Array,
    options: LinkSignerOptions = {},
  ): Promise<LinkSigner> {
    const signer = new LinkSigner(secret, options);
    await signer.#key;
    return signer;
  }

  /**
   * Signs `path` (which must not contain a query) until `expiresAt` (Unix seconds) and returns
   * `${path}?exp=…&sig=…`.
   */
  async sign(path: string, expiresAt: number): Promise<string> {
    if (!Number.isSafeInteger(expiresAt) || expiresAt < 0) {
      throw new TypeError(`expiresAt must be whole Unix seconds, got ${expiresAt}`);
    }
    if (path.includes("?") || path.includes("#")) {
      throw new TypeError("a signed path must not contain a query or fragment");
    }
    const exp = String(expiresAt);
    const mac = await crypto.subtle.sign("HMAC", await this.#key, message(path, exp));
    return `${path}?exp=${exp}&sig=${toBase64Url(new Uint8Array(mac))}`;
  }

  /**
   * Checks a link: "invalid" when the signature does not match this path and expiry (or either is
   * malformed or missing), "expired" when it matches but the expiry has passed, "ok" otherwise.
   * The MAC comparison is constant-time (`crypto.subtle.verify`).
   */
  async verify(
    path: string,
    exp: string | number | null | undefined,
    sig: string | null | undefined,
  ): Promise<LinkVerdict> {
    const expText = exp === null || exp === undefined ? "" : String(exp);
    if (!EXP_PATTERN.test(expText) || !sig || !SIG_PATTERN.test(sig)) return "invalid";
    const mac = fromBase64Url(sig);
    // 43 characters carry 258 bits for 256: only the canonical spelling of a MAC is accepted.
    if (!mac || toBase64Url(mac) !== sig) return "invalid";
    const valid = await crypto.subtle.verify("HMAC", await this.#key, mac, message(path, expText));
    if (!valid) return "invalid";
    return Number(expText) * 1000 <= this.#now() ? "expired" : "ok";
  }
}

/**
 * The canonical path of one produced file, relative to its job's directory (folders joined with
 * `/`): `/files/<jobId>/<folder>/…/<name>`, each segment percent-encoded.
 *
 * @throws {TypeError} when the job id or a segment could not be served back (see
 *   {@linkcode isServableFileName}).
 */
export function fileLinkPath(jobId: string, fileName: string): string {
  if (!isJobId(jobId)) throw new TypeError(`not a job id: ${JSON.stringify(jobId)}`);
  const segments = fileName.split("/");
  if (segments.length > MAX_FOLDER_DEPTH + 1 || !segments.every(isServableFileName)) {
    throw new TypeError(`file name cannot be linked: ${JSON.stringify(fileName)}`);
  }
  return `/files/${jobId}/${segments.map(encodeURIComponent).join("/")}`;
}

/** What a bundle link serves: every file of a job as one zip, or a playlist of their links. */
export type BundleKind = "zip" | "m3u8";

/**
 * The canonical path of a job's bundle: `/jobs/<jobId>/<name>.zip` or `.m3u8`, `name` (the
 * download's title, made servable) percent-encoded.
 */
export function bundleLinkPath(jobId: string, name: string, kind: BundleKind): string {
  if (!isJobId(jobId)) throw new TypeError(`not a job id: ${JSON.stringify(jobId)}`);
  const file = `${servableName(name)}.${kind}`;
  return `/jobs/${jobId}/${encodeURIComponent(file)}`;
}

/** A parsed bundle request path. */
export interface BundleTarget {
  jobId: string;
  kind: BundleKind;
  /** The file name the browser saves it as. */
  fileName: string;
  canonicalPath: string;
}

/** Parses the raw path of a bundle request; undefined when it is not one. */
export function parseBundlePath(rawPathname: string): BundleTarget | undefined {
  const match = /^\/jobs\/([^/]+)\/([^/]+)$/.exec(rawPathname);
  if (!match) return undefined;
  const [, jobId = "", encoded = ""] = match;
  if (!isJobId(jobId)) return undefined;
  let fileName: string;
  try {
    fileName = decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
  const kind = fileName.endsWith(".zip") ? "zip" : fileName.endsWith(".m3u8") ? "m3u8" : undefined;
  if (kind === undefined || !isServableFileName(fileName)) return undefined;
  return { jobId, kind, fileName, canonicalPath: `/jobs/${jobId}/${encodeURIComponent(fileName)}` };
}

/** A title as one servable file name (no slashes or control characters, at most 200 bytes). */
function servableName(title: string): string {
  let name = asPathSegment(title);
  while (new TextEncoder().encode(name).length > 200) name = name.slice(0, -1);
  return name === "" || name === "." || name === ".." ? "download" : name;
}

/** A parsed `/files/<jobId>/<name>` request path. */
export interface FileLinkTarget {
  jobId: string;
  /** The decoded file name, relative to the job's directory (folders joined with `/`). */
  fileName: string;
  /** The canonical path the signature covers. */
  canonicalPath: string;
}

/** Folders a file may sit in below its job's directory (an output template may nest some). */
const MAX_FOLDER_DEPTH = 8;

/**
 * Parses the raw (still percent-encoded) path of a request for a file. Returns undefined when it
 * is not `/files/<jobId>/[<folder>/…]<file name>` or a segment could escape the job's directory.
 */
export function parseFileLinkPath(rawPathname: string): FileLinkTarget | undefined {
  const match = /^\/files\/([^/]+)\/(.+)$/.exec(rawPathname);
  if (!match) return undefined;
  const [, jobId = "", encodedName = ""] = match;
  if (!isJobId(jobId)) return undefined;
  const encoded = encodedName.split("/");
  if (encoded.length > MAX_FOLDER_DEPTH + 1) return undefined;
  const segments: string[] = [];
  for (const segment of encoded) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return undefined;
    }
    if (!isServableFileName(decoded)) return undefined;
    segments.push(decoded);
  }
  const fileName = segments.join("/");
  return {
    jobId,
    fileName,
    canonicalPath: `/files/${jobId}/${segments.map(encodeURIComponent).join("/")}`,
  };
}

/**
 * Whether a file name is one path segment that stays inside its directory: not empty, not `.` or
 * `..`, no `/`, `\` or control characters (NUL included), at most 255 bytes.
 */
export function isServableFileName(name: string): boolean {
  if (name === "" || name === "." || name === "..") return false;
  // deno-lint-ignore no-control-regex
  if (/[/\\\u0000-\u001f\u007f]/.test(name)) return false;
  return new TextEncoder().encode(name).length <= 255;
}

/**
 * The full public URL of a signed path: `publicBaseUrl` may carry a base path
 * (`https://x.example/dlbot/`) and any number of trailing slashes.
 */
export function publicFileUrl(publicBaseUrl: string, signedPathAndQuery: string): string {
  const base = new URL(publicBaseUrl);
  const basePath = base.pathname.replace(/\/+$/, "");
  const rest = signedPathAndQuery.startsWith("/") ? signedPathAndQuery : `/${signedPathAndQuery}`;
  return `${base.origin}${basePath}${rest}`;
}

/**
 * The link signing secret: `configured` when set, otherwise the one stored in KV under
 * `signingSecretKey()`, created there (32 random bytes, base64url) when missing. Creation is an
 * atomic check-and-set, so instances sharing one KV all end up with the same secret.
 */
export async function loadOrCreateSigningSecret(kv: Deno.Kv, configured?: string): Promise<string> {
  if (configured) return configured;
  const key = signingSecretKey();
  // Several processes starting at once on one KV file meet here: a conflict or SQLite's
  // "database is locked" is retried like any other check-and-set.
  return await retryCas("loading the link signing secret", async () => {
    const current = await kv.get<unknown>(key);
    if (typeof current.value === "string" && current.value.length >= 32) return current.value;
    // Missing (or unusable, e.g. written by hand): replace it unless someone else got there first.
    const secret = toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
    const result = await kv.atomic().check(current).set(key, secret).commit();
    return result.ok ? secret : undefined;
  });
}

function message(path: string, exp: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`${path}\n${exp}`);
}

/** Base64url without padding. */
export function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}
