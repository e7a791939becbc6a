import { assert, assertEquals, assertRejects } from "../_assert.ts";
import { TokenBucketLimiter } from "../../src/ratelimit/token_bucket.ts";
import { bucketKey } from "../../src/kv/keys.ts";

/** A clock the test moves by hand. */
function manualClock(start = 1_700_000_000_000) {
  let now = start;
  return { now: () => now, advance: (seconds: number) => void (now += seconds * 1000) };
}

async function withKv(fn: (kv: Deno.Kv) => Promise<void>): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  try {
    await fn(kv);
  } finally {
    kv.close();
  }
}

Deno.test("take() allows a burst up to capacity, then denies with the time to the next token", async () => {
  await withKv(async (kv) => {
    const clock = manualClock();
    const limiter = new TokenBucketLimiter(kv, {
      bucket: "commands",
      capacity: 3,
      refillPerSecond: 0.5,
      now: clock.now,
    });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await limiter.take(42));
    assertEquals(results.map((r) => [r.allowed, r.remaining]), [
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    assertEquals(results[3]?.retryAfterSeconds, 2);
    clock.advance(1.5);
    const stillDenied = await limiter.take(42);
    assertEquals([stillDenied.allowed, stillDenied.retryAfterSeconds], [false, 0.5]);
  });
});

Deno.test("take() refills tokens as time passes, never above capacity", async () => {
  await withKv(async (kv) => {
    const clock = manualClock();
    const limiter = new TokenBucketLimiter(kv, {
      bucket: "downloads",
      capacity: 2,
      refillPerSecond: 1,
      now: clock.now,
    });
    await limiter.take(7);
    await limiter.take(7);
    assertEquals((await limiter.take(7)).allowed, false);
    clock.advance(1);
    assertEquals(await limiter.take(7), {
      allowed: true,
      retryAfterSeconds: 0,
      remaining: 0,
      firstDenial: false,
    });
    clock.advance(3600);
    const afterIdle = await limiter.take(7);
    assertEquals([afterIdle.allowed, afterIdle.remaining], [true, 1]);
  });
});

Deno.test("firstDenial is true once per throttling episode", async () => {
  await withKv(async (kv) => {
    const clock = manualClock();
    const limiter = new TokenBucketLimiter(kv, {
      bucket: "commands",
      capacity: 1,
      refillPerSecond: 1,
      now: clock.now,
    });
    assert((await limiter.take(1)).allowed);
    const denials = [await limiter.take(1), await limiter.take(1), await limiter.take(1)];
    assertEquals(denials.map((d) => [d.allowed, d.firstDenial]), [
      [false, true],
      [false, false],
      [false, false],
    ]);
    clock.advance(1);
    assert((await limiter.take(1)).allowed);
    const nextEpisode = [await limiter.take(1), await limiter.take(1)];
    assertEquals(nextEpisode.map((d) => d.firstDenial), [true, false]);
  });
});

Deno.test("a steady spammer is told once; the episode ends only when the bucket is full again", async () => {
  await withKv(async (kv) => {
    const clock = manualClock();
    const limiter = new TokenBucketLimiter(kv, {
      bucket: "commands",
      capacity: 3,
      refillPerSecond: 1,
      now: clock.now,
    });
    for (let i = 0; i < 3; i++) assert((await limiter.take(1)).allowed);
    assertEquals((await limiter.take(1)).firstDenial, true);
    for (let second = 0; second < 5; second++) {
      clock.advance(1);
      assert((await limiter.take(1)).allowed, "one command a second gets through");
      const denied = await limiter.take(1);
      assertEquals([denied.allowed, denied.firstDenial], [false, false]);
    }
    clock.advance(3);
    for (let i = 0; i < 3; i++) assert((await limiter.take(1)).allowed);
    assertEquals((await limiter.take(1)).firstDenial, true, "a new episode after a quiet spell");
  });
});

Deno.test("users and buckets are limited independently", async () => {
  await withKv(async (kv) => {
    const clock = manualClock();
    const options = { capacity: 1, refillPerSecond: 0.01, now: clock.now };
    const commands = new TokenBucketLimiter(kv, { ...options, bucket: "commands" });
    const downloads = new TokenBucketLimiter(kv, { ...options, bucket: "downloads" });
    assert((await commands.take(1)).allowed);
    assert(!(await commands.take(1)).allowed);
    assert((await commands.take(2)).allowed);
    assert((await downloads.take(1)).allowed);
    assert((await kv.get(bucketKey("commands", 1))).value);
  });
});

Deno.test("bucket state survives closing and reopening the KV file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dlbot-bucket-test-" });
  try {
    const clock = manualClock();
    const options = { bucket: "downloads", capacity: 2, refillPerSecond: 0.001, now: clock.now };
    const first = await Deno.openKv(`${dir}/bot.kv`);
    try {
      const limiter = new TokenBucketLimiter(first, options);
      assert((await limiter.take(5)).allowed);
      assert((await limiter.take(5)).allowed);
    } finally {
      first.close();
    }
    const second = await Deno.openKv(`${dir}/bot.kv`);
    try {
      const denied = await new TokenBucketLimiter(second, options).take(5);
      assertEquals([denied.allowed, denied.firstDenial], [false, true]);
    } finally {
      second.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("concurrent takes for one user never allow more than capacity", async () => {
  await withKv(async (kv) => {
    const clock = manualClock();
    const limiter = new TokenBucketLimiter(kv, {
      bucket: "commands",
      capacity: 5,
      refillPerSecond: 1,
      now: clock.now,
    });
    const results = await Promise.all(Array.from({ length: 30 }, () => limiter.take(9)));
    assertEquals(results.filter((r) => r.allowed).length, 5);
    assertEquals(results.filter((r) => r.firstDenial).length, 1);
  });
});

Deno.test("a cost above capacity is rejected as a programming error", async () => {
  await withKv(async (kv) => {
    const limiter = new TokenBucketLimiter(kv, { bucket: "x", capacity: 2, refillPerSecond: 1 });
    await assertRejects(() => limiter.take(1, 3), RangeError);
  });
});
