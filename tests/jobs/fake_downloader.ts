/**
 * A scripted {@linkcode Downloader} for job tests: each run follows a script that can emit events,
 * write files into the job's directory, wait to be released, and see the abort signal.
 *
 * @module
 */
import type { DownloaderEvent } from "../../src/downloader/events.ts";
import type {
  Downloader,
  DownloaderCheck,
  DownloadOutcome,
  DownloadRequest,
} from "../../src/downloader/types.ts";

/** One call of {@linkcode FakeDownloader.run}. */
export class FakeRun {
  readonly request: DownloadRequest;
  readonly #released = Promise.withResolvers<void>();
  readonly #aborted = Promise.withResolvers<void>();
  /** Whether the run saw its abort signal fire. */
  sawAbort = false;

  constructor(request: DownloadRequest) {
    this.request = request;
    const signal = request.signal;
    if (signal.aborted) this.#onAbort();
    else signal.addEventListener("abort", () => this.#onAbort(), { once: true });
  }

  /** Lets a blocked run finish. */
  release(): void {
    this.#released.resolve();
  }

  /** Resolves with "released" or "aborted", whichever comes first. */
  waitForReleaseOrAbort(): Promise<"released" | "aborted"> {
    return Promise.race([
      this.#released.promise.then(() => "released" as const),
      this.#aborted.promise.then(() => "aborted" as const),
    ]);
  }

  /** Emits events in order. */
  emit(...events: DownloaderEvent[]): void {
    for (const event of events) this.request.onEvent(event);
  }

  /** Writes a file into the job's output directory. */
  async writeFile(name: string, content: string): Promise<void> {
    await Deno.writeTextFile(`${this.request.outputDir}/${name}`, content);
  }

  #onAbort(): void {
    this.sawAbort = true;
    this.#aborted.resolve();
  }
}

/** What a run does. */
export type FakeScript = (run: FakeRun) => Promise<DownloadOutcome>;

/** A downloader that follows a script and records every run. */
export class FakeDownloader implements Downloader {
  /** Runs in start order. */
  readonly runs: FakeRun[] = [];
  /** Runs in progress now, and the most there ever were at once. */
  active = 0;
  maxActive = 0;
  #script: FakeScript;
  #waiters: { count: number; resolve: () => void }[] = [];

  constructor(script: FakeScript = succeed()) {
    this.#script = script;
  }

  /** Changes what later runs do. */
  setScript(script: FakeScript): void {
    this.#script = script;
  }

  check(): Promise<DownloaderCheck> {
    return Promise.resolve({ ok: true, path: "/usr/local/bin/fake-spotdl" });
  }

  async run(request: DownloadRequest): Promise<DownloadOutcome> {
    const run = new FakeRun(request);
    this.runs.push(run);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    this.#waiters = this.#waiters.filter((w) => {
      if (this.runs.length < w.count) return true;
      w.resolve();
      return false;
    });
    try {
      return await this.#script(run);
    } finally {
      this.active--;
    }
  }

  /** Resolves once `count` runs have started. */
  waitForRuns(count: number): Promise<void> {
    if (this.runs.length >= count) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiters.push({ count, resolve });
    return promise;
  }

  /** The run for a job, by its output directory's last segment. */
  runFor(jobId: string): FakeRun | undefined {
    return this.runs.find((r) => r.request.outputDir.endsWith(`/${jobId}`));
  }
}

/** Emits the events of a download (spotDL's lines for each song), writes one file per name, exits 0. */
export function succeed(
  files: Record<string, string> = { "Artist - Song.mp3": "audio" },
  title = "Test Album",
): FakeScript {
  return async (run) => {
    const names = Object.keys(files);
    run.emit({ type: "total", total: names.length, title, listKind: "Album" });
    for (const [name, content] of Object.entries(files)) {
      run.emit({ type: "track", name, status: "downloading" });
      await run.writeFile(name, content);
      run.emit({ type: "track", name, status: "done" });
      run.emit({ type: "downloaded", name, sourceUrl: "https://music.youtube.com/watch?v=x" });
    }
    return { kind: "exited", exitCode: 0, stderrTail: [] };
  };
}

/** Writes a partial file, then waits until released (→ `then`) or aborted (→ cancelled). */
export function blockUntilReleased(then: FakeScript = succeed()): FakeScript {
  return async (run) => {
    await run.writeFile("partial.part", "half a song");
    const how = await run.waitForReleaseOrAbort();
    if (how === "aborted") return { kind: "cancelled", stderrTail: ["terminated"] };
    await Deno.remove(`${run.request.outputDir}/partial.part`);
    return await then(run);
  };
}

/** Emits events, writes files, and ends with a fixed outcome. */
export function endWith(
  outcome: DownloadOutcome,
  events: DownloaderEvent[] = [],
  files: Record<string, string> = {},
): FakeScript {
  return async (run) => {
    run.emit(...events);
    for (const [name, content] of Object.entries(files)) await run.writeFile(name, content);
    return outcome;
  };
}
