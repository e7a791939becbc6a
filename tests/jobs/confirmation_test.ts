import { assert, assertEquals, assertNotEquals, assertRejects } from "../_assert.ts";
import {
  ActiveJobLimitError,
  JobNotConfirmableError,
  JobNotFoundError,
  ShuttingDownError,
} from "../../src/errors.ts";
import { jobOutputDir } from "../../src/jobs/files.ts";
import { blockUntilReleased, endWith, FakeDownloader, type FakeScript } from "./fake_downloader.ts";
import { albumLink, exists, type Harness, RecordingMetrics, withHarness } from "./_helpers.ts";
import { ALICE_REQUESTER as ALICE } from "../_fixtures.ts";

const BOB = { userId: 202, isAdmin: false };
const ADMIN = { userId: 999, isAdmin: true };

/**
 * Like spotDL: announces `songs` songs, leaves a partial file, and when stopped right after the
 * announcement ends as cancelled; otherwise downloads every song.
 */
function listOf(songs: number): FakeScript {
  return async (run) => {
    run.emit({ type: "total", total: songs, title: "Big List", listKind: "Playlist" });
    await run.writeFile("partial.part", "half a song");
    if (run.request.signal.aborted) return { kind: "cancelled", stderrTail: ["terminated"] };
    await Deno.remove(`${run.request.outputDir}/partial.part`);
    for (let i = 1; i <= songs; i++) {
      const name = `Artist - Song ${i}.mp3`;
      await run.writeFile(name, "audio");
      run.emit({ type: "track", name, status: "done" });
    }
    return { kind: "exited", exitCode: 0, stderrTail: [] };
  };
}

/** Submits album `n` for ALICE and waits until the worker stopped it to ask for confirmation. */
async function stoppedJob(h: Harness, n = 1) {
  const { job } = await h.service.submit({
    userId: ALICE.userId,
    chatId: ALICE.userId,
    link: albumLink(n),
  });
  h.worker.start();
  const done = await h.observer.finishedJob(job.id);
  assertEquals(done.error?.code, "needs_confirmation");
  return done;
}

Deno.test("a list above jobs.confirm_above_tracks stops the downloader and asks for confirmation", async () => {
  const metrics = new RecordingMetrics();
  const downloader = new FakeDownloader(listOf(5));
  await withHarness({ downloader, metrics, jobs: { confirm_above_tracks: 3 } }, async (h) => {
    const { job } = await h.service.submit({
      userId: ALICE.userId,
      chatId: ALICE.userId,
      link: albumLink(1),
    });
    h.worker.start();
    const done = await h.observer.finishedJob(job.id);
    assertEquals(done.state, "failed");
    assertEquals(done.error?.code, "needs_confirmation");
    assertEquals(
      done.error?.userMessage,
      'This album has 5 tracks, more than the limit of 3 without confirmation. Press "Download all 5 tracks" to go ahead.',
    );
    assertEquals(done.progress.total, 5);
    assertEquals(done.confirmed, false);
    assert(downloader.runs[0]!.sawAbort, "the downloader was stopped");
    assertEquals(downloader.runs.length, 1);
    assertEquals(await exists(jobOutputDir(h.downloadsDir, job.id)), false, "partial files gone");
    assertEquals((await h.service.status(ALICE, job.id)).job.error?.code, "needs_confirmation");
    assertEquals(metrics.finished.map((f) => f.state), ["failed"]);
    assertEquals(h.observer.finished.length, 1);
  });
});

Deno.test("a list at the limit, or any list with the check disabled, downloads without asking", async () => {
  for (const [songs, limit] of [[3, 3], [500, 0]] as const) {
    const downloader = new FakeDownloader(listOf(songs));
    await withHarness({ downloader, jobs: { confirm_above_tracks: limit } }, async (h) => {
      const { job } = await h.service.submit({
        userId: ALICE.userId,
        chatId: ALICE.userId,
        link: albumLink(1),
      });
      h.worker.start();
      const done = await h.observer.finishedJob(job.id);
      assertEquals(done.state, "succeeded", `${songs} songs, limit ${limit}`);
      assertEquals(done.result?.files.length, songs);
      assertEquals(downloader.runs[0]!.sawAbort, false);
    });
  }
});

Deno.test("confirm() starts a new confirmed job for the same link that downloads the whole list", async () => {
  const downloader = new FakeDownloader(listOf(5));
  await withHarness({ downloader, jobs: { confirm_above_tracks: 3 } }, async (h) => {
    const stopped = await stoppedJob(h);
    const confirmed = await h.service.confirm(ALICE, stopped.id);
    assertEquals(confirmed.created, true);
    assertNotEquals(confirmed.job.id, stopped.id);
    assertEquals(confirmed.job.confirmed, true);
    assertEquals(confirmed.job.url, stopped.url);
    assertEquals(confirmed.job.chatId, stopped.chatId);
    assertEquals(confirmed.job.userId, ALICE.userId);
    const done = await h.observer.finishedJob(confirmed.job.id);
    assertEquals(done.state, "succeeded");
    assertEquals(done.progress.total, 5);
    assertEquals(done.result?.files.length, 5);
    assertEquals((await h.service.status(ALICE, stopped.id)).job.confirmedAs, confirmed.job.id);
    const again = await h.service.submit({
      userId: ALICE.userId,
      chatId: ALICE.userId,
      link: albumLink(1),
    });
    assertEquals(again.job.id, confirmed.job.id, "a repeat /download reuses the full download");
  });
});

