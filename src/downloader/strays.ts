/**
 * Finding every process a download started, wherever it went: each run's environment carries
 * `DLBOT_RUN=<the run's output directory>`, which children inherit even when they leave the
 * process group (`setsid`). `/proc/<pid>/environ` is read to find them; systemd's control group
 * covers only the bot's own service, not a crash of the bot under another supervisor.
 *
 * @module
 */

/** The environment variable that marks a run's processes. */
export const RUN_MARKER = "DLBOT_RUN";

/** A process carrying a run marker. */
export interface MarkedProcess {
  pid: number;
  /** The marker's value: the run's output directory. */
  marker: string;
}

/**
 * Lists `pid<TAB>marker` for every readable process environment. Run through bash because Deno
 * lets only a fully privileged process read `/proc/<pid>/environ`; bash's own `read` keeps it to
 * one process however many there are.
 */
const SCAN = `for f in /proc/[0-9]*/environ; do
  pid=\${f#/proc/}; pid=\${pid%/environ}
  while IFS= read -r -d '' v; do
    case "$v" in ${RUN_MARKER}=*) printf '%s\\t%s\\n' "$pid" "\${v#${RUN_MARKER}=}"; break ;; esac
  done < "$f" 2>/dev/null
done`;

/** Every process whose environment has a {@linkcode RUN_MARKER} (empty where that cannot be read). */
export async function markedProcesses(): Promise<MarkedProcess[]> {
  let stdout: Uint8Array;
  try {
    const output = await new Deno.Command("bash", {
      args: ["-c", SCAN],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    stdout = output.stdout;
  } catch {
    return [];
  }
  const found: MarkedProcess[] = [];
  for (const line of new TextDecoder().decode(stdout).split("\n")) {
    const tab = line.indexOf("\t");
    const pid = Number(line.slice(0, tab));
    if (tab <= 0 || !Number.isSafeInteger(pid) || pid === Deno.pid) continue;
    found.push({ pid, marker: line.slice(tab + 1) });
  }
  return found;
}

/** Sends SIGKILL to every marked process for which `isStray(marker)` holds; returns their pids. */
export async function killStrays(isStray: (marker: string) => boolean): Promise<number[]> {
  const killed: number[] = [];
  for (const process of await markedProcesses()) {
    if (!isStray(process.marker)) continue;
    try {
      Deno.kill(process.pid, "SIGKILL");
      killed.push(process.pid);
    } catch {
      // Already gone.
    }
  }
  return killed;
}
