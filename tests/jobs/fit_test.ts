import { assert, assertEquals } from "../_assert.ts";
import { fitJob, JOB_RECORD_BUDGET, recordSize } from "../../src/jobs/fit.ts";
import { jobKey } from "../../src/kv/keys.ts";
import { makeJob } from "../_fixtures.ts";
import { FakeDownloader } from "./fake_downloader.ts";
import { albumLink, withHarness } from "./_helpers.ts";
import { ALICE_REQUESTER as ALICE } from "../_fixtures.ts";

const long = (n: number, c = "é") => c.repeat(n);

/** A job with every field at its largest. */
function largestJob() {
  return makeJob({
    state: "succeeded",
    progress: {
      title: long(5_000),
      current: long(5_000),
      inFlight: Array.from({ length: 32 }, (_, i) => `${long(200)}${i}`),
      failures: Array.from(
        { length: 50 },
        (_, i) => ({ name: `${long(190)}${i}`, reason: long(200) }),
      ),
      failed: 400,
    },
    error: { code: "downloader_failed", userMessage: long(5_000), detail: long(200_000) },
    result: {
      title: long(5_000),
      files: Array.from({ length: 3_000 }, (_, i) => ({ name: `${long(100)}/${i}.mp3`, size: 1 })),
      totalBytes: 3_000,
    },
  });
}

Deno.test("fitJob() leaves a job that fits alone", () => {
  const job = makeJob();
  assertEquals(fitJob(job), job);
});

Deno.test("a job at its largest is cut to fit one KV value, counting the files it cannot list", async () => {
  const job = largestJob();
  assert(recordSize(job) > 65_536, "the unfitted job would not fit");
  const fitted = fitJob(job);
  assert(recordSize(fitted) <= JOB_RECORD_BUDGET, `${recordSize(fitted)} bytes`);
  const files = fitted.result?.files.length ?? 0;
  assert(files > 0 && files < 3_000);
  assertEquals(files + (fitted.result?.unlistedFiles ?? 0), 3_000);
  assertEquals(fitted.error?.detail?.endsWith(long(10)), true, "the end of the detail is kept");
  const kv = await Deno.openKv(":memory:");
  try {
    await kv.set(jobKey(fitted.id), fitted);
    assertEquals((await kv.get(jobKey(fitted.id))).versionstamp !== null, true);
  } finally {
    kv.close();
  }
});

Deno.test("a failed run with a flood of errors and huge stderr lines is reported as itself, not re-run", async () => {
  const downloader = new FakeDownloader((run) => {
    run.emit({ type: "total", total: 99, title: long(3_000), listKind: "Playlist" });
    for (let i = 0; i < 500; i++) {
      run.emit({
        type: "error",
        errorClass: "LookupError",
        message: `No results found for song: ${long(300)}${i}`,
        track: `${long(300)}${i}`,
      });
    }
    return Promise.resolve({
      kind: "exited",
      exitCode: 1,
      stderrTail: Array.from({ length: 20 }, () => long(10_000, "x")),
    });
  });
  await withHarness({ downloader }, async (h) => {
    const { job } = await h.service.submit({ userId: ALICE.userId, chatId: 1, link: albumLink(1) });
    h.worker.start();
    const done = await h.observer.finishedJob(job.id);
    assertEquals([done.state, done.error?.code], ["failed", "downloader_failed"]);
    assertEquals(done.progress.failed, 500);
    assertEquals(downloader.runs.length, 1, "run once");
    assertEquals((await h.service.status(ALICE, job.id)).job.state, "failed");
  });
});
