/**
 * Spotify link validation and normalisation. User text never reaches a shell: only the canonical
 * URL built here is handed to the downloader, as one argument.
 *
 * @module
 */
import { InvalidLinkError } from "../errors.ts";

/** What a Spotify link points at. */
export type SpotifyKind = "track" | "album" | "playlist" | "artist";

/** A validated Spotify link in canonical form. */
export interface SpotifyLink {
  kind: SpotifyKind;
  /** Spotify's base-62 id (22 characters). */
  id: string;
  /** `https://open.spotify.com/<kind>/<id>`: no locale segment, no query string. */
  url: string;
}

/** An example shown to people who send something else. */
export const EXAMPLE_LINK = "https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy";

const KINDS: readonly SpotifyKind[] = ["track", "album", "playlist", "artist"];
const ID = /^[A-Za-z0-9]{22}$/;
const MAX_INPUT = 2048;

function isKind(value: string): value is SpotifyKind {
  return (KINDS as readonly string[]).includes(value);
}

function canonical(kind: SpotifyKind, id: string): SpotifyLink {
  return { kind, id, url: `https://open.spotify.com/${kind}/${id}` };
}

function reject(input: string, reason: string): never {
  throw new InvalidLinkError(
    `${reason}\nSend a Spotify track, album, playlist or artist link, for example:\n${EXAMPLE_LINK}`,
    input,
  );
}

/**
 * Parses a Spotify link or URI into its canonical form.
 *
 * Accepts `https://open.spotify.com/[intl-xx/]<kind>/<id>[?…]` (also `http://`, no scheme, or
 * `play.spotify.com`), and `spotify:<kind>:<id>`. Throws {@linkcode InvalidLinkError} otherwise.
 */
export function parseSpotifyLink(input: string): SpotifyLink {
  const text = input.trim();
  if (text === "") reject(input, "That message has no link in it.");
  if (text.length > MAX_INPUT) reject(input, "That link is far too long to be a Spotify link.");
  if (/\s/.test(text)) reject(input, "Send one link at a time.");

  if (/^spotify:/i.test(text)) {
    const parts = text.split(":");
    const kind = parts[1]?.toLowerCase() ?? "";
    const id = parts[2] ?? "";
    if (parts.length !== 3 || !isKind(kind)) {
      reject(input, "That Spotify URI is not a track, album, playlist or artist.");
    }
    if (!ID.test(id)) reject(input, "That Spotify URI has a malformed id.");
    return canonical(kind, id);
  }

  if (!/[.:/]/.test(text)) reject(input, "That is not a link.");
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`);
  } catch {
    reject(input, "That is not a link.");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    reject(input, "That is not a web link.");
  }
  const host = url.hostname.toLowerCase();
  if (host !== "open.spotify.com" && host !== "play.spotify.com") {
    reject(input, "Only Spotify links are supported.");
  }
  if (url.username || url.password || (url.port && url.port !== "443" && url.port !== "80")) {
    reject(input, "That Spotify link is malformed.");
  }
  const segments = url.pathname.split("/").filter((s) => s !== "");
  if (segments[0] && /^intl-[a-z]{2}(-[a-z]{2})?$/i.test(segments[0])) segments.shift();
  if (segments[0] === "embed") segments.shift();
  const kind = segments[0]?.toLowerCase() ?? "";
  const id = segments[1] ?? "";
  if (segments.length !== 2 || !isKind(kind)) {
    reject(input, "That Spotify link is not a track, album, playlist or artist.");
  }
  if (!ID.test(id)) reject(input, "That Spotify link has a malformed id.");
  return canonical(kind, id);
}
