import "../../src/runtime/quiet_node_warnings.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../_assert.ts";
import { exists, mainArgs, tempDir } from "../_test_utils.ts";
import { parseInputLine } from "../../src/sandbox/session.ts";
import { childEnv, FAKE_SPOTDL } from "../_fixtures.ts";

const LINK = "https://open.spotify.com/playlist/37i9dQZF1DXcBWIGoYBM5M";
/** Guards against a hung sandbox; the flows take a few seconds (start-up is slower on a loaded machine). */
const OUTPUT_TIMEOUT_MS = 60_000;

/** `dlbot run --sandbox` from source, with piped standard input, as a person would script it. */
class SandboxProcess {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #stdout: Promise<void>;
  readonly #stderr: Promise<string>;
  #output = "";
  #waiters: (() => void)[] = [];

  constructor(cwd: string, env: Record<string, string>) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: mainArgs("run", "--sandbox"),
      cwd,
      clearEnv: true,
      env: childEnv({ USER: "tester", ...env }),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#stdout = this.#child.stdout.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({
        write: (chunk) => {
          this.#output += chunk;
          for (const wake of this.#waiters.splice(0)) wake();
        },
      }),
    );
    this.#stderr = new Response(this.#child.stderr).text();
  }

  /** Standard output so far. */
  get output(): string {
    return this.#output;
  }

  /** Types lines into the sandbox. */
  async send(...lines: string[]): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(lines.map((l) => l + "\n").join("")));
  }

  /** Waits until standard output matches; returns the match. */
  async waitFor(pattern: RegExp): Promise<RegExpExecArray> {
    const deadline = Date.now() + OUTPUT_TIMEOUT_MS;
    for (;;) {
      const match = pattern.exec(this.#output);
      if (match) return match;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`no ${pattern} in the sandbox output:\n${this.#output}`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** Sends a signal to the process. */
  kill(signal: Deno.Signal): void {
    this.#child.kill(signal);
  }

  /** Waits for the process to exit (input left open). */
  async exit(): Promise<{ code: number; stdout: string; stderr: string }> {
    const { code } = await this.#child.status;
    await this.#stdout;
    return { code, stdout: this.#output, stderr: await this.#stderr };
  }

  /** Ends the input and waits for the process to exit. */
  async finish(): Promise<{ code: number; stdout: string; stderr: string }> {
    await this.#writer.close();
    const { code } = await this.#child.status;
    await this.#stdout;
    return { code, stdout: this.#output, stderr: await this.#stderr };
  }

  /** Kills the process if a test failed half-way. */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await this.#writer.close().catch(() => {});
    await this.#child.status;
    await this.#stdout.catch(() => {});
    await this.#stderr.catch(() => "");
  }
}

function assertNoNoise(text: string): void {
  for (const noise of ["DeprecationWarning", "punycode", "    at ", "error: Uncaught"]) {
    assert(!text.includes(noise), `unexpected ${JSON.stringify(noise)} in output:\n${text}`);
  }
}

function isAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

Deno.test("parseInputLine tells sandbox commands, button numbers and chat messages apart", () => {
  assertEquals(parseInputLine("/as 424242"), { kind: "as", userId: 424242 });
  assertEquals(parseInputLine("/as"), {
    kind: "invalid",
    message: "(usage: /as <user id>, for example /as 424242)",
  });
  assertEquals(parseInputLine("/as -5").kind, "invalid");
  assertEquals(parseInputLine(" 2 "), { kind: "press", number: 2 });
  assertEquals(parseInputLine("/wait"), { kind: "wait" });
  assertEquals(parseInputLine("/quit"), { kind: "quit" });
  assertEquals(parseInputLine("   "), { kind: "empty" });
  assertEquals(parseInputLine(`/download ${LINK}`), { kind: "say", text: `/download ${LINK}` });
  assertEquals(parseInputLine("/status"), { kind: "say", text: "/status" });
});

Deno.test("sandbox: a scripted chat downloads a playlist, links work, outsiders are refused", async () => {
  await using dir = await tempDir();
  // The default data dir, "./data" relative to where the bot starts, as a newcomer runs it.
  const dataDir = dir.join("data");
  await using sandbox = new SandboxProcess(dir.path, {
    DLBOT_HTTP_LISTEN: "127.0.0.1:0",
    DLBOT_DOWNLOADER_COMMAND: FAKE_SPOTDL,
    FAKE_SPOTDL_DELAY: "0.2",
  });

  await sandbox.send("/start", `/download ${LINK}`, "/wait");
  await sandbox.waitFor(/\(all jobs done\)/);

  const base = (await sandbox.waitFor(/metrics: (http:\/\/127\.0\.0\.1:\d+)\/metrics/))[1]!;
  const metrics = await fetch(`${base}/metrics`);
  assertEquals(metrics.status, 200);
  assertStringIncludes(await metrics.text(), "dlbot_");
  const ready = await fetch(`${base}/readyz`);
  assertEquals(ready.status, 200, await ready.text());

  const fileUrl = (await sandbox.waitFor(/\((http:\/\/127\.0\.0\.1:\d+\/files\/[^)\s]+)\)/))[1]!;
  assert(fileUrl.startsWith(base), `file link ${fileUrl} is not on ${base}`);
  const file = await fetch(fileUrl);
  assertEquals(file.status, 200);
  assertEquals((await file.bytes()).length, 65536);

  await sandbox.send("/status", "/as 424242", "/start");
  const { code, stdout, stderr } = await sandbox.finish();

  assertEquals(code, 0, `stderr:\n${stderr}`);
  assertNoNoise(stdout + stderr);
  assertStringIncludes(stdout, "You are user 10000. Type /help.");
  assertStringIncludes(stdout, "logs:    ./data/sandbox.log");
  assertStringIncludes(stdout, "you › /start\nbot › Hi tester! Send me a Spotify link");
  assertStringIncludes(stdout, "/download <link> — start a download");
  const jobId = assertMatched(stdout, /bot › ⏳ Job ([a-z0-9]+) is queued/);
  assertStringIncludes(stdout, "      [1 Cancel]");
  assertMatch(stdout, /bot \(edited\) › ⬇️ Downloading[^]*▓+░* \d+%/);
  assertStringIncludes(stdout, `bot (edited) › ✅ Finished Fake Playlist (job ${jobId})`);
  assertStringIncludes(stdout, "bot › ✅ Fake Playlist — 3 tracks\n      3 downloaded");
  assertEquals(stdout.match(/• Artist \w+ - Song \w+\.mp3 \(http:\/\/[^)]+\/files\//g)?.length, 3);
  assertMatch(stdout, new RegExp(`you › /status\\nbot › [^]*${jobId} · succeeded · playlist`));
  assertStringIncludes(stdout, "(now speaking as user 424242)\n[424242] you › /start\n");
  assertStringIncludes(stdout, "[424242] bot › Sorry, this bot is private");
  assertStringIncludes(stdout, "Your Telegram user id is 424242.");

  const log = await Deno.readTextFile(`${dataDir}/sandbox.log`);
  assert(log.split("\n").filter(Boolean).every((line) => JSON.parse(line).msg), "JSON log lines");
  assertStringIncludes(log, '"msg":"connected to Telegram"');
  assert((await Deno.stat(`${dataDir}/sandbox.kv`)).isFile, "the sandbox keeps its own KV file");
  assertEquals(await exists(`${dataDir}/dlbot.kv`), false, "the production KV is left alone");
});

Deno.test("sandbox: pressing the Cancel button by its number stops a running download", async () => {
  await using dir = await tempDir();
  const pidFile = dir.join("spotdl.pid");
  await using sandbox = new SandboxProcess(dir.path, {
    DLBOT_DATA_DIR: dir.join("data"),
    DLBOT_HTTP_LISTEN: "127.0.0.1:0",
    DLBOT_DOWNLOADER_COMMAND: FAKE_SPOTDL,
    FAKE_SPOTDL_MODE: "hang",
    FAKE_SPOTDL_PIDFILE: pidFile,
  });

  await sandbox.send(`/download ${LINK}`);
  const jobId = (await sandbox.waitFor(/bot › ⏳ Job ([a-z0-9]+) is queued/))[1]!;
  await sandbox.waitFor(/Now: Artist One - Song One \(downloading\)/);
  await sandbox.send("1");
  const { code, stdout, stderr } = await sandbox.finish();

  assertEquals(code, 0, `stderr:\n${stderr}`);
  assertNoNoise(stdout + stderr);
  assertStringIncludes(stdout, "you › (pressed [1 Cancel])");
  assertMatch(stdout, /bot \(popup\) › (Stopping…|Cancelled\.)/);
  assertStringIncludes(stdout, `bot › 🚫 Job ${jobId} cancelled.`);
  const pids = (await Deno.readTextFile(pidFile)).split("\n").filter(Boolean).map(Number);
  assert(pids.length > 0, "the downloader wrote its pid");
  for (const pid of pids) assert(!isAlive(pid), `downloader process ${pid} is still running`);
});

Deno.test("sandbox: Ctrl+C leaves cleanly, stops the running download and keeps the job queued", async () => {
  await using dir = await tempDir();
  const pidFile = dir.join("spotdl.pid");
  await Deno.mkdir(dir.join("config"));
  await Deno.writeTextFile(dir.join("config", "bot.toml"), "[shutdown]\ngrace_seconds = 0\n");
  await using sandbox = new SandboxProcess(dir.path, {
    DLBOT_DATA_DIR: dir.join("data"),
    DLBOT_HTTP_LISTEN: "127.0.0.1:0",
    DLBOT_DOWNLOADER_COMMAND: FAKE_SPOTDL,
    FAKE_SPOTDL_MODE: "hang",
    FAKE_SPOTDL_PIDFILE: pidFile,
  });

  await sandbox.send(`/download ${LINK}`);
  await sandbox.waitFor(/Now: Artist One - Song One \(downloading\)/);
  sandbox.kill("SIGINT");
  const { code, stdout, stderr } = await sandbox.exit();

  assertEquals(code, 0, `stderr:\n${stderr}`);
  assertNoNoise(stdout + stderr);
  assertStringIncludes(
    stdout,
    "(unfinished jobs went back to the queue; they continue the next time the sandbox starts)",
  );
  const pids = (await Deno.readTextFile(pidFile)).split("\n").filter(Boolean).map(Number);
  for (const pid of pids) assert(!isAlive(pid), `downloader process ${pid} is still running`);
});

function assertMatched(text: string, pattern: RegExp): string {
  const match = pattern.exec(text);
  assert(match, `expected ${pattern} in:\n${text}`);
  return match[1]!;
}
