/**
 * Reading a webhook request safely: a body limit (Telegram's updates are small, so a huge body
 * is never read whole) and a secret-token comparison without an early exit.
 *
 * @module
 */

/** Telegram's updates are small; a megabyte is generous. */
export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;

/** The request body as text, or undefined (unread past the limit) when it is larger. */
export async function readLimited(request: Request, limit: number): Promise<string | undefined> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) {
    await request.body?.cancel();
    return undefined;
  }
  const reader = request.body?.getReader();
  if (reader === undefined) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder().decode(bytes);
}

/** Compares without an early exit, so response time does not reveal how much matched. */
export function constantTimeEqual(given: string, expected: Uint8Array): boolean {
  const bytes = new TextEncoder().encode(given);
  let diff = bytes.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) diff |= (bytes[i] ?? 0) ^ (expected[i] ?? 0);
  return diff === 0;
}
