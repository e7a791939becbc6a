/**
 * The queue's counting tree: a Fenwick tree (binary indexed tree) over `queueAt` values, stored
 * as `Deno.KvU64` counters, so a queued job's position and the queue's depth cost the same few
 * reads at 50,000 queued jobs as at 10, and no operation scans the queue.
 *
 * Every write that adds or removes a queue entry adds the matching counter updates to its own
 * atomic operation (`sum` mutations: they never conflict, so no submit waits for another): about
 * 45 sums per entry, and a count reads about 45 counters in batches of ten. Counts follow the
 * entries exactly because each update goes with a checked change of its entry (see the callers).
 *
 * A store written by an older version has entries but no tree: {@linkcode ensureQueueCount}
 * builds it once, from one look at the queue, before this process takes or runs jobs.
 *
 * Written here because no kept library offers an order-statistics index on Deno KV; the tree is
 * the textbook one (Fenwick 1994), on `number`s (every index stays below 2^53).
 *
 * @module
 */
import { queueCountBuiltKey, queueCountKey, queueCountPrefix, queuePrefix } from "../kv/keys.ts";
import { retryCas } from "../kv/cas.ts";

/** Indexes 1…DOMAIN: `queueAt` (epoch milliseconds, plus turns) + 1, until the year 3084. */
const DOMAIN = 2 ** 45;
/** KV's limit of keys in one `getMany`. */
const GET_MANY_LIMIT = 10;
/** Mutations per atomic write while building the tree. */
const BUILD_BATCH = 500;

const ONE = 1n;
/** Adding 2^64 − 1 to a KvU64 wraps around to one less. */
const MINUS_ONE = 0xffff_ffff_ffff_ffffn;

/** The largest power of two dividing `i` (> 0). */
function lowbit(i: number): number {
  let bit = 1;
  while ((i / bit) % 2 === 0) bit *= 2;
  return bit;
}

function indexOf(queueAt: number): number {
  return Math.min(DOMAIN, Math.max(1, Math.floor(queueAt) + 1));
}

/** The tree nodes an entry at `queueAt` counts in. */
function nodesCounting(queueAt: number): number[] {
  const nodes: number[] = [];
  for (let i = indexOf(queueAt); i <= DOMAIN; i += lowbit(i)) nodes.push(i);
  return nodes;
}

/** Adds to `op` the counting of a queue entry at `queueAt` that it adds (+1) or removes (−1). */
export function countQueueEntry(
  op: Deno.AtomicOperation,
  queueAt: number,
  change: 1 | -1,
): Deno.AtomicOperation {
  for (const node of nodesCounting(queueAt)) {
    op.sum(queueCountKey(node), change === 1 ? ONE : MINUS_ONE);
  }
  return op;
}

/** How many queue entries have a `queueAt` below `queueAt`. */
export function queuedBefore(kv: Deno.Kv, queueAt: number): Promise<number> {
  const nodes: number[] = [];
  for (let i = indexOf(queueAt) - 1; i > 0; i -= lowbit(i)) nodes.push(i);
  return sumOf(kv, nodes);
}

/** How many jobs are queued. */
export function queuedCount(kv: Deno.Kv): Promise<number> {
  return sumOf(kv, [DOMAIN]);
}

async function sumOf(kv: Deno.Kv, nodes: number[]): Promise<number> {
  let total = 0n;
  for (let i = 0; i < nodes.length; i += GET_MANY_LIMIT) {
    const entries = await kv.getMany<Deno.KvU64[]>(
      nodes.slice(i, i + GET_MANY_LIMIT).map((node) => queueCountKey(node)),
    );
    for (const entry of entries) {
      if (entry.value instanceof Deno.KvU64) total += BigInt.asIntN(64, entry.value.value);
    }
  }
  return Math.max(0, Number(total));
}

/**
 * Builds the tree from the queue once per store (a store an older version wrote, or a new one):
 * afterwards every queue change keeps it up to date.
 */
export async function ensureQueueCount(kv: Deno.Kv): Promise<void> {
  const built = await kv.get(queueCountBuiltKey());
  if (built.versionstamp !== null) return;
  const counts = new Map<number, bigint>();
  for await (const entry of kv.list({ prefix: queuePrefix() })) {
    const queueAt = entry.key[2];
    if (typeof queueAt !== "number") continue;
    for (const node of nodesCounting(queueAt)) counts.set(node, (counts.get(node) ?? 0n) + 1n);
  }
  const stale: Deno.KvKey[] = [];
  for await (const entry of kv.list({ prefix: queueCountPrefix() })) stale.push(entry.key);
  const writes: ((op: Deno.AtomicOperation) => void)[] = [
    ...stale.map((key) => (op: Deno.AtomicOperation) => void op.delete(key)),
    ...[...counts].map(([node, n]) => (op: Deno.AtomicOperation) =>
      void op.set(queueCountKey(node), new Deno.KvU64(n))
    ),
  ];
  // Processes starting together on one file may find it locked for a moment: retried.
  for (let i = 0; i < writes.length; i += BUILD_BATCH) {
    await retryCas("building the queue's counts", async () => {
      const op = kv.atomic();
      for (const write of writes.slice(i, i + BUILD_BATCH)) write(op);
      return (await op.commit()).ok || undefined;
    });
  }
  // Another process may have built it meanwhile: the same counts, so either is right.
  await retryCas("building the queue's counts", async () => {
    await kv.atomic().check(built).set(queueCountBuiltKey(), true).commit();
    return true;
  });
}
