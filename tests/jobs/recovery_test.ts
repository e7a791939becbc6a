import { assert, assertEquals, assertRejects } from "../_assert.ts";
import { JobNotFoundError } from "../../src/errors.ts";
import {
  jobByLinkKey,
  jobByUserKey,
  jobKey,
  jobRecentKey,
  leaseKey,
  runningKey,
} from "../../src/kv/keys.ts";
import { KvJobService } from "../../src/jobs/kv_service.ts";
import { claimNext, requeue } from "../../src/jobs/queue.ts";
import { jobTimings, readJob } from "../../src/jobs/store.ts";
import { JobWorker } from "../../src/jobs/worker.ts";
import { INTERRUPTED_ERROR } from "../../src/jobs/errors.ts";
import { jobOutputDir } from "../../src/jobs/files.ts";
import { recoverInterrupted, sweepOutputs } from "../../src/jobs/recovery.ts";
import { blockUntilReleased, FakeDownloader } from "./fake_downloader.ts";
import {
  albumLink,
  exists,
  type Harness,
  inspectDir,
  manualClock,
  openHarness,
  RecordingLogger,
  RecordingObserver,
  recordWrites,
  sameKey,
  testConfig,
  waitFor,
  withHarness,
} from "./_helpers.ts";
import { isProcessGone } from "../_test_utils.ts";
import { ALICE_REQUESTER as ALICE } from "../_fixtures.ts";

const ADMIN = { userId: 999, isAdmin: true };
const LEASE_MS = 5000;

/** A KV file and a downloads dir that outlive one harness (a bot restart). */
async function withStore(
  fn: (store: { kvPath: string; downloadsDir: string }) => Promise<void>,
): Promise<void> {
  const kvDir = await Deno.makeTempDir({ prefix: "dlbot-kv-" });
  const downloadsDir = await Deno.makeTempDir({ prefix: "dlbot-dl-" });
  try {
    await fn({ kvPath: `${kvDir}/bot.kv`, downloadsDir });
  } finally {
    await Deno.remove(kvDir, { recursive: true });
    await Deno.remove(downloadsDir, { recursive: true });
  }
}

/**
 * Submits a job and claims it `runs` times as a worker that then dies (its lease is never renewed;
 * earlier runs were re-queued as by a shutdown). Leaves a partial file behind.
 */
async function crashWhileRunning(
  store: { kvPath: string; downloadsDir: string },
  options: { claimedAt: number; owner?: string; runs?: number },
): Promise<string> {
  const h = await openHarness(store);
  try {
    const { job } = await h.service.submit({ userId: ALICE.userId, chatId: 1, link: albumLink(1) });
    const runs = options.runs ?? 1;
    for (let i = 1; i <= runs; i++) {
      const claim = await claimNext(h.kv, {
        owner: options.owner ?? "crashed-instance",
        now: options.claimedAt,
        leaseMs: LEASE_MS,
        maxConcurrent: 2,
      });
      assertEquals(claim?.job.id, job.id);
      if (i === runs) break;
      const entry = await readJob(h.kv, job.id);
      assert(entry !== null);
      await requeue(h.kv, entry, claim!.leaseVersionstamp, options.claimedAt);
    }
    await Deno.mkdir(jobOutputDir(store.downloadsDir, job.id), { recursive: true });
    await Deno.writeTextFile(`${jobOutputDir(store.downloadsDir, job.id)}/half.part`, "x");
    return job.id;
  } finally {
    h.kv.close();
  }
}

Deno.test("after a crash, a running job with an expired lease is re-queued and then succeeds", async () => {
  await withStore(async (store) => {
    const jobId = await crashWhileRunning(store, { claimedAt: Date.now() - 10 * LEASE_MS });
    const h = await openHarness(store);
    try {
      assertEquals((await h.service.status(ALICE, jobId)).job.state, "running");
      h.worker.start();
      const done = await h.observer.finishedJob(jobId);
      assertEquals(done.state, "succeeded");
      assertEquals(done.attempts, 2);
      assert(h.observer.updates.some((j) => j.id === jobId && j.state === "queued"));
      assertEquals(done.result?.files.map((f) => f.name), ["Artist - Song.mp3"]);
    } finally {
      await h.close();
    }
  });
});

