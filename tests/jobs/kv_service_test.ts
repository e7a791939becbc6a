import { assert, assertEquals, assertNotEquals, assertRejects } from "../_assert.ts";
import {
  ActiveJobLimitError,
  JobNotCancellableError,
  JobNotFoundError,
  QueueFullError,
  ShuttingDownError,
} from "../../src/errors.ts";
import { albumLink, type Harness, withHarness } from "./_helpers.ts";
import { type Claim, claimNext, requeue } from "../../src/jobs/queue.ts";
import { readJob } from "../../src/jobs/store.ts";
import { ALICE_REQUESTER as ALICE } from "../_fixtures.ts";

const BOB = { userId: 202, isAdmin: false };
const ADMIN = { userId: 999, isAdmin: true };

function submitAs(h: Harness, userId: number, n: number) {
  return h.service.submit({ userId, chatId: userId, link: albumLink(n) });
}

Deno.test("submit() queues a job and tells its place in the queue", async () => {
  await withHarness({}, async (h) => {
    const first = await submitAs(h, ALICE.userId, 1);
    const second = await submitAs(h, BOB.userId, 2);
    assertEquals(first.created, true);
    assertEquals(first.job.state, "queued");
    assertEquals(first.job.url, albumLink(1).url);
    assertEquals(first.job.kind, "album");
    assertEquals(first.job.attempts, 0);
    assertEquals(first.position, 1);
    assertEquals(second.position, 2);
    assertNotEquals(first.job.id, second.job.id);
    assertEquals(await h.service.queueDepth(), 2);
  });
});

Deno.test("submit() returns the existing job for a repeat link", async () => {
  await withHarness({}, async (h) => {
    await submitAs(h, BOB.userId, 9);
    const first = await submitAs(h, ALICE.userId, 1);
    const again = await submitAs(h, ALICE.userId, 1);
    assertEquals(again.created, false);
    assertEquals(again.job.id, first.job.id);
    assertEquals(again.position, 2);
    assertEquals(await h.service.queueDepth(), 2);
  });
});

Deno.test("ten concurrent identical submits create exactly one job", async () => {
  await withHarness({}, async (h) => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () => submitAs(h, ALICE.userId, 1)),
    );
    assertEquals(results.filter((r) => r.created).length, 1);
    assertEquals(new Set(results.map((r) => r.job.id)).size, 1);
    assertEquals(await h.service.queueDepth(), 1);
    assertEquals((await h.service.list(ALICE, 10)).length, 1);
  });
});

Deno.test("the same link from another user is a separate job", async () => {
  await withHarness({}, async (h) => {
    const alice = await submitAs(h, ALICE.userId, 1);
    const bob = await submitAs(h, BOB.userId, 1);
    assertEquals(bob.created, true);
    assertNotEquals(alice.job.id, bob.job.id);
  });
});

Deno.test("submit() refuses a user's job beyond max_active_per_user, not other users'", async () => {
  await withHarness({ jobs: { max_active_per_user: 2 } }, async (h) => {
    await submitAs(h, ALICE.userId, 1);
    await submitAs(h, ALICE.userId, 2);
    const error = await assertRejects(() => submitAs(h, ALICE.userId, 3), ActiveJobLimitError);
    assertEquals(
      error.userMessage,
      "You already have 2 downloads queued or running. Wait for one to finish or /cancel one.",
    );
    assertEquals((await submitAs(h, BOB.userId, 3)).created, true);
    assertEquals((await submitAs(h, ALICE.userId, 1)).created, false, "repeats are still answered");
  });
});

Deno.test("concurrent submits of different links respect max_active_per_user", async () => {
  await withHarness({ jobs: { max_active_per_user: 3 } }, async (h) => {
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => submitAs(h, ALICE.userId, i)),
    );
    const accepted = results.filter((r) => r.status === "fulfilled");
    const refused = results.filter((r) => r.status === "rejected");
    assertEquals(accepted.length, 3);
    assert(refused.every((r) => r.reason instanceof ActiveJobLimitError));
  });
});

Deno.test("submit() answers 'busy' when the queue is full", async () => {
  await withHarness({ jobs: { max_queue_length: 2 } }, async (h) => {
    await submitAs(h, ALICE.userId, 1);
    await submitAs(h, BOB.userId, 2);
    const error = await assertRejects(() => submitAs(h, 303, 3), QueueFullError);
    assertEquals(
      error.userMessage,
      "The bot is busy right now (the download queue is full). Please try again in a few minutes.",
    );
    assertEquals(await h.service.queueDepth(), 2);
  });
});

Deno.test("submit() is refused while the bot drains for a restart", async () => {
  await withHarness({ isDraining: () => true }, async (h) => {
    await assertRejects(() => submitAs(h, ALICE.userId, 1), ShuttingDownError);
    assertEquals(await h.service.queueDepth(), 0);
  });
});

