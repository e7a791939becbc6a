/**
 * The outbox's claims: a finished job's messages are sent by one instance at a time; an entry is
 * taken over only when its claim ran out, was released, or its owner is known to be dead.
 */
import { assertEquals } from "../_assert.ts";
import { makeJob } from "../_fixtures.ts";
import { jobKey, outboxKey } from "../../src/kv/keys.ts";
import { KvOutbox } from "../../src/jobs/outbox.ts";
import { newOutboxEntry, parseOutboxEntry } from "../../src/jobs/outbox_entry.ts";
import { silentLogger } from "../../src/log/logger.ts";

const CLAIM_MS = 5_000;

async function withStore(
  test: (kv: Deno.Kv, clock: { now: number }) => Promise<void>,
): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  try {
    await test(kv, { now: 1_000_000 });
  } finally {
    kv.close();
  }
}

function outbox(kv: Deno.Kv, clock: { now: number }, owner: string, deadOwners: string[] = []) {
  return new KvOutbox({
    kv,
    owner,
    claimMs: CLAIM_MS,
    now: () => clock.now,
    logger: silentLogger,
    deadOwners,
  });
}

/** A finished job with an outbox entry claimed by `owner` until `expiresAt`. */
async function finished(kv: Deno.Kv, id: string, owner: string, expiresAt: number) {
  const job = makeJob({ id, state: "succeeded", finishedAt: 1 });
  await kv.set(jobKey(id), job);
  await kv.set(outboxKey(id), newOutboxEntry(job, { owner, expiresAt }).value);
}

Deno.test("an entry another live instance holds is left alone until its claim runs out", async () => {
  await withStore(async (kv, clock) => {
    await finished(kv, "jobone1", "other", clock.now + CLAIM_MS);
    const mine = outbox(kv, clock, "me");
    assertEquals(await mine.begin("jobone1"), null);
    assertEquals(await mine.claimUndelivered(), []);
    clock.now += CLAIM_MS;
    assertEquals((await mine.claimUndelivered()).map((j) => j.id), ["jobone1"]);
    assertEquals(parseOutboxEntry(await kv.get(outboxKey("jobone1")))?.owner, "me");
    mine.close();
  });
});

Deno.test("an entry of an instance known to be dead is taken over at once", async () => {
  await withStore(async (kv, clock) => {
    await finished(kv, "jobone1", "dead", clock.now + CLAIM_MS);
    const mine = outbox(kv, clock, "me", ["dead"]);
    assertEquals((await mine.claimUndelivered()).map((j) => j.id), ["jobone1"]);
    mine.close();
  });
});

Deno.test("what was sent is remembered across instances, and a delivered entry is gone", async () => {
  await withStore(async (kv, clock) => {
    await finished(kv, "jobone1", "first", clock.now + CLAIM_MS);
    const first = outbox(kv, clock, "first");
    assertEquals([...(await first.begin("jobone1")) ?? []], []);
    await first.sent("jobone1", "status");
    await first.postpone("jobone1");

    const second = outbox(kv, clock, "second");
    assertEquals([...(await second.begin("jobone1")) ?? []], ["status"]);
    assertEquals(await first.begin("jobone1"), null, "the second instance holds it now");
    await second.sent("jobone1", "summary");
    await second.delivered("jobone1");
    assertEquals((await kv.get(outboxKey("jobone1"))).versionstamp, null);
    assertEquals(await second.begin("jobone1"), null, "nothing is owed any more");
  });
});

Deno.test("an entry being delivered here is not handed out again by the recovery pass", async () => {
  await withStore(async (kv, clock) => {
    await finished(kv, "jobone1", "me", clock.now + CLAIM_MS);
    const mine = outbox(kv, clock, "me");
    await mine.begin("jobone1");
    clock.now += 2 * CLAIM_MS;
    assertEquals(await mine.claimUndelivered(), []);
    mine.close();
  });
});

Deno.test("an entry whose job is gone is dropped", async () => {
  await withStore(async (kv, clock) => {
    await finished(kv, "jobone1", "dead", 0);
    await kv.delete(jobKey("jobone1"));
    const mine = outbox(kv, clock, "me");
    assertEquals(await mine.claimUndelivered(), []);
    assertEquals((await kv.get(outboxKey("jobone1"))).versionstamp, null);
  });
});

Deno.test("an outbox entry at its largest fits one KV value", async () => {
  await withStore(async (kv) => {
    const job = makeJob({ id: "jobone1", state: "succeeded", chatId: -1_000_000_000_000 });
    const entry = newOutboxEntry(job, { owner: crypto.randomUUID(), expiresAt: Date.now() }).value;
    entry.sent = Array.from({ length: 500 }, (_, i) => `step:${i}`.padEnd(40, "x"));
    await kv.set(outboxKey(job.id), entry);
    assertEquals(parseOutboxEntry(await kv.get(outboxKey(job.id)))?.sent.length, 500);
  });
});
