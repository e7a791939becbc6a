/**
 * Shared pieces for job tests: configuration, links, a recording observer and logger, a harness
 * wiring KV, service and worker, and a KV wrapper that records write options.
 *
 * @module
 */
import { type Config, type ConfigInput, configSchema } from "../../src/config/schema.ts";
import type { Job } from "../../src/jobs/model.ts";
import type { JobObserver } from "../../src/jobs/service.ts";
import { KvJobService } from "../../src/jobs/kv_service.ts";
import { type InspectedOutput, type JobMetricsSink, JobWorker } from "../../src/jobs/worker.ts";
import type { Log } from "../../src/log/logger.ts";
import { jobTimings } from "../../src/jobs/store.ts";
import type { SpotifyLink } from "../../src/links/spotify.ts";
import { FakeDownloader } from "./fake_downloader.ts";

/** A configuration with the given `jobs` settings and defaults elsewhere. */
export function testConfig(jobs: NonNullable<ConfigInput["jobs"]> = {}): Config {
  return configSchema.parse({ jobs: { lease_seconds: 5, ...jobs } });
}

/** A distinct, valid album link per number. */
export function albumLink(n: number): SpotifyLink {
  const id = `album${String(n).padStart(17, "0")}`;
  return { kind: "album", id, url: `https://open.spotify.com/album/${id}` };
}

/** Records observer calls and lets tests wait for final states. */
export class RecordingObserver implements JobObserver {
  readonly updates: Job[] = [];
  readonly finished: Job[] = [];
  #waiters: { test: (job: Job) => boolean; resolve: (job: Job) => void }[] = [];

  onUpdate(job: Job): void {
    this.updates.push(job);
  }

  onFinished(job: Job): Promise<void> {
    this.finished.push(job);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.test(job)) return true;
      w.resolve(job);
      return false;
    });
    return Promise.resolve();
  }

  /** Resolves with the job once `onFinished` was called for it. */
  finishedJob(jobId: string): Promise<Job> {
    const seen = this.finished.find((j) => j.id === jobId);
    if (seen) return Promise.resolve(seen);
    const { promise, resolve } = Promise.withResolvers<Job>();
    this.#waiters.push({ test: (job) => job.id === jobId, resolve });
    return promise;
  }

  /** Resolves once `count` jobs have finished. */
  async finishedCount(count: number): Promise<void> {
    while (this.finished.length < count) {
      const { promise, resolve } = Promise.withResolvers<Job>();
      this.#waiters.push({ test: () => true, resolve });
      await promise;
    }
  }
}

/** One recorded log call. */
export interface LogRecord {
  level: "debug" | "info" | "warn" | "error";
  message: string;
  props?: Record<string, unknown>;
}

/** A logger that keeps its records. */
export class RecordingLogger implements Log {
  readonly records: LogRecord[] = [];
  debug(message: string, props?: Record<string, unknown>): void {
    this.records.push({ level: "debug", message, props });
  }
  info(message: string, props?: Record<string, unknown>): void {
    this.records.push({ level: "info", message, props });
  }
  warn(message: string, props?: Record<string, unknown>): void {
    this.records.push({ level: "warn", message, props });
  }
  error(message: string, props?: Record<string, unknown>): void {
    this.records.push({ level: "error", message, props });
  }
}

/** Lists the files of a directory with their sizes. */
export async function inspectDir(dir: string): Promise<InspectedOutput> {
  const files = [];
  let totalBytes = 0;
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile) continue;
    const size = (await Deno.stat(`${dir}/${entry.name}`)).size;
    files.push({ name: entry.name, size });
    totalBytes += size;
  }
  files.sort((a, b) => a.name.localeCompare(b.name));
  return { files, totalBytes };
}

export { exists } from "../_test_utils.ts";

/** Options for {@linkcode openHarness}. */
export interface HarnessOptions {
  jobs?: NonNullable<ConfigInput["jobs"]>;
  downloader?: FakeDownloader;
  /** KV path; ":memory:" by default. */
  kvPath?: string;
  downloadsDir?: string;
  now?: () => number;
  instanceId?: string;
  isDraining?: () => boolean;
  metrics?: JobMetricsSink;
}

