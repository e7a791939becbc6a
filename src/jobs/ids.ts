/**
 * Job ids: short, URL-safe and unguessable, so they can appear in chat commands and file links.
 *
 * @module
 */

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
/** Largest multiple of the alphabet size below 256: bytes above it are redrawn (no modulo bias). */
const UNBIASED_LIMIT = 256 - (256 % ALPHABET.length);
const ID_PATTERN = /^[a-z0-9]{6,32}$/;

/** Length of ids made by {@linkcode newJobId}. */
export const JOB_ID_LENGTH = 10;

/** A new random job id: 10 characters of `[a-z0-9]` from the system's secure random source. */
export function newJobId(): string {
  let id = "";
  while (id.length < JOB_ID_LENGTH) {
    const bytes = crypto.getRandomValues(new Uint8Array(JOB_ID_LENGTH * 2));
    for (const byte of bytes) {
      if (byte >= UNBIASED_LIMIT) continue;
      id += ALPHABET[byte % ALPHABET.length];
      if (id.length === JOB_ID_LENGTH) break;
    }
  }
  return id;
}

/** Whether text has the shape of a job id (anything else cannot name a job: no lookup needed). */
export function isJobId(text: string): boolean {
  return ID_PATTERN.test(text);
}