Deno.test("after a crash, a job that used all its attempts fails and its user is told", async () => {
  await withStore(async (store) => {
    const jobId = await crashWhileRunning(store, {
      claimedAt: Date.now() - 10 * LEASE_MS,
      runs: 2,
    });
    const h = await openHarness({ ...store, jobs: { max_attempts: 2 } });
    try {
      h.worker.start();
      const done = await h.observer.finishedJob(jobId);
      assertEquals(done.state, "failed");
      assertEquals(done.error, INTERRUPTED_ERROR);
      assertEquals(
        done.error?.userMessage,
        "The bot restarted while this download was running, too often to resume it automatically. " +
          "Send /download again to start over.",
      );
      assertEquals(h.downloader.runs.length, 0, "not run again");
      assertEquals(await exists(jobOutputDir(store.downloadsDir, jobId)), false);
      const again = await h.service.submit({ userId: ALICE.userId, chatId: 1, link: albumLink(1) });
      assertEquals(again.created, true, "the user can retry");
    } finally {
      await h.close();
    }
  });
});

Deno.test("recovery leaves a job alone while another instance's lease is live", async () => {
  await withStore(async (store) => {
    const claimedAt = Date.now();
    const jobId = await crashWhileRunning(store, { claimedAt, owner: "other-instance" });
    const kv = await Deno.openKv(store.kvPath);
    try {
      const deps = {
        kv,
        config: testConfig(),
        timings: jobTimings(testConfig()),
        observer: new RecordingObserver(),
        logger: new RecordingLogger(),
        downloadsDir: store.downloadsDir,
        owner: "recovering-instance",
      };
      const early = await recoverInterrupted({ ...deps, now: claimedAt + LEASE_MS - 1 });
      assertEquals(early, { requeued: [], failed: [], cancelled: [] });
      const late = await recoverInterrupted({ ...deps, now: claimedAt + LEASE_MS + 1 });
      assertEquals(late.requeued, [jobId]);
      assertEquals((await kv.get(leaseKey(jobId))).versionstamp, null);
      assertEquals((await kv.get(runningKey(jobId))).versionstamp, null);
    } finally {
      kv.close();
    }
  });
});

Deno.test("a restarted instance with the same id takes back its own jobs at once", async () => {
  await withStore(async (store) => {
    const jobId = await crashWhileRunning(store, { claimedAt: Date.now(), owner: "bot-1" });
    const h = await openHarness({ ...store, instanceId: "bot-1" });
    try {
      h.worker.start();
      assertEquals((await h.observer.finishedJob(jobId)).state, "succeeded");
    } finally {
      await h.close();
    }
  });
});

Deno.test("a cancel sent to another instance stops the download where it runs", async () => {
  await withStore(async (store) => {
    const downloader = new FakeDownloader(blockUntilReleased());
    const runner = await openHarness({ ...store, downloader, instanceId: "runner" });
    const other = await openHarness({ ...store, instanceId: "other" });
    try {
      const { job } = await runner.service.submit({
        userId: ALICE.userId,
        chatId: 1,
        link: albumLink(1),
      });
      runner.worker.start();
      await downloader.waitForRuns(1);
      const requested = await other.service.cancel(ALICE, job.id);
      assertEquals(requested.state, "running");
      assertEquals(requested.cancelRequested, true);
      const done = await runner.observer.finishedJob(job.id);
      assertEquals(done.state, "cancelled");
      assert(downloader.runs[0]!.sawAbort);
      assertEquals(await exists(jobOutputDir(store.downloadsDir, job.id)), false);
    } finally {
      await other.close();
      await runner.close();
    }
  });
});

Deno.test("two workers on one store never run a job twice and together respect max_concurrent", async () => {
  await withStore(async (store) => {
    const downloader = new FakeDownloader(blockUntilReleased());
    const jobs = { max_concurrent: 2, max_active_per_user: 10 };
    const a = await openHarness({ ...store, downloader, jobs, instanceId: "a" });
    const b = await openHarness({ ...store, downloader, jobs, instanceId: "b" });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        ids.push((await a.service.submit({ userId: 1, chatId: 1, link: albumLink(i) })).job.id);
      }
      a.worker.start();
      b.worker.start();
      const finished = () => a.observer.finished.length + b.observer.finished.length;
      for (let released = 0; released < 6; released++) {
        await downloader.waitForRuns(Math.min(6, released + 2));
        downloader.runs[released]!.release();
        await waitFor(`${released + 1} jobs finished`, () => finished() >= released + 1);
      }
      const urls = downloader.runs.map((r) => r.request.url);
      assertEquals(urls.length, 6);
      assertEquals(new Set(urls).size, 6, "each job ran once");
      assertEquals(downloader.maxActive, 2, "two ran at once, never more");
      for (const id of ids) {
        assertEquals((await a.service.status(ADMIN, id)).job.state, "succeeded");
      }
    } finally {
      await a.close();
      await b.close();
    }
  });
});