Deno.test("status() shows the owner's job with its position; others get 'not found'", async () => {
  await withHarness({}, async (h) => {
    await submitAs(h, BOB.userId, 9);
    const { job } = await submitAs(h, ALICE.userId, 1);
    const view = await h.service.status(ALICE, job.id);
    assertEquals(view.job.id, job.id);
    assertEquals(view.position, 2);
    const error = await assertRejects(() => h.service.status(BOB, job.id), JobNotFoundError);
    assertEquals(error.userMessage, `No job with id ${job.id}. Send /status to see your jobs.`);
    assertEquals((await h.service.status(ADMIN, job.id)).job.userId, ALICE.userId);
  });
});

Deno.test("unknown or malformed job ids are 'not found', never a crash", async () => {
  await withHarness({}, async (h) => {
    for (const id of ["../x", "nosuchjob1", "", "A".repeat(500), "abc def"]) {
      await assertRejects(() => h.service.status(ALICE, id), JobNotFoundError);
      await assertRejects(() => h.service.cancel(ADMIN, id), JobNotFoundError);
      await assertRejects(() => h.service.setStatusMessage(id, 5), JobNotFoundError);
    }
  });
});

Deno.test("list() shows the requester's jobs newest first; admins see everyone's", async () => {
  await withHarness({}, async (h) => {
    const a1 = await submitAs(h, ALICE.userId, 1);
    const b1 = await submitAs(h, BOB.userId, 2);
    const a2 = await submitAs(h, ALICE.userId, 3);
    const alice = await h.service.list(ALICE, 10);
    assertEquals(alice.map((v) => v.job.id), [a2.job.id, a1.job.id]);
    assertEquals(alice.map((v) => v.position), [3, 1]);
    assertEquals((await h.service.list(BOB, 10)).map((v) => v.job.id), [b1.job.id]);
    const all = await h.service.list(ADMIN, 10);
    assertEquals(all.map((v) => v.job.id), [a2.job.id, b1.job.id, a1.job.id]);
    assertEquals((await h.service.list(ADMIN, 2)).length, 2);
    assertEquals(await h.service.list({ userId: 404, isAdmin: false }, 10), []);
  });
});

Deno.test("cancel() of a queued job cancels it at once and frees its place", async () => {
  await withHarness({}, async (h) => {
    const first = await submitAs(h, ALICE.userId, 1);
    const second = await submitAs(h, BOB.userId, 2);
    const cancelled = await h.service.cancel(ALICE, first.job.id);
    assertEquals(cancelled.state, "cancelled");
    assertEquals(cancelled.error, { code: "cancelled", userMessage: "Cancelled." });
    assertEquals((await h.service.status(ALICE, first.job.id)).job.state, "cancelled");
    assertEquals((await h.service.status(BOB, second.job.id)).position, 1);
    assertEquals(await h.service.queueDepth(), 1);
    assertEquals(h.observer.finished.map((j) => [j.id, j.state]), [[first.job.id, "cancelled"]]);
    const again = await submitAs(h, ALICE.userId, 1);
    assertEquals(again.created, true, "a cancelled job is not reused");
    assertNotEquals(again.job.id, first.job.id);
  });
});

Deno.test("cancel() of a cancelled job says there is nothing to cancel", async () => {
  await withHarness({}, async (h) => {
    const { job } = await submitAs(h, ALICE.userId, 1);
    await h.service.cancel(ALICE, job.id);
    const error = await assertRejects(
      () => h.service.cancel(ALICE, job.id),
      JobNotCancellableError,
    );
    assertEquals(
      error.userMessage,
      `Job ${job.id} is already cancelled; there is nothing to cancel.`,
    );
  });
});

Deno.test("users cannot cancel other users' jobs; admins can", async () => {
  await withHarness({}, async (h) => {
    const { job } = await submitAs(h, ALICE.userId, 1);
    await assertRejects(() => h.service.cancel(BOB, job.id), JobNotFoundError);
    assertEquals((await h.service.status(ALICE, job.id)).job.state, "queued");
    assertEquals((await h.service.cancel(ADMIN, job.id)).state, "cancelled");
  });
});

Deno.test("setStatusMessage() remembers the chat message of a job", async () => {
  await withHarness({}, async (h) => {
    const { job } = await submitAs(h, ALICE.userId, 1);
    await h.service.setStatusMessage(job.id, 4242);
    assertEquals((await h.service.status(ALICE, job.id)).job.statusMessageId, 4242);
  });
});

