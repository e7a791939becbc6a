/**
 * Signals for a downloader and everything it started (its process group), and waiting with a bound.
 *
 * @module
 */
import type { DownloaderEvent } from "./events.ts";

/** Unix: the child leads its own process group, so signals reach its children too. */
export const USE_PROCESS_GROUPS = Deno.build.os !== "windows";

/** The text an event adds to the outcome's tail of lines (failures and unrecognised lines). */
export function eventDetail(event: DownloaderEvent): string | undefined {
  switch (event.type) {
    case "unknown":
      return event.line;
    case "error":
    case "fatal":
      return `${event.errorClass}: ${event.message}`;
    case "song_error":
      return `${event.songUrl} - ${event.errorClass}: ${event.message}`;
    default:
      return undefined;
  }
}

/** Signals a whole process group; false when there is none. */
export function signalGroup(pid: number, signal: Deno.Signal): boolean {
  try {
    Deno.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Signals the child and its group (or just the child without groups). */
export function signalTree(child: Deno.ChildProcess, signal: Deno.Signal): void {
  if (USE_PROCESS_GROUPS && signalGroup(child.pid, signal)) return;
  try {
    child.kill(signal);
  } catch {
    // Already exited.
  }
}

/** Whether `promise` settles within `ms`. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
