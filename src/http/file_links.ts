/**
 * Signed, expiring download links for a finished job's files, under the public base URL.
 *
 * @module
 */
import type { Job } from "../jobs/model.ts";
import { fileLinkPath, type LinkSigner, publicFileUrl } from "./signing.ts";

/** One download link. */
export interface SignedFileLink {
  name: string;
  url: string;
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
    return await Promise.all((job.result?.files ?? []).map(async (file) => ({
      name: file.name,
      url: publicFileUrl(
        options.publicBase(),
        await options.signer.sign(fileLinkPath(job.id, file.name), expiresAt),
      ),
    })));
  };
}
