import { assert, assertEquals, assertStringIncludes } from "../_assert.ts";
import { jobOutputDir } from "../../src/jobs/files.ts";
import {
  blockUntilReleased,
  endWith,
  FakeDownloader,
  type FakeScript,
  succeed,
} from "./fake_downloader.ts";
import {
  albumLink,
  exists,
  type Harness,
  manualClock,
  openHarness,
  RecordingMetrics,
  waitFor,
  withHarness,
} from "./_helpers.ts";
import { ALICE_REQUESTER as ALICE } from "../_fixtures.ts";

function submit(h: Harness, n: number, userId = ALICE.userId) {
  return h.service.submit({ userId, chatId: userId, link: albumLink(n) });
}

Deno.test("a queued job runs to success with its files, title and full progress", async () => {
  const downloader = new FakeDownloader(
    succeed({ "A - One.mp3": "11111", "A - Two.mp3": "222" }, "Greatest Hits"),
  );
  await withHarness({ downloader }, async (h) => {
    const { job } = await submit(h, 1);
    h.worker.start();
    const done = await h.observer.finishedJob(job.id);
    assertEquals(done.state, "succeeded");
    assertEquals(done.attempts, 1);
    assertEquals(done.result?.title, "Greatest Hits");
    assertEquals(done.result?.files, [{ name: "A - One.mp3", size: 5 }, {
      name: "A - Two.mp3",
      size: 3,
    }]);
    assertEquals(done.result?.totalBytes, 8);
    assertEquals(done.progress.done, 2);
    assertEquals(done.progress.percent, 100);
    assertEquals(done.error, undefined);
    assertEquals(
      await Deno.readTextFile(`${jobOutputDir(h.downloadsDir, job.id)}/A - One.mp3`),
      "11111",
    );
    assertEquals((await h.service.status(ALICE, job.id)).job.state, "succeeded");
    assert(h.observer.updates.some((j) => j.id === job.id && j.state === "running"));
    assert(h.observer.updates.some((j) => j.progress.currentStatus === "Downloading"));
    assertEquals(h.observer.finished.length, 1, "onFinished once per final state");
  });
});

Deno.test("submit() within the dedupe window returns the succeeded job; after it, a new one", async () => {
  const clock = manualClock(Date.now());
  await withHarness({ now: clock.now, jobs: { dedupe_hours: 2 } }, async (h) => {
    const { job } = await submit(h, 1);
    h.worker.start();
    await h.observer.finishedJob(job.id);
    clock.advance(60 * 60 * 1000);
    const repeat = await submit(h, 1);
    assertEquals(repeat.created, false);
    assertEquals(repeat.job.id, job.id);
    assertEquals(repeat.job.state, "succeeded");
    clock.advance(61 * 60 * 1000);
    const fresh = await submit(h, 1);
    assertEquals(fresh.created, true);
    assert(fresh.job.id !== job.id);
  });
});

Deno.test("a failed download is reported and a repeat submit creates a new job", async () => {
  const downloader = new FakeDownloader(
    endWith({ kind: "exited", exitCode: 2, stderrTail: ["Traceback", "KeyError: 'x'"] }, [], {
      "partial.mp3": "x",
    }),
  );
  await withHarness({ downloader }, async (h) => {
    const { job } = await submit(h, 1);
    h.worker.start();
    const done = await h.observer.finishedJob(job.id);
    assertEquals(done.state, "failed");
    assertEquals(done.error?.code, "downloader_failed");
    assertEquals(
      done.error?.userMessage,
      "The downloader stopped with an error. Please try again later.",
    );
    assertStringIncludes(done.error?.detail ?? "", "exit code 2");
    assertStringIncludes(done.error?.detail ?? "", "KeyError: 'x'");
    assertEquals(
      await exists(jobOutputDir(h.downloadsDir, job.id)),
      false,
      "partial files removed",
    );
    const again = await submit(h, 1);
    assertEquals(again.created, true);
  });
});

