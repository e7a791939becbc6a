/**
 * Queue costs against queue length: for Q queued jobs (written straight into a KV file, from
 * Q/10 users), the time of one submit, one claim, the queue position of the last job, one
 * `/status` of it, of announcing positions after a start (the head of the queue and a
 * window further back, with their jobs read: what the worker does), and of cancelling a queued job.
 * Prints a row per Q.
 *
 * ```sh
 * scripts/deno run -A scripts/bench/queue.ts [--sizes 100,1000,10000,50000]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { configSchema } from "../../src/config/schema.ts";
import { KvJobService } from "../../src/jobs/kv_service.ts";
import { newJobId } from "../../src/jobs/ids.ts";
import { type Job, jobSchema } from "../../src/jobs/model.ts";
import { claimNext, positionsToAnnounce, queuePosition } from "../../src/jobs/queue.ts";
import { countQueueEntry } from "../../src/jobs/queue_count.ts";
import { jobTimings, readJobs } from "../../src/jobs/store.ts";
import { activeKey, jobByUserKey, jobKey, queueKey } from "../../src/kv/keys.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { sizes: { type: "string", default: "100,1000,10000,50000" } },
});
const sizes = values.sizes.split(",").map(Number);
const config = configSchema.parse({
  jobs: { max_queue_length: 100_000, max_active_per_user: 1000 },
});
const timings = jobTimings(config);

function album(n: number) {
  const id = n.toString(36).padStart(22, "0");
  return { kind: "album" as const, id, url: `https://open.spotify.com/album/${id}` };
}

/** Writes `count` queued jobs, 10 per atomic operation (each with its counts: KV allows 1000 mutations). */
async function fill(kv: Deno.Kv, count: number, t0: number): Promise<Job[]> {
  const jobs: Job[] = [];
  for (let i = 0; i < count; i += 10) {
    const op = kv.atomic();
    for (let j = i; j < Math.min(count, i + 10); j++) {
      const userId = 1 + (j % Math.max(1, Math.floor(count / 10)));
      const job = jobSchema.parse({
        id: newJobId(),
        userId,
        chatId: userId,
        url: album(j).url,
        kind: "album",
        state: "queued",
        createdAt: t0 + j,
        updatedAt: t0 + j,
        statusMessageId: 1,
      });
      op.set(jobKey(job.id), job).set(queueKey(job.createdAt, job.id), job.id)
        .set(activeKey(userId, job.id), job.id)
        .set(jobByUserKey(userId, job.createdAt, job.id), job.id);
      countQueueEntry(op, job.createdAt, 1);
      jobs.push(job);
    }
    await op.commit();
  }
  return jobs;
}

async function timed<T>(run: () => Promise<T>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

console.log("Q        submit ms  claim ms  position ms  status ms  announce ms  cancel ms");
for (const q of sizes) {
  const dir = await Deno.makeTempDir({ prefix: "dlbot-bench-queue-" });
  const kv = await Deno.openKv(`${dir}/kv.sqlite3`);
  try {
    const t0 = Date.now() - 10 * q;
    const jobs = await fill(kv, q, t0);
    const service = new KvJobService({ kv, config, timings });
    const last = jobs[jobs.length - 1];
    const submit = await timed(() =>
      service.submit({ userId: 999_999, chatId: 999_999, link: album(q + 1) })
    );
    const claim = await timed(() =>
      claimNext(kv, { owner: "bench", now: Date.now(), leaseMs: 60_000, maxConcurrent: 1_000_000 })
    );
    const position = await timed(() => queuePosition(kv, last?.id ?? "", last?.createdAt ?? 0));
    const status = await timed(() =>
      service.status({ userId: last?.userId ?? 1, isAdmin: false }, last?.id ?? "")
    );
    const announce = await timed(async () => {
      // A window half way down the queue, as the worker's turn-taking reaches it.
      const middle = jobs[q >> 1];
      const after = middle && queueKey(middle.createdAt, middle.id);
      const { positions } = await positionsToAnnounce(kv, after);
      await readJobs(kv, [...positions.keys()]);
    });
    // A queued job in the middle of the queue, cancelled by its owner.
    const victim = jobs[Math.floor(q / 3)];
    const cancel = await timed(() =>
      service.cancel({ userId: victim?.userId ?? 1, isAdmin: false }, victim?.id ?? "")
    );
    const cell = (ms: number, width: number) => ms.toFixed(1).padStart(width);
    console.log(
      `${String(q).padEnd(8)} ${cell(submit, 9)} ${cell(claim, 9)} ${cell(position, 12)} ${
        cell(status, 10)
      } ${cell(announce, 12)} ${cell(cancel, 10)}`,
    );
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
}
