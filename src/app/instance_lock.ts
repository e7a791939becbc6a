/**
 * One bot per local data directory: two processes on one KV file fight over SQLite's lock
 * ("database is locked" reaches users). The first takes a lock record in the store and renews
 * it; a second is refused at start-up with a clear line. A lock left by a process that died
 * (same host, pid gone) or not renewed for its lifetime is taken over.
 *
 * Deno has no non-blocking file lock, so the lock lives in KV itself, with check-and-set. The
 * record stays after its owner is gone (with its expiry passed), so the next process knows whose
 * leases and outbox claims are dead and takes them over at once instead of waiting them out.
 *
 * @module
 */
import { z } from "zod";
import { retryCas } from "../kv/cas.ts";
import { instanceLockKey } from "../kv/keys.ts";
import { StartupError } from "./startup_error.ts";

const lockSchema = z.object({
  owner: z.string(),
  pid: z.number().int(),
  host: z.string(),
  expiresAt: z.number(),
});
type LockRecord = z.infer<typeof lockSchema>;

/** How long a lock lasts without renewal. */
const LOCK_TTL_MS = 30_000;

/** A held lock; `release()` gives it up (on a clean stop). */
export interface InstanceLock {
  /** This process's id in the lock (use it as the instance id of leases and claims). */
  readonly owner: string;
  /** The id of the process that held the lock before this one, gone now; undefined if none. */
  readonly previousOwner?: string;
  release(): Promise<void>;
}

/** Whether a process of this host still runs (through bash: Deno has no signal 0). */
async function isAlive(pid: number): Promise<boolean> {
  try {
    const { code } = await new Deno.Command("bash", {
      args: ["-c", 'kill -0 "$1" 2>/dev/null', "alive", String(pid)],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return code === 0;
  } catch {
    return true;
  }
}

function hostName(): string {
  try {
    return Deno.hostname();
  } catch {
    return "unknown";
  }
}

/** Takes the data directory's lock or throws {@linkcode StartupError} naming who holds it. */
export async function takeInstanceLock(
  kv: Deno.Kv,
  options: { kvPath: string; now?: () => number },
): Promise<InstanceLock> {
  const now = options.now ?? Date.now;
  const mine: Omit<LockRecord, "expiresAt"> = {
    owner: crypto.randomUUID(),
    pid: Deno.pid,
    host: hostName(),
  };
  const write = async (entry: Deno.KvEntryMaybe<unknown>) =>
    (await kv.atomic().check(entry)
      .set(instanceLockKey(), { ...mine, expiresAt: now() + LOCK_TTL_MS })
      .commit()).ok;
  let previousOwner: string | undefined;
  await retryCas("taking the instance lock", async () => {
    const entry = await kv.get(instanceLockKey());
    const held = lockSchema.safeParse(entry.value);
    previousOwner = held.success && held.data.owner !== mine.owner ? held.data.owner : undefined;
    if (held.success && held.data.expiresAt > now() && held.data.owner !== mine.owner) {
      const stale = held.data.host === mine.host && !(await isAlive(held.data.pid));
      if (!stale) {
        throw new StartupError(
          `another dlbot (pid ${held.data.pid} on ${held.data.host}) is running on ` +
            `${options.kvPath}: stop it first, or give this one its own storage.data_dir`,
        );
      }
    }
    return await write(entry) ? true : undefined;
  });
  const timer = setInterval(async () => {
    try {
      const entry = await kv.get(instanceLockKey());
      const held = lockSchema.safeParse(entry.value);
      if (!held.success || held.data.owner === mine.owner) await write(entry);
    } catch {
      // The next renewal tries again; the lock lasts 30 s.
    }
  }, LOCK_TTL_MS / 3);
  return {
    owner: mine.owner,
    previousOwner,
    async release() {
      clearInterval(timer);
      try {
        const entry = await kv.get(instanceLockKey());
        const held = lockSchema.safeParse(entry.value);
        if (held.success && held.data.owner === mine.owner) {
          await kv.atomic().check(entry).set(instanceLockKey(), { ...mine, expiresAt: 0 })
            .commit();
        }
      } catch {
        // A full disk or a closing store: the lock runs out by itself within 30 s.
      }
    },
  };
}
