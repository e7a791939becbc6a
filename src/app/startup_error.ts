/**
 * Why the bot cannot start, in one line for the admin: which path or address, and what to do.
 * The CLI prints it and exits 1; no stack trace.
 *
 * @module
 */
import { isKvConnectUrl } from "../config/schema.ts";
import { isStoreFull, retryCas } from "../kv/cas.ts";
import { errorText } from "../runtime/error_text.ts";

/** The bot cannot start; `message` names the path or address and the remedy. */
export class StartupError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StartupError";
  }
}

/** Opens the KV store, or says in one line why it cannot be opened. */
export async function openKvStore(path: string, accessToken?: string): Promise<Deno.Kv> {
  // Deno's KV Connect client reads the token from this variable when it connects; the bot may
  // have read it from a file or a systemd credential instead.
  if (accessToken !== undefined && isKvConnectUrl(path)) {
    Deno.env.set("DENO_KV_ACCESS_TOKEN", accessToken);
  }
  try {
    // Processes starting together on a new file may find it locked for a moment.
    return await retryCas(`opening the KV store at ${path}`, () => Deno.openKv(path));
  } catch (error) {
    const reason = errorText(error);
    const remedy = /not a database|malformed|corrupt/i.test(reason)
      ? "the file is damaged: restore it from a backup, or move it aside to start with an empty store"
      : error instanceof Deno.errors.PermissionDenied ||
          /readonly|read-only|permission/i.test(reason)
      ? "the bot's user must be able to write it and its directory"
      : /directory/i.test(reason)
      ? "the path must be a file (storage.kv_path), not a directory"
      : isStoreFull(error)
      ? "is its disk full? free some space; the bot starts once the store can write"
      : "check storage.kv_path / storage.data_dir";
    throw new StartupError(`cannot open the KV store at ${path}: ${reason} (${remedy})`, {
      cause: error,
    });
  }
}

/**
 * Runs `start`, turning a failure to listen into one line that names the address (after
 * `cleanUp`, which closes what was opened before).
 */
export function listening<T>(listen: string, start: () => T, cleanUp: () => void): T {
  try {
    return start();
  } catch (error) {
    cleanUp();
    const reason = errorText(error);
    const remedy = error instanceof Deno.errors.AddrInUse || /in use/i.test(reason)
      ? "another process uses this port; stop it or set http.listen (DLBOT_HTTP_LISTEN)"
      : "set http.listen (DLBOT_HTTP_LISTEN) to an address of this machine";
    throw new StartupError(
      `cannot listen on ${listen}: ${reason.replace(/^cannot listen on \S+: /, "")} (${remedy})`,
      {
        cause: error,
      },
    );
  }
}