/** KV, service, worker (not started), fakes and a temp downloads dir; `close()` undoes it all. */
export interface Harness {
  kv: Deno.Kv;
  config: Config;
  service: KvJobService;
  worker: JobWorker;
  downloader: FakeDownloader;
  observer: RecordingObserver;
  logger: RecordingLogger;
  downloadsDir: string;
  close(): Promise<void>;
}

/** Builds a {@linkcode Harness}. */
export async function openHarness(options: HarnessOptions = {}): Promise<Harness> {
  const config = testConfig(options.jobs);
  const kv = await Deno.openKv(options.kvPath ?? ":memory:");
  const ownDir = options.downloadsDir === undefined;
  const downloadsDir = options.downloadsDir ?? await Deno.makeTempDir({ prefix: "dlbot-jobs-" });
  const downloader = options.downloader ?? new FakeDownloader();
  const observer = new RecordingObserver();
  const logger = new RecordingLogger();
  const timings = jobTimings(config);
  const worker = new JobWorker({
    kv,
    config,
    timings,
    downloader,
    observer,
    inspectOutput: inspectDir,
    downloadsDir,
    logger,
    now: options.now,
    instanceId: options.instanceId,
    metrics: options.metrics,
    pollIntervalMs: 20,
  });
  const service = new KvJobService({
    kv,
    config,
    timings,
    worker,
    now: options.now,
    isDraining: options.isDraining,
  });
  return {
    kv,
    config,
    service,
    worker,
    downloader,
    observer,
    logger,
    downloadsDir,
    async close() {
      await worker.stop({ graceMs: 0 });
      kv.close();
      if (ownDir) await Deno.remove(downloadsDir, { recursive: true });
    },
  };
}

/** One `set` made through {@linkcode recordWrites}. */
export interface RecordedSet {
  key: Deno.KvKey;
  expireIn?: number;
}

/** Wraps a KV so every `set` inside `atomic()` is recorded with its `expireIn`. */
export function recordWrites(kv: Deno.Kv): { kv: Deno.Kv; sets: RecordedSet[] } {
  const sets: RecordedSet[] = [];
  const wrapOp = (op: Deno.AtomicOperation): Deno.AtomicOperation => {
    const proxy: Deno.AtomicOperation = new Proxy(op, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        if (prop === "set") {
          return (key: Deno.KvKey, v: unknown, opts?: { expireIn?: number }) => {
            sets.push({ key, expireIn: opts?.expireIn });
            target.set(key, v, opts);
            return proxy;
          };
        }
        return (...args: unknown[]) => {
          const result = value.apply(target, args);
          return result === target ? proxy : result;
        };
      },
    });
    return proxy;
  };
  const wrapped = new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop === "atomic") return () => wrapOp(target.atomic());
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { kv: wrapped, sets };
}

/** Two keys are equal part by part. */
export function sameKey(a: Deno.KvKey, b: Deno.KvKey): boolean {
  return a.length === b.length && a.every((part, i) => part === b[i]);
}

/**
 * Polls until `condition` holds. The cap only turns a hang into a failure; it is not what tests
 * measure.
 */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** A clock the test moves by hand. */
export function manualClock(start = 1_700_000_000_000) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number): void {
      now += ms;
    },
  };
}

/** Records what the worker reports to metrics. */
export class RecordingMetrics implements JobMetricsSink {
  readonly finished: { state: string; durationSeconds: number }[] = [];
  queueDepth?: number;
  running?: number;
  jobFinished(state: "succeeded" | "failed" | "cancelled", durationSeconds: number): void {
    this.finished.push({ state, durationSeconds });
  }
  setQueueDepth(n: number): void {
    this.queueDepth = n;
  }
  setRunning(n: number): void {
    this.running = n;
  }
  readonly spotifyWaits: string[] = [];
  spotifyPauseUntil?: number;
  spotifyWait(kind: "short" | "pause"): void {
    this.spotifyWaits.push(kind);
  }
  setSpotifyPauseUntil(epochMs: number): void {
    this.spotifyPauseUntil = epochMs;
  }
}

/** Runs `fn` with a fresh harness and closes it afterwards, even when `fn` throws. */
export async function withHarness(
  options: HarnessOptions,
  fn: (h: Harness) => Promise<void>,
): Promise<void> {
  const h = await openHarness(options);
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}
