/**
 * Helpers shared by tests: a Bot API emulator that is always closed, temporary directories that
 * are always removed, and the permission flags the compiled binary runs with.
 *
 * @module
 */
import { TelegramEmulator } from "../src/emulator/mod.ts";
import type { EmulatorOptions } from "../src/emulator/mod.ts";

/** The repository root, ending in "/". */
export const REPO_ROOT: string = new URL("../", import.meta.url).pathname;

/** The permission flags the compiled binary gets (scripts/permissions.txt), one per element. */
export const PERMISSION_FLAGS: string[] = Deno.readTextFileSync(
  `${REPO_ROOT}scripts/permissions.txt`,
).split("\n").map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#"));

/**
 * Arguments for `Deno.execPath()` that run `main.ts <cliArgs>` the way the compiled binary runs:
 * `deno run` with exactly {@linkcode PERMISSION_FLAGS} and the repository's import map.
 */
export function mainArgs(...cliArgs: string[]): string[] {
  return [
    "run",
    "--quiet",
    "--config",
    `${REPO_ROOT}deno.json`,
    ...PERMISSION_FLAGS,
    `${REPO_ROOT}main.ts`,
    ...cliArgs,
  ];
}

/** Runs `fn` with a fresh emulator and closes it afterwards, even when `fn` throws. */
export async function withEmulator<T>(
  fn: (emulator: TelegramEmulator) => Promise<T>,
  options?: EmulatorOptions,
): Promise<T> {
  const emulator = await TelegramEmulator.start(options);
  try {
    return await fn(emulator);
  } finally {
    await emulator.close();
  }
}

/** A temporary directory, removed with everything in it on dispose. */
export interface TempDir extends AsyncDisposable {
  /** Absolute path. */
  path: string;
  /** Joins `parts` onto the directory path. */
  join(...parts: string[]): string;
}

/**
 * Creates a temporary directory; use it with `await using dir = await tempDir();` so it is
 * removed when the test ends.
 */
export async function tempDir(prefix = "dlbot-test-"): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    join: (...parts) => [path, ...parts].join("/"),
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
    },
  };
}

/** Runs `fn` with a temporary directory that is removed afterwards. */
export async function withTempDir<T>(fn: (path: string) => Promise<T>): Promise<T> {
  await using dir = await tempDir();
  return await fn(dir.path);
}

/** Whether a file or directory exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * Whether a process no longer runs: absent, or a zombie waiting to be reaped. Asked through bash,
 * because Deno only lets a fully privileged process read every part of /proc.
 */
export async function isProcessGone(pid: number): Promise<boolean> {
  const script = 'line="$(cat "/proc/$1/stat" 2>/dev/null)" || exit 0; ' +
    'state="${line##*) }"; [ "${state%% *}" = Z ] && exit 0; exit 1';
  const { code } = await new Deno.Command("bash", {
    args: ["-c", script, "is-gone", String(pid)],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
  return code === 0;
}

/** Waits (bounded, as a hang guard) until the process is gone: a kill lands when it is scheduled. */
export async function waitProcessGone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (await isProcessGone(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

/** The track the short link `/good` of {@linkcode withShortLinkServer} leads to. */
export const SHORT_LINK_TRACK_ID = "4cOdK2wGLETKBW3PvgPWqT";

/** A stand-in for spotify.link on loopback: `/good` → open.spotify.com, `/evil` → elsewhere. */
export async function withShortLinkServer<T>(fn: (base: string) => Promise<T>): Promise<T> {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const code = new URL(request.url).pathname.slice(1);
    const targets: Record<string, string> = {
      good: `https://open.spotify.com/track/${SHORT_LINK_TRACK_ID}?si=abc&context=x`,
      evil: `https://evil.example/track/${SHORT_LINK_TRACK_ID}`,
      lookalike: `https://open.spotify.com.evil.example/track/${SHORT_LINK_TRACK_ID}`,
    };
    const target = targets[code];
    if (request.method !== "HEAD") return new Response("HEAD only", { status: 405 });
    return target
      ? new Response(null, { status: 301, headers: { location: target } })
      : new Response("not found", { status: 404 });
  });
  try {
    return await fn(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}