const outcomeCases: {
  name: string;
  script: FakeScript;
  code: string;
  userMessage: string;
}[] = [
  {
    name: "a timeout fails the job with the configured limit",
    script: endWith({ kind: "timeout", stderrTail: [] }, [], { "half.mp3": "x" }),
    code: "timeout",
    userMessage: "The download took longer than 60 minutes and was stopped.",
  },
  {
    name: "a clean exit with nothing downloaded is 'no results'",
    script: endWith({ kind: "exited", exitCode: 0, stderrTail: [] }, [
      { type: "total", total: 1, title: "X" },
      { type: "error", errorClass: "LookupError", message: "No results found for song: X" },
    ]),
    code: "no_results",
    userMessage: "Nothing could be downloaded: spotDL found no matching audio for this link. " +
      "Check the link opens in Spotify, or try again later.",
  },
  {
    name: "a missing downloader is reported without internals",
    script: endWith({ kind: "missing", message: "spotdl: not found on PATH" }),
    code: "downloader_missing",
    userMessage: "The downloader is not installed on the server. The bot admin has been told.",
  },
];

for (const c of outcomeCases) {
  Deno.test(`worker: ${c.name}`, async () => {
    const downloader = new FakeDownloader(c.script);
    await withHarness({ downloader }, async (h) => {
      const { job } = await submit(h, 1);
      h.worker.start();
      const done = await h.observer.finishedJob(job.id);
      assertEquals(done.state, "failed");
      assertEquals(done.error?.code, c.code);
      assertEquals(done.error?.userMessage, c.userMessage);
      assertEquals(await exists(jobOutputDir(h.downloadsDir, job.id)), false);
      const finished = h.logger.records.find((r) => r.message === "job finished");
      const serverFault = ["timeout", "downloader_missing", "internal"].includes(c.code);
      assertEquals(finished?.level, serverFault ? "warn" : "info", `${c.code} logged`);
      if (c.code === "downloader_missing") {
        const logged = h.logger.records.find((r) => r.level === "error");
        assertStringIncludes(String(logged?.props?.hint), "Install spotDL");
      }
    });
  });
}

Deno.test("jobs start in submit order and never more than max_concurrent run at once", async () => {
  const downloader = new FakeDownloader(blockUntilReleased());
  await withHarness({ downloader, jobs: { max_concurrent: 2 } }, async (h) => {
    const submitted = [];
    for (let i = 0; i < 5; i++) submitted.push((await submit(h, i, 100 + i)).job);
    h.worker.start();
    for (let released = 0; released < 5; released++) {
      await downloader.waitForRuns(Math.min(5, released + 2));
      assert(downloader.active <= 2, `${downloader.active} running at once`);
      downloader.runs[released]?.release();
      await h.observer.finishedJob(submitted[released]!.id);
    }
    assertEquals(downloader.runs.map((r) => r.request.url), submitted.map((j) => j.url));
    assertEquals(downloader.maxActive, 2);
    assertEquals(h.observer.finished.map((j) => j.state), Array(5).fill("succeeded"));
  });
});

Deno.test("a queued job shows its position while another runs", async () => {
  const downloader = new FakeDownloader(blockUntilReleased());
  await withHarness({ downloader, jobs: { max_concurrent: 1 } }, async (h) => {
    const first = await submit(h, 1, 1);
    const second = await submit(h, 2, 2);
    h.worker.start();
    await downloader.waitForRuns(1);
    const running = await h.service.status({ userId: 1, isAdmin: false }, first.job.id);
    assertEquals(running.job.state, "running");
    assertEquals(running.position, undefined);
    assertEquals(
      (await h.service.status({ userId: 2, isAdmin: false }, second.job.id)).position,
      1,
    );
    assertEquals(await h.service.runningCount(), 1);
    downloader.runs[0]!.release();
    await downloader.waitForRuns(2);
    downloader.runs[1]!.release();
    await h.observer.finishedJob(second.job.id);
  });
});

Deno.test("cancel() stops a running download, removes its files and reports 'cancelled'", async () => {
  const downloader = new FakeDownloader(blockUntilReleased());
  await withHarness({ downloader }, async (h) => {
    const { job } = await submit(h, 1);
    h.worker.start();
    const partial = `${jobOutputDir(h.downloadsDir, job.id)}/partial.part`;
    await waitFor("a partial file", () => exists(partial));
    const requested = await h.service.cancel(ALICE, job.id);
    assertEquals(requested.cancelRequested, true);
    const done = await h.observer.finishedJob(job.id);
    assertEquals(done.state, "cancelled");
    assertEquals(done.error, { code: "cancelled", userMessage: "Cancelled." });
    assert(downloader.runs[0]!.sawAbort, "the downloader saw the abort");
    assertEquals(await exists(jobOutputDir(h.downloadsDir, job.id)), false);
    assertEquals((await h.service.status(ALICE, job.id)).job.state, "cancelled");
    assertEquals((await submit(h, 1)).created, true, "a cancelled link can be sent again");
  });
});