async function runOne(h: Harness): Promise<string> {
  const { job } = await h.service.submit({ userId: ALICE.userId, chatId: 1, link: albumLink(1) });
  h.worker.start();
  await h.observer.finishedJob(job.id);
  return job.id;
}

Deno.test("a finished job and its history entries expire after retention_days", async () => {
  const clock = manualClock();
  const kv = await Deno.openKv(":memory:");
  const recorded = recordWrites(kv);
  const downloadsDir = await Deno.makeTempDir({ prefix: "dlbot-dl-" });
  const config = testConfig({ retention_days: 3, dedupe_hours: 5 });
  const observer = new RecordingObserver();
  const timings = jobTimings(config);
  const worker = new JobWorker({
    kv: recorded.kv,
    config,
    timings,
    downloader: new FakeDownloader(),
    observer,
    inspectOutput: inspectDir,
    downloadsDir,
    logger: new RecordingLogger(),
    now: clock.now,
    pollIntervalMs: 20,
  });
  const service = new KvJobService({ kv: recorded.kv, config, timings, worker, now: clock.now });
  try {
    const { job } = await service.submit({ userId: ALICE.userId, chatId: 1, link: albumLink(1) });
    worker.start();
    await observer.finishedJob(job.id);
    const expiry = (key: Deno.KvKey) =>
      recorded.sets.filter((s) => sameKey(s.key, key)).at(-1)?.expireIn;
    const threeDays = 3 * 86_400_000;
    assertEquals(expiry(jobKey(job.id)), threeDays);
    assertEquals(expiry(jobByUserKey(ALICE.userId, job.createdAt, job.id)), threeDays);
    assertEquals(expiry(jobRecentKey(job.createdAt, job.id)), threeDays);
    assertEquals(expiry(jobByLinkKey(ALICE.userId, job.url)), 5 * 3_600_000);

    clock.advance(threeDays);
    await assertRejects(() => service.status(ALICE, job.id), JobNotFoundError);
    assertEquals(await service.list(ALICE, 10), []);
  } finally {
    await worker.stop({ graceMs: 0 });
    kv.close();
    await Deno.remove(downloadsDir, { recursive: true });
  }
});

Deno.test("the sweep removes files of expired, failed and unknown jobs and keeps the rest", async () => {
  const clock = manualClock(Date.now());
  const h = await openHarness({ now: clock.now, jobs: { retention_days: 1 } });
  try {
    const kept = await runOne(h);
    const stray = "zzzzzzzzzz";
    await Deno.mkdir(jobOutputDir(h.downloadsDir, stray));
    await Deno.mkdir(`${h.downloadsDir}/not-a-job.d`);
    const sweep = () =>
      sweepOutputs({
        kv: h.kv,
        downloadsDir: h.downloadsDir,
        now: clock.now(),
        retentionMs: 86_400_000,
        logger: h.logger,
      });
    assertEquals(await sweep(), [stray]);
    assert(
      await exists(jobOutputDir(h.downloadsDir, kept)),
      "a fresh succeeded job keeps its files",
    );
    assert(await exists(`${h.downloadsDir}/not-a-job.d`), "other directories are not touched");
    clock.advance(86_400_000);
    assertEquals(await sweep(), [kept]);
    assertEquals(await exists(jobOutputDir(h.downloadsDir, kept)), false);
  } finally {
    await h.close();
  }
});

Deno.test("on start the worker kills downloader processes a killed bot left behind", async () => {
  const downloadsDir = await Deno.makeTempDir({ prefix: "dlbot-dl-" });
  const orphanJob = "orphan0001";
  const orphan = new Deno.Command("sleep", {
    args: ["86400"],
    env: { DLBOT_RUN: `${downloadsDir}/${orphanJob}` },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const unrelated = new Deno.Command("sleep", {
    args: ["86400"],
    env: { DLBOT_RUN: `/elsewhere/downloads/${orphanJob}` },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await withHarness({ downloadsDir }, async (h) => {
      h.worker.start();
      const status = await orphan.status;
      assertEquals(status.signal, "SIGKILL", "the orphan was killed");
    });
    assertEquals(await isProcessGone(unrelated.pid), false, "another data dir's process stays");
  } finally {
    try {
      unrelated.kill("SIGKILL");
    } catch {
      // gone
    }
    await unrelated.status;
    await Deno.remove(downloadsDir, { recursive: true });
  }
});
