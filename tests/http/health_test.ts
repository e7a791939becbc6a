import assert from "node:assert/strict";
import { createHealthChecks, type HealthCheckDeps } from "../../src/http/health.ts";

/** A clock tests move by hand. */
function clock(start = 1_800_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

function deps(kv: Deno.Kv, overrides: Partial<HealthCheckDeps> = {}): HealthCheckDeps {
  return {
    kv,
    telegram: { lastSuccessAt: () => Date.now() },
    downloaderCheck: () => Promise.resolve({ ok: true }),
    ...overrides,
  };
}

Deno.test("readiness() is ready when KV, Telegram and the downloader are fine", async () => {
  using kv = await Deno.openKv(":memory:");
  const c = clock();

  const result = await createHealthChecks(deps(kv, {
    telegram: { lastSuccessAt: () => c.now() - 5_000 },
    now: c.now,
  })).readiness();

  assert.deepEqual(result, {
    ready: true,
    checks: {
      kv: { ok: true },
      telegram: { ok: true, last_success_seconds_ago: 5 },
      downloader: { ok: true },
    },
  });
});

Deno.test("readiness() is not ready before the first successful Telegram call", async () => {
  using kv = await Deno.openKv(":memory:");

  const result = await createHealthChecks(deps(kv, {
    telegram: { lastSuccessAt: () => undefined },
  })).readiness();

  assert.equal(result.ready, false);
  assert.equal(result.checks.telegram?.ok, false);
  assert.match(String(result.checks.telegram?.message), /no successful Telegram API call yet/);
});

Deno.test("readiness() turns not ready when Telegram has been silent too long", async () => {
  using kv = await Deno.openKv(":memory:");
  const c = clock();
  const lastSuccess = c.now();
  const checks = createHealthChecks(deps(kv, {
    telegram: { lastSuccessAt: () => lastSuccess },
    maxTelegramSilenceMs: 60_000,
    now: c.now,
  }));

  c.advance(60_000);
  assert.equal((await checks.readiness()).ready, true);

  c.advance(1_000);
  const late = await checks.readiness();
  assert.equal(late.ready, false);
  assert.equal(late.checks.telegram?.last_success_seconds_ago, 61);
});

Deno.test("readiness() reuses the downloader check result for a minute", async () => {
  using kv = await Deno.openKv(":memory:");
  const c = clock();
  let calls = 0;
  let healthy = false;
  const checks = createHealthChecks(deps(kv, {
    downloaderCheck: () => {
      calls++;
      return Promise.resolve(healthy ? { ok: true } : { ok: false, message: "spotdl not found" });
    },
    telegram: { lastSuccessAt: c.now },
    now: c.now,
  }));

  const first = await checks.readiness();
  healthy = true;
  c.advance(59_000);
  const cached = await checks.readiness();
  c.advance(1_000);
  const fresh = await checks.readiness();

  assert.deepEqual(first.checks.downloader, { ok: false, message: "spotdl not found" });
  assert.equal(cached.ready, false);
  assert.equal(fresh.ready, true);
  assert.equal(calls, 2);
});

Deno.test("readiness() runs one downloader check for concurrent callers", async () => {
  using kv = await Deno.openKv(":memory:");
  let calls = 0;
  const checks = createHealthChecks(deps(kv, {
    downloaderCheck: () => {
      calls++;
      return Promise.resolve({ ok: true });
    },
  }));

  await Promise.all([checks.readiness(), checks.readiness(), checks.readiness()]);

  assert.equal(calls, 1);
});

Deno.test("readiness() reports a throwing downloader check as not ok with its message", async () => {
  using kv = await Deno.openKv(":memory:");

  const result = await createHealthChecks(deps(kv, {
    downloaderCheck: () => Promise.reject(new Error("permission denied")),
  })).readiness();

  assert.equal(result.ready, false);
  assert.deepEqual(result.checks.downloader, { ok: false, message: "permission denied" });
});

Deno.test("readiness() reports a failing KV as not ok", async () => {
  const kv = await Deno.openKv(":memory:");
  kv.close();

  const result = await createHealthChecks(deps(kv)).readiness();

  assert.equal(result.ready, false);
  assert.equal(result.checks.kv?.ok, false);
  assert.ok(result.checks.kv?.message);
});

Deno.test("readiness() reports a KV that does not answer in time as not ok", async () => {
  const hangingKv = { get: () => new Promise(() => {}) } as unknown as Deno.Kv;

  const result = await createHealthChecks(deps(hangingKv, { kvTimeoutMs: 10 })).readiness();

  assert.equal(result.ready, false);
  assert.deepEqual(result.checks.kv, { ok: false, message: "no answer within 10 ms" });
});
