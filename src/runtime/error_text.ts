/**
 * The one way an unknown thrown value becomes text for a log field or a one-line message.
 *
 * @module
 */

/**
 * `error.message` of an `Error` (with its cause's message when it has one, and the class name
 * when `withName`), or `String(value)` for anything else.
 */
export function errorText(error: unknown, options: { withName?: boolean } = {}): string {
  if (!(error instanceof Error)) return String(error);
  const own = options.withName && error.name !== "Error"
    ? `${error.name}: ${error.message}`
    : error.message;
  const cause = error.cause instanceof Error ? error.cause.message : "";
  return cause && !own.includes(cause) ? `${own}: ${cause}` : own;
}