Deno.test("confirm() pressed twice, even at once, returns the same new job", async () => {
  const downloader = new FakeDownloader(listOf(5));
  await withHarness({ downloader, jobs: { confirm_above_tracks: 3 } }, async (h) => {
    const stopped = await stoppedJob(h);
    downloader.setScript(blockUntilReleased(listOf(5)));
    const [a, b] = await Promise.all([
      h.service.confirm(ALICE, stopped.id),
      h.service.confirm(ALICE, stopped.id),
    ]);
    assertEquals(a.job.id, b.job.id);
    assertEquals([a.created, b.created].filter(Boolean).length, 1, "exactly one job created");
    await downloader.waitForRuns(2);
    downloader.runs[1]!.release();
    await h.observer.finishedJob(a.job.id);
    const later = await h.service.confirm(ALICE, stopped.id);
    assertEquals(later.created, false);
    assertEquals(later.job.id, a.job.id);
    assertEquals(later.job.state, "succeeded");
    assertEquals(downloader.runs.length, 2, "no third download");
    assertEquals((await h.service.list(ALICE, 10)).length, 2);
  });
});

Deno.test("only the job's owner or an admin can confirm it; the new job stays the owner's", async () => {
  const downloader = new FakeDownloader(listOf(5));
  await withHarness({ downloader, jobs: { confirm_above_tracks: 3 } }, async (h) => {
    const stopped = await stoppedJob(h);
    await assertRejects(() => h.service.confirm(BOB, stopped.id), JobNotFoundError);
    assertEquals((await h.service.list(BOB, 10)).length, 0);
    assertEquals((await h.service.status(ALICE, stopped.id)).job.confirmedAs, undefined);
    const byAdmin = await h.service.confirm(ADMIN, stopped.id);
    assertEquals(byAdmin.created, true);
    assertEquals(byAdmin.job.userId, ALICE.userId);
    assertEquals(byAdmin.job.chatId, ALICE.userId);
    await h.observer.finishedJob(byAdmin.job.id);
  });
});

Deno.test("confirm() refuses unknown ids and jobs that did not stop for confirmation", async () => {
  const downloader = new FakeDownloader(listOf(2));
  await withHarness({ downloader, jobs: { confirm_above_tracks: 3 } }, async (h) => {
    await assertRejects(() => h.service.confirm(ALICE, "zzzzzzzzzz"), JobNotFoundError);
    await assertRejects(() => h.service.confirm(ALICE, "../etc"), JobNotFoundError);
    const { job } = await h.service.submit({
      userId: ALICE.userId,
      chatId: ALICE.userId,
      link: albumLink(1),
    });
    const queued = await assertRejects(
      () => h.service.confirm(ALICE, job.id),
      JobNotConfirmableError,
    );
    assertEquals(queued.userMessage, "This job does not need confirmation.");
    h.worker.start();
    assertEquals((await h.observer.finishedJob(job.id)).state, "succeeded");
    await assertRejects(() => h.service.confirm(ALICE, job.id), JobNotConfirmableError);
    assertEquals((await h.service.list(ALICE, 10)).length, 1, "no job created");
  });
});

Deno.test("confirm() respects the per-user active limit and draining", async () => {
  let draining = false;
  const downloader = new FakeDownloader(listOf(5));
  await withHarness({
    downloader,
    jobs: { confirm_above_tracks: 3, max_active_per_user: 1 },
    isDraining: () => draining,
  }, async (h) => {
    const stopped = await stoppedJob(h);
    downloader.setScript(blockUntilReleased(listOf(1)));
    const other = await h.service.submit({
      userId: ALICE.userId,
      chatId: ALICE.userId,
      link: albumLink(2),
    });
    await assertRejects(() => h.service.confirm(ALICE, stopped.id), ActiveJobLimitError);
    await downloader.waitForRuns(2);
    downloader.runs[1]!.release();
    await h.observer.finishedJob(other.job.id);
    draining = true;
    await assertRejects(() => h.service.confirm(ALICE, stopped.id), ShuttingDownError);
    draining = false;
    assertEquals((await h.service.status(ALICE, stopped.id)).job.confirmedAs, undefined);
    downloader.setScript(listOf(5));
    const confirmed = await h.service.confirm(ALICE, stopped.id);
    assertEquals(confirmed.created, true);
    assertEquals((await h.observer.finishedJob(confirmed.job.id)).state, "succeeded");
  });
});

Deno.test("after the confirmed job failed, confirming again still returns it instead of a third job", async () => {
  const downloader = new FakeDownloader(listOf(5));
  await withHarness({ downloader, jobs: { confirm_above_tracks: 3 } }, async (h) => {
    const stopped = await stoppedJob(h);
    downloader.setScript(endWith({ kind: "exited", exitCode: 1, stderrTail: ["Traceback"] }));
    const first = await h.service.confirm(ALICE, stopped.id);
    assertEquals((await h.observer.finishedJob(first.job.id)).state, "failed");
    const again = await h.service.confirm(ALICE, stopped.id);
    assertEquals(again.created, false);
    assertEquals(again.job.id, first.job.id);
    assertEquals(again.job.state, "failed");
    assertEquals(downloader.runs.length, 2);
  });
});
