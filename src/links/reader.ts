/**
 * Spotify links in whatever a user sends: "Listen to this on Spotify: <link>", several links in
 * one message, and `spotify.link/…` short links (what the Spotify app shares), which are resolved
 * by one HEAD request whose redirect must lead to `open.spotify.com`. Nothing but the canonical
 * URL from {@linkcode parseSpotifyLink} ever reaches the downloader.
 *
 * @module
 */
import { InvalidLinkError } from "../errors.ts";
import { parseSpotifyLink, type SpotifyLink } from "./spotify.ts";

/** Links, short links and URIs as they stand in a text (trailing punctuation is cut off). */
const CANDIDATE =
  /(?<![\w./@-])(?:(?:https?:\/\/)?(?:(?:open|play)\.spotify\.com|spotify\.link)\/[^\s<>"']+|spotify:[a-z]+:[A-Za-z0-9]+)/gi;
const TRAILING = /[).,!?;:\]}»”’]+$/;
const SHORT = /^(?:https?:\/\/)?spotify\.link\/([A-Za-z0-9_-]{1,64})\/?$/i;

/** What {@linkcode LinkReader} found in a message. */
export interface ReadLinks {
  /** Valid links, in the order they appear, without repeats. */
  links: SpotifyLink[];
  /** One refusal per link that is not valid (or did not resolve). */
  refused: InvalidLinkError[];
  /** Links beyond the per-message limit, not taken. */
  ignored: number;
  /** The per-message limit. */
  limit: number;
}

/** Options of {@linkcode LinkReader}. */
export interface LinkReaderOptions {
  /** Where short links are resolved (`links.short_link_base`); tests use a local server. */
  shortLinkBase: string;
  /** Links taken from one message (`links.max_per_message`). */
  maxPerMessage: number;
  /** Time allowed for one short link. */
  timeoutMs?: number;
  /** The HTTP client (tests may pass another). */
  fetch?: typeof fetch;
}

/** Finds and validates the Spotify links of a message. */
export class LinkReader {
  readonly #options: LinkReaderOptions;

  constructor(options: LinkReaderOptions) {
    this.#options = options;
  }

  /** Whether a text has anything that looks like a Spotify link. */
  static mentionsSpotify(text: string): boolean {
    return candidates(text).length > 0;
  }

  /** Every Spotify link in `text`; see {@linkcode ReadLinks}. */
  async read(text: string): Promise<ReadLinks> {
    const found = candidates(text);
    const max = this.#options.maxPerMessage;
    const result: ReadLinks = {
      links: [],
      refused: [],
      ignored: Math.max(0, found.length - max),
      limit: max,
    };
    for (const candidate of found.slice(0, max)) {
      try {
        const link = parseSpotifyLink(await this.#expand(candidate));
        if (!result.links.some((l) => l.url === link.url)) result.links.push(link);
      } catch (error) {
        if (!(error instanceof InvalidLinkError)) throw error;
        result.refused.push(error);
      }
    }
    return result;
  }

  /** A short link's target (a long link as it is). */
  async #expand(candidate: string): Promise<string> {
    const short = SHORT.exec(candidate);
    if (!short) return candidate;
    const url = `${this.#options.shortLinkBase.replace(/\/+$/, "")}/${short[1]}`;
    let location: string | null;
    try {
      const response = await (this.#options.fetch ?? fetch)(url, {
        method: "HEAD",
        redirect: "manual",
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 5_000),
      });
      await response.body?.cancel();
      location = response.status >= 300 && response.status < 400
        ? response.headers.get("location")
        : null;
    } catch {
      throw shortLinkError(candidate, "That Spotify short link could not be opened right now.");
    }
    if (location === null) {
      throw shortLinkError(candidate, "That Spotify short link does not lead anywhere.");
    }
    if (!isOpenSpotify(location)) {
      throw shortLinkError(candidate, "That short link does not lead to a Spotify page.");
    }
    return location;
  }
}

/** The link-like pieces of a text. */
function candidates(text: string): string[] {
  return [...text.matchAll(CANDIDATE)].map((m) => m[0].replace(TRAILING, ""));
}

function isOpenSpotify(location: string): boolean {
  try {
    const url = new URL(location);
    return url.protocol === "https:" && url.hostname === "open.spotify.com" && url.port === "";
  } catch {
    return false;
  }
}

function shortLinkError(input: string, reason: string): InvalidLinkError {
  return new InvalidLinkError(
    `${reason} Open it in Spotify and share the link again, or paste the open.spotify.com link.`,
    input,
  );
}
