import { assertEquals } from "../_assert.ts";
import {
  countQueueEntry,
  ensureQueueCount,
  queuedBefore,
  queuedCount,
} from "../../src/jobs/queue_count.ts";
import { positionsToAnnounce, queuePosition } from "../../src/jobs/queue.ts";
import { queueCountBuiltKey, queueKey } from "../../src/kv/keys.ts";

async function withKv(test: (kv: Deno.Kv) => Promise<void>): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  try {
    await test(kv);
  } finally {
    kv.close();
  }
}

/** A deterministic pseudo-random sequence. */
function random(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

Deno.test("the counting tree counts the entries below any queueAt exactly, through adds and removes", () =>
  withKv(async (kv) => {
    const rand = random(11);
    const present: number[] = [];
    const base = Date.UTC(2026, 11, 1);
    for (let step = 0; step < 300; step++) {
      if (rand() < 0.7 || present.length === 0) {
        // Turns of a day apart and ties, as users' queueAt values fall.
        const at = base + Math.floor(rand() * 40) * 86_400_000 + Math.floor(rand() * 3);
        present.push(at);
        await countQueueEntry(kv.atomic(), at, 1).commit();
      } else {
        const [at] = present.splice(Math.floor(rand() * present.length), 1);
        await countQueueEntry(kv.atomic(), at ?? 0, -1).commit();
      }
    }
    assertEquals(await queuedCount(kv), present.length);
    for (const probe of [0, base, base + 1, base + 86_400_000 * 7 + 1, base + 86_400_000 * 41]) {
      assertEquals(
        await queuedBefore(kv, probe),
        present.filter((at) => at < probe).length,
        `below ${probe}`,
      );
    }
  }));

Deno.test("ensureQueueCount() builds the tree of a store written before it, once", () =>
  withKv(async (kv) => {
    const times = [1_000, 2_000, 2_000, 5_000];
    for (const [i, at] of times.entries()) await kv.set(queueKey(at, `job${i}`), `job${i}`);
    assertEquals(await queuedCount(kv), 0, "an older store: entries without counts");
    await ensureQueueCount(kv);
    assertEquals(await queuedCount(kv), 4);
    assertEquals(await queuedBefore(kv, 2_000), 1);
    assertEquals(await queuedBefore(kv, 2_001), 3);
    assertEquals(await queuePosition(kv, "job2", 2_000), 3, "ties go by job id");
    assertEquals((await kv.get(queueCountBuiltKey())).value, true);
    await kv.set(queueKey(9_000, "unseen"), "unseen");
    await ensureQueueCount(kv);
    assertEquals(await queuedCount(kv), 4, "built once: later entries count as they are added");
  }));

Deno.test("after a start the head of the queue and a window further back, in turn, get their positions", () =>
  withKv(async (kv) => {
    for (let i = 0; i < 60; i++) {
      const id = `job${String(i).padStart(8, "0")}`;
      await countQueueEntry(kv.atomic().set(queueKey(1_000 + i, id), id), 1_000 + i, 1).commit();
    }
    const expect = (from: number, to: number) =>
      Array.from(
        { length: to - from + 1 },
        (_, k) => [`job${String(from + k - 1).padStart(8, "0")}`, from + k],
      );
    const first = await positionsToAnnounce(kv, undefined);
    assertEquals([...first.positions], [...expect(1, 20), ...expect(21, 40)]);
    const second = await positionsToAnnounce(kv, first.next);
    assertEquals([...second.positions], [...expect(1, 20), ...expect(41, 60)]);
    const third = await positionsToAnnounce(kv, second.next);
    assertEquals([...third.positions], [...expect(1, 20), ...expect(21, 40)], "round again");
  }));