Deno.test("progress is saved to KV while the download runs", async () => {
  const downloader = new FakeDownloader(async (run) => {
    run.emit({ type: "total", total: 4, title: "Album" });
    run.emit({ type: "track", name: "Song 1", status: "done" }, {
      type: "downloaded",
      name: "Song 1",
    });
    run.emit({ type: "track", name: "Song 2", status: "converting" });
    await run.waitForReleaseOrAbort();
    return { kind: "cancelled", stderrTail: [] };
  });
  await withHarness({ downloader }, async (h) => {
    const { job } = await submit(h, 1);
    h.worker.start();
    await waitFor("progress in KV", async () => {
      const view = await h.service.status(ALICE, job.id);
      return view.job.progress.done === 1 && view.job.progress.currentStatus === "Converting";
    });
    const stored = (await h.service.status(ALICE, job.id)).job.progress;
    assertEquals(stored.total, 4);
    assertEquals(stored.percent, 40);
    assertEquals(stored.current, "Song 2");
  });
});

Deno.test("stop() with no grace puts a running job back in the queue; the next worker completes it", async () => {
  const kvDir = await Deno.makeTempDir({ prefix: "dlbot-kv-" });
  const downloadsDir = await Deno.makeTempDir({ prefix: "dlbot-dl-" });
  const kvPath = `${kvDir}/bot.kv`;
  try {
    const blocking = new FakeDownloader(blockUntilReleased());
    const first = await openHarness({ kvPath, downloadsDir, downloader: blocking });
    const { job } = await submit(first, 1);
    first.worker.start();
    await blocking.waitForRuns(1);
    await first.worker.stop({ graceMs: 0 });
    assert(blocking.runs[0]!.sawAbort);
    const requeued = await first.service.status(ALICE, job.id);
    assertEquals(requeued.job.state, "queued");
    assertEquals(requeued.job.attempts, 1);
    assertEquals(requeued.position, 1);
    assertEquals(await first.service.runningCount(), 0, "no lease left behind");
    assertEquals(first.observer.finished, [], "not reported as finished");
    assertEquals(await exists(jobOutputDir(downloadsDir, job.id)), false, "partial files removed");
    await first.close();

    const second = await openHarness({ kvPath, downloadsDir });
    try {
      second.worker.start();
      const done = await second.observer.finishedJob(job.id);
      assertEquals(done.state, "succeeded");
      assertEquals(done.attempts, 2);
    } finally {
      await second.close();
    }
  } finally {
    await Deno.remove(kvDir, { recursive: true });
    await Deno.remove(downloadsDir, { recursive: true });
  }
});

Deno.test("stop() lets a running job finish within the grace period", async () => {
  const downloader = new FakeDownloader(blockUntilReleased());
  await withHarness({ downloader }, async (h) => {
    const { job } = await submit(h, 1);
    h.worker.start();
    await downloader.waitForRuns(1);
    const stopping = h.worker.stop({ graceMs: 60_000 });
    assertEquals(h.worker.runningCount(), 1);
    downloader.runs[0]!.release();
    await stopping;
    assertEquals(h.worker.runningCount(), 0);
    assertEquals((await h.service.status(ALICE, job.id)).job.state, "succeeded");
    assertEquals(downloader.runs[0]!.sawAbort, false);
  });
});

Deno.test("the worker reports finished jobs, queue depth and running jobs to metrics", async () => {
  const metrics = new RecordingMetrics();
  const downloader = new FakeDownloader(endWith({ kind: "exited", exitCode: 1, stderrTail: [] }));
  await withHarness({ downloader, metrics }, async (h) => {
    const { job } = await submit(h, 1);
    h.worker.start();
    await h.observer.finishedJob(job.id);
    await waitFor("gauges after the job", () => metrics.running === 0 && metrics.queueDepth === 0);
    assertEquals(metrics.finished.map((f) => f.state), ["failed"]);
    assert(metrics.finished[0]!.durationSeconds >= 0);
  });
});

