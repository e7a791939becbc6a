/**
 * Signed, expiring download links for a finished job's files, under the public base URL: for a
 * job with several files first the whole set as one zip and as a playlist of links, then each
 * file in list order.
 *
 * @module
 */
import { type Job, titleOf } from "../jobs/model.ts";
import { bundleLinkPath, fileLinkPath, type LinkSigner, publicFileUrl } from "./signing.ts";

/** One download link; `kind` says whether it is one file or the whole set. */
export interface SignedFileLink {
  name: string;
  url: string;
  kind: "file" | "zip" | "m3u8";
}

/** What {@linkcode fileLinksFor} needs. */
export interface FileLinkOptions {
  signer: LinkSigner;
  /** The public prefix of links (`http.public_base_url`, or the server's own address). */
  publicBase: () => string;
  ttlSeconds: number;
  now: () => number;
}

/** A function giving each file of a job its signed link, valid for `ttlSeconds` from now. */
export function fileLinksFor(options: FileLinkOptions): (job: Job) => Promise<SignedFileLink[]> {
  return async (job) => {
    const expiresAt = Math.floor(options.now() / 1000) + options.ttlSeconds;
    // A worker on another machine has the files: its own server serves them.
    const base = job.result?.servedFrom ?? options.publicBase();
    const url = async (path: string) =>
      publicFileUrl(base, await options.signer.sign(path, expiresAt));
    const files = job.result?.files ?? [];
    const links: SignedFileLink[] = [];
    if (files.length + (job.result?.unlistedFiles ?? 0) > 1) {
      const title = titleOf(job) ?? `${job.kind} ${job.id}`;
      for (const kind of ["zip", "m3u8"] as const) {
        links.push({ name: title, kind, url: await url(bundleLinkPath(job.id, title, kind)) });
      }
    }
    for (const file of files) {
      links.push({
        name: file.name,
        kind: "file",
        url: await url(fileLinkPath(job.id, file.name)),
      });
    }
    return links;
  };
}
