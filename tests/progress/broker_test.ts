import { assert, assertEquals } from "../_assert.ts";
import { type Job, jobSchema } from "../../src/jobs/model.ts";
import type { JobObserver } from "../../src/jobs/service.ts";
import { ObserverFanout, ProgressBroker } from "../../src/progress/broker.ts";

function makeJob(id: string, done = 0): Job {
  return jobSchema.parse({
    id,
    userId: 1,
    chatId: 1,
    url: "https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy",
    kind: "album",
    state: "running",
    createdAt: 0,
    updatedAt: 0,
    progress: { done },
  });
}

function recordingLogger() {
  const errors: string[] = [];
  return { errors, logger: { error: (message: string) => errors.push(message) } };
}

Deno.test("ProgressBroker delivers a job's states only to that job's listeners", () => {
  const broker = new ProgressBroker();
  const seenA: number[] = [];
  const seenAll: string[] = [];
  broker.subscribe("jobaaaaaa", (job) => seenA.push(job.progress.done));
  broker.subscribeAll((job) => seenAll.push(job.id));
  broker.publish(makeJob("jobaaaaaa", 1));
  broker.publish(makeJob("jobbbbbbb", 2));
  broker.publish(makeJob("jobaaaaaa", 3));
  assertEquals(seenA, [1, 3]);
  assertEquals(seenAll, ["jobaaaaaa", "jobbbbbbb", "jobaaaaaa"]);
});

Deno.test("ProgressBroker stops delivering after unsubscribe and forgets empty jobs", () => {
  const broker = new ProgressBroker();
  const seen: number[] = [];
  const unsubscribe = broker.subscribe("jobaaaaaa", (job) => seen.push(job.progress.done));
  const unsubscribeAll = broker.subscribeAll(() => seen.push(-1));
  broker.publish(makeJob("jobaaaaaa", 1));
  unsubscribe();
  unsubscribe();
  unsubscribeAll();
  broker.publish(makeJob("jobaaaaaa", 2));
  assertEquals(seen, [1, -1]);
  assertEquals(broker.listenerCount(), 0);
  assertEquals(broker.listenerCount("jobaaaaaa"), 0);
});

Deno.test("ProgressBroker isolates a throwing listener and logs it", () => {
  const { errors, logger } = recordingLogger();
  const broker = new ProgressBroker({ logger });
  const seen: string[] = [];
  broker.subscribe("jobaaaaaa", () => {
    throw new Error("boom");
  });
  broker.subscribe("jobaaaaaa", (job) => seen.push(job.id));
  broker.publish(makeJob("jobaaaaaa"));
  assertEquals(seen, ["jobaaaaaa"]);
  assertEquals(errors, ["progress listener failed"]);
});

Deno.test("ProgressBroker allows unsubscribing from inside a listener", () => {
  const broker = new ProgressBroker();
  const seen: number[] = [];
  const unsubscribe = broker.subscribe("jobaaaaaa", (job) => {
    seen.push(job.progress.done);
    unsubscribe();
  });
  broker.subscribe("jobaaaaaa", (job) => seen.push(job.progress.done * 10));
  broker.publish(makeJob("jobaaaaaa", 1));
  broker.publish(makeJob("jobaaaaaa", 2));
  assertEquals(seen, [1, 10, 20]);
});

Deno.test("ProgressBroker as an observer publishes updates and final states", async () => {
  const broker = new ProgressBroker();
  const seen: string[] = [];
  broker.subscribe("jobaaaaaa", (job) => seen.push(job.state));
  broker.onUpdate(makeJob("jobaaaaaa"));
  await broker.onFinished({ ...makeJob("jobaaaaaa"), state: "succeeded" });
  assertEquals(seen, ["running", "succeeded"]);
});

Deno.test("ObserverFanout forwards to every observer even when one fails", async () => {
  const { errors, logger } = recordingLogger();
  const calls: string[] = [];
  const failing: JobObserver = {
    onUpdate() {
      throw new Error("update broke");
    },
    onFinished() {
      throw new Error("finish broke synchronously");
    },
  };
  const rejecting: JobObserver = {
    onUpdate: (job) => calls.push(`rejecting.update:${job.id}`),
    onFinished: () => Promise.reject(new Error("finish broke")),
  };
  const healthy: JobObserver = {
    onUpdate: (job) => calls.push(`healthy.update:${job.id}`),
    onFinished: async (job) => {
      await Promise.resolve();
      calls.push(`healthy.finished:${job.id}`);
    },
  };
  const fanout = new ObserverFanout([failing, rejecting, healthy], { logger });
  fanout.onUpdate(makeJob("jobaaaaaa"));
  await fanout.onFinished(makeJob("jobaaaaaa"));
  assertEquals(calls, [
    "rejecting.update:jobaaaaaa",
    "healthy.update:jobaaaaaa",
    "healthy.finished:jobaaaaaa",
  ]);
  assertEquals(errors, [
    "job observer failed on update",
    "job observer failed on finish",
    "job observer failed on finish",
  ]);
});

Deno.test("ObserverFanout.onFinished waits for every observer", async () => {
  const { logger } = recordingLogger();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  let finished = false;
  const slow: JobObserver = {
    onUpdate: () => {},
    onFinished: async () => {
      await gate;
      finished = true;
    },
  };
  const done = new ObserverFanout([slow], { logger }).onFinished(makeJob("jobaaaaaa"));
  await Promise.resolve();
  assert(!finished);
  release();
  await done;
  assert(finished);
});