Deno.test("a short Spotify wait is shown while the downloader sits it out, and the job finishes", async () => {
  const clock = manualClock();
  const downloader = new FakeDownloader(async (run) => {
    run.emit({ type: "total", total: 1, title: "X", listKind: "Album" });
    run.emit({ type: "rate_limit", retryAfterSeconds: 29 });
    await run.writeFile("A - One.mp3", "1");
    run.emit({ type: "downloaded", name: "A - One" });
    return { kind: "exited", exitCode: 0, stderrTail: [] };
  });
  await withHarness({ downloader, now: clock.now }, async (h) => {
    const { job } = await submit(h, 1);
    h.worker.start();
    const done = await h.observer.finishedJob(job.id);
    assert(
      h.observer.updates.some((j) => j.progress.waitingUntil === clock.now() + 29_000),
      "the wait was shown",
    );
    assertEquals(done.state, "succeeded");
    assertEquals(done.progress.done, 1);
    assertEquals(done.progress.waitingUntil, undefined);
    assertEquals(downloader.runs.length, 1);
  });
});

Deno.test("a long Spotify limit pauses every job until it ends; the job then continues with the songs it had", async () => {
  const clock = manualClock();
  let attempt = 0;
  const downloader = new FakeDownloader(async (run) => {
    attempt++;
    run.emit({ type: "total", total: 2, title: "X", listKind: "Album" });
    if (attempt === 1) {
      await run.writeFile("A - One.mp3", "1");
      run.emit({ type: "downloaded", name: "A - One" });
      run.emit({ type: "rate_limit", retryAfterSeconds: 7200 });
      await run.waitForReleaseOrAbort();
      return { kind: "cancelled", stderrTail: [] };
    }
    run.emit({ type: "skipped", name: "A - One", reason: "exists" });
    await run.writeFile("A - Two.mp3", "2");
    run.emit({ type: "downloaded", name: "A - Two" });
    return { kind: "exited", exitCode: 0, stderrTail: [] };
  });
  const metrics = new RecordingMetrics();
  await withHarness({ downloader, now: clock.now, metrics }, async (h) => {
    const { job } = await submit(h, 1);
    h.worker.start();
    await waitFor("the job to be paused", async () => {
      const view = await h.service.status(ALICE, job.id);
      return view.job.state === "queued" && view.job.pausedUntil !== undefined;
    });
    const paused = (await h.service.status(ALICE, job.id)).job;
    assertEquals(paused.pausedUntil, clock.now() + 7_200_000);
    assert(await exists(`${jobOutputDir(h.downloadsDir, job.id)}/A - One.mp3`), "song kept");
    const other = await submit(h, 2, 202);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assertEquals(downloader.runs.length, 1, "no job starts while Spotify's pause lasts");
    assertEquals(metrics.spotifyWaits, ["pause"]);
    assertEquals(metrics.spotifyPauseUntil, clock.now() + 7_200_000);
    assertEquals((await h.service.status(ALICE, job.id)).job.state, "queued");

    clock.advance(7_200_001);
    const done = await h.observer.finishedJob(job.id);
    assertEquals(done.state, "succeeded");
    assertEquals(done.progress.done, 2, "the kept song counts as downloaded");
    assertEquals(done.result?.files.map((f) => f.name), ["A - One.mp3", "A - Two.mp3"]);
    assertEquals((await h.observer.finishedJob(other.job.id)).state, "succeeded");
  });
});

Deno.test("a run that fails with a traceback tells the user what broke", async () => {
  const cases: [string, string, string][] = [
    [
      "FFmpegError",
      "FFmpeg is not installed. Please run `spotdl --download-ffmpeg`",
      "ffmpeg_missing",
    ],
    ["DownloaderError", "You are blocked by YouTube Music. Please use a VPN", "youtube_blocked"],
    [
      "SpotifyException",
      "http status: 403, code: -1 - https://api.spotify.com/v1/x: Forbidden",
      "spotify_forbidden",
    ],
    [
      "SpotifyException",
      "http status: 429, code: -1 - x: Max Retries, reason: too many 404 error responses",
      "spotify_not_found",
    ],
    [
      "ConnectionError",
      "HTTPSConnectionPool(host='music.youtube.com', port=443): Max retries exceeded",
      "network",
    ],
  ];
  for (const [errorClass, message, code] of cases) {
    const downloader = new FakeDownloader(
      endWith({ kind: "exited", exitCode: 1, stderrTail: [] }, [{
        type: "fatal",
        errorClass,
        message,
      }]),
    );
    await withHarness({ downloader }, async (h) => {
      const { job } = await submit(h, 1);
      h.worker.start();
      const done = await h.observer.finishedJob(job.id);
      assertEquals([done.state, done.error?.code], ["failed", code], errorClass);
    });
  }
});
