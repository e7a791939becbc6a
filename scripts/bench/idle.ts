/**
 * Start-up and idle memory of `dlbot run` (the binary's flags, a fresh data directory) against a
 * bare grammY bot (`scripts/echo_bot.ts`), both polling the Bot API emulator: the time from
 * spawning the process to its first `getUpdates`, and its RSS (`/proc/<pid>/status` VmRSS) after
 * `--idle` seconds of polling with nothing to do. Median of `--runs` runs each.
 *
 * ```sh
 * scripts/deno run -A scripts/bench/idle.ts [--runs 3] [--idle 5]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { TelegramEmulator } from "../../src/emulator/mod.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const { values } = parseArgs({
  args: Deno.args,
  options: { runs: { type: "string", default: "3" }, idle: { type: "string", default: "5" } },
});
const runs = Number(values.runs);
const idleMs = Number(values.idle) * 1000;

async function permissions(): Promise<string[]> {
  return (await Deno.readTextFile(`${ROOT}scripts/permissions.txt`)).split("\n")
    .map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
}

async function rssOf(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** Spawns one bot, times it to its first getUpdates, measures it idle, stops it. */
async function measure(kind: "dlbot" | "bare"): Promise<{ startMs: number; rss: number }> {
  await using emulator = await TelegramEmulator.start();
  const dataDir = await Deno.makeTempDir({ prefix: "dlbot-bench-idle-" });
  const args = kind === "dlbot"
    ? [
      "run",
      "--quiet",
      "--config",
      `${ROOT}deno.json`,
      ...await permissions(),
      `${ROOT}main.ts`,
      "run",
    ]
    : [
      "eval",
      "--quiet",
      "--config",
      `${ROOT}deno.json`,
      `import { startEchoBot } from "${ROOT}scripts/echo_bot.ts";` +
      `await startEchoBot({ token: "${emulator.token}", apiRoot: "${emulator.apiRoot}" });` +
      "await new Promise(() => {});",
    ];
  const polled = Promise.withResolvers<void>();
  const off = emulator.onChange((event) => {
    if (event.type === "call" && event.call.method === "getUpdates") polled.resolve();
  });
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env: {
      TELEGRAM_BOT_TOKEN: emulator.token,
      TELEGRAM_API_ROOT: emulator.apiRoot,
      TELEGRAM_ALLOWED_USER_IDS: "1",
      DLBOT_DATA_DIR: dataDir,
      DLBOT_HTTP_LISTEN: "127.0.0.1:0",
      DLBOT_DOWNLOADER_COMMAND: "/bin/true",
      DLBOT_LOG_LEVEL: "error",
    },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    // A long poll is answered when it ends, so the first getUpdates is seen when it returns:
    // waiting for the emulator to hold one open is the start of polling.
    await Promise.race([
      polled.promise,
      emulator.waitFor(() => emulator.longPollWaiting || undefined, {
        intervalMs: 2,
        timeoutMs: 60_000,
      }),
    ]);
    const startMs = performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    return { startMs, rss: await rssOf(child.pid) };
  } finally {
    off();
    child.kill("SIGKILL");
    await child.status;
    await Deno.remove(dataDir, { recursive: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const figures: Record<string, { startMs: number; rss: number }> = {};
for (const kind of ["bare", "dlbot"] as const) {
  const results = [];
  for (let i = 0; i < runs; i++) results.push(await measure(kind));
  figures[kind] = {
    startMs: median(results.map((r) => r.startMs)),
    rss: median(results.map((r) => r.rss)),
  };
}
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
for (const [kind, f] of Object.entries(figures)) {
  console.log(
    `${kind.padEnd(6)} start to polling ${f.startMs.toFixed(0)} ms, idle RSS ${mib(f.rss)} MiB`,
  );
}
const [bare, dlbot] = [figures.bare, figures.dlbot];
if (bare && dlbot) {
  console.log(
    `dlbot/bare: start ${(dlbot.startMs / bare.startMs).toFixed(2)}x, RSS ${
      (dlbot.rss / bare.rss).toFixed(2)
    }x`,
  );
}
