/**
 * Job ids: short, URL-safe and unguessable, so they can appear in chat commands and file links.
 *
 * @module
 */

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
/** Largest multiple of the alphabet size below 256: bytes above it are redrawn (no modulo bias). */
const UNBIASED_LIMIT = 256 - (256 % ALPHABET.length);
/**
 * The shape of a job id as a regular-expression source, for patterns that embed one (callback
 * data, file routes). The only place the shape is written.
 */
export const JOB_ID_SOURCE = "[a-z0-9]{6,32}";
/** A whole job id. */
export const JOB_ID_PATTERN = new RegExp(`^${JOB_ID_SOURCE}$`);

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
  return JOB_ID_PATTERN.test(text);
}