Deno.test("200 users submitting in the same instant all get their job: no error from contention", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A KV file, as in production: its writes are serialised like a real store's.
    await withHarness(
      { kvPath: `${dir}/kv.sqlite3`, jobs: { max_queue_length: 1000 } },
      async (h) => {
        const results = await Promise.allSettled(
          Array.from({ length: 200 }, (_, i) => submitAs(h, 10_000 + i, i)),
        );
        const failed = results.filter((r) => r.status === "rejected");
        assertEquals(failed.length, 0, `${failed.length} failed: ${JSON.stringify(failed[0])}`);
        const ids = new Set(results.map((r) => r.status === "fulfilled" ? r.value.job.id : ""));
        assertEquals(ids.size, 200, "200 distinct jobs");
        assertEquals(await h.service.queueDepth(), 200);
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("users take turns: a job asked for after another user's twenty starts second, and its position says so", async () => {
  await withHarness({ jobs: { max_active_per_user: 50 } }, async (h) => {
    const alices = [];
    for (let i = 0; i < 20; i++) alices.push(await submitAs(h, ALICE.userId, i));
    const bobs = await submitAs(h, BOB.userId, 100);
    assertEquals(bobs.position, 2, "behind Alice's first job only");
    const claim = () =>
      claimNext(h.kv, { owner: "t", now: Date.now(), leaseMs: 60_000, maxConcurrent: 100 });
    const order = [];
    for (let i = 0; i < 4; i++) order.push((await claim())?.job.id);
    assertEquals(order, [alices[0]!.job.id, bobs.job.id, alices[1]!.job.id, alices[2]!.job.id]);
    const third = await submitAs(h, BOB.userId, 101);
    assertEquals(third.position, 1, "Alice has had three turns to Bob's one: Bob goes next");
  });
});

Deno.test("positions and depth always equal the order jobs start in, after random submits, cancels, starts and requeues", async () => {
  await withHarness({ jobs: { max_active_per_user: 100, max_queue_length: 1000 } }, async (h) => {
    let n = 0;
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const queued: string[] = [];
    const running: Claim[] = [];
    for (let step = 0; step < 160; step++) {
      const r = rand();
      if (r < 0.6) {
        queued.push((await submitAs(h, 300 + Math.floor(rand() * 5), ++n)).job.id);
      } else if (r < 0.8 && queued.length > 0) {
        const id = queued.splice(Math.floor(rand() * queued.length), 1)[0]!;
        const job = (await h.service.status({ userId: 1, isAdmin: true }, id)).job;
        await h.service.cancel({ userId: job.userId, isAdmin: false }, id);
      } else if (r < 0.9 || running.length === 0) {
        const claimed = await claimNext(h.kv, {
          owner: "t",
          now: Date.now(),
          leaseMs: 60_000,
          maxConcurrent: 1000,
        });
        if (claimed) {
          queued.splice(queued.indexOf(claimed.job.id), 1);
          running.push(claimed);
        }
      } else {
        // Stopped by a shutdown: back in the queue, in its old place.
        const claim = running.splice(Math.floor(rand() * running.length), 1)[0]!;
        const entry = await readJob(h.kv, claim.job.id);
        assert(entry !== null);
        assert(await requeue(h.kv, entry, claim.leaseVersionstamp, Date.now()) !== undefined);
        queued.push(claim.job.id);
      }
      assertEquals(await h.service.queueDepth(), queued.length, `depth after step ${step}`);
    }
    // Brute force: start everything and compare with the positions shown before.
    const shown = new Map<string, number>();
    for (const id of queued) {
      shown.set(id, (await h.service.status({ userId: 1, isAdmin: true }, id)).position ?? -1);
    }
    let place = 0;
    for (;;) {
      const claimed = await claimNext(h.kv, {
        owner: "t",
        now: Date.now(),
        leaseMs: 60_000,
        maxConcurrent: 1000,
      });
      if (!claimed) break;
      place++;
      assertEquals(shown.get(claimed.job.id), place, `job ${claimed.job.id}`);
    }
    assertEquals(place, queued.length);
  });
});

Deno.test("a user with weight 2 in jobs.user_weights gets two turns for another user's one", async () => {
  await withHarness(
    { jobs: { max_active_per_user: 50, user_weights: { [String(BOB.userId)]: 2 } } },
    async (h) => {
      const alices: string[] = [];
      const bobs: string[] = [];
      for (let i = 0; i < 4; i++) alices.push((await submitAs(h, ALICE.userId, i)).job.id);
      for (let i = 0; i < 4; i++) bobs.push((await submitAs(h, BOB.userId, 10 + i)).job.id);
      const order = [];
      for (;;) {
        const claimed = await claimNext(h.kv, {
          owner: "t",
          now: Date.now(),
          leaseMs: 60_000,
          maxConcurrent: 100,
        });
        if (!claimed) break;
        order.push(claimed.job.id);
      }
      const who = order.map((id) => alices.includes(id) ? "A" : "B").join("");
      assertEquals(who, "ABBABBAA", "Bob's turns come twice as often");
    },
  );
});
