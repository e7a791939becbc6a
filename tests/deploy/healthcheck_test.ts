import assert from "node:assert/strict";
import { defaultHealthUrl, runHealthcheck } from "../../src/cli/healthcheck.ts";

/** A readiness stub on a random loopback port that answers every request with `respond`. */
async function withStub(
  respond: (request: Request) => Response | Promise<Response>,
  body: (url: string) => Promise<void>,
): Promise<void> {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, respond);
  try {
    await body(`http://127.0.0.1:${server.addr.port}/readyz`);
  } finally {
    await server.shutdown();
  }
}

/** Runs the healthcheck and returns its exit code with the lines it printed. */
async function probe(url: string, timeoutMs?: number): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await runHealthcheck({ url, timeoutMs, print: (line) => lines.push(line) });
  return { code, lines };
}

Deno.test("healthcheck exits 0 and lists every check when the bot reports ready", async () => {
  await withStub(
    () =>
      Response.json({
        status: "ready",
        checks: {
          kv: { ok: true },
          telegram: { ok: true, last_success_seconds_ago: 4 },
          downloader: { ok: true },
        },
      }),
    async (url) => {
      const { code, lines } = await probe(url);
      assert.deepEqual(lines, ["healthy: ready (kv ok, telegram ok, downloader ok)"]);
      assert.deepEqual(code, 0);
    },
  );
});

Deno.test("healthcheck exits 1 and names the failing check on 503 not_ready", async () => {
  await withStub(
    () =>
      Response.json({
        status: "not_ready",
        checks: {
          kv: { ok: true },
          telegram: { ok: false, message: "no successful Telegram API call yet" },
          downloader: { ok: true },
        },
      }, { status: 503 }),
    async (url) => {
      const { code, lines } = await probe(url);
      assert.deepEqual(lines, [
        "unhealthy: not_ready (telegram: no successful Telegram API call yet)",
      ]);
      assert.deepEqual(code, 1);
    },
  );
});

Deno.test("healthcheck lists every failing check, in any of the accepted shapes", async () => {
  await withStub(
    () =>
      Response.json({
        status: "not_ready",
        checks: { kv: "database is locked", telegram: false, downloader: { status: "down" } },
      }, { status: 503 }),
    async (url) => {
      const { code, lines } = await probe(url);
      assert.deepEqual(lines, [
        "unhealthy: not_ready (kv: database is locked, telegram: failed, downloader: down)",
      ]);
      assert.equal(code, 1);
    },
  );
});

Deno.test("healthcheck exits 1 when a 200 answer does not say ready", async () => {
  await withStub(
    () => Response.json({ status: "draining", checks: { kv: "ok" } }),
    async (url) => {
      const { code, lines } = await probe(url);
      assert.deepEqual(lines, ["unhealthy: draining"]);
      assert.deepEqual(code, 1);
    },
  );
});

Deno.test("healthcheck exits 1 for an error page that is not a readiness report", async () => {
  await withStub(
    () => new Response("<html>Bad Gateway</html>", { status: 502 }),
    async (url) => {
      const { code, lines } = await probe(url);
      assert.deepEqual(code, 1);
      assert.match(lines[0] ?? "", /^unhealthy: HTTP 502/);
      assert.deepEqual(lines.length, 1);
    },
  );
});

Deno.test("healthcheck exits 2 with 'connection refused' when nothing listens", async () => {
  // Port 2: nothing listens there, no parallel test can take it in between (as it could a port
  // freed just before: tests bind ephemeral ports), and fetch does not block it as it does 9.
  const { code, lines } = await probe("http://127.0.0.1:2/readyz");
  assert.deepEqual(code, 2);
  assert.deepEqual(lines.length, 1);
  assert.match(
    lines[0] ?? "",
    /^unreachable: connection refused at http:\/\/127\.0\.0\.1:\d+\/readyz/,
  );
});

Deno.test("healthcheck exits 2 after the timeout when the server never answers", async () => {
  const { promise: released, resolve: release } = Promise.withResolvers<void>();
  await withStub(
    async () => {
      await released;
      return Response.json({ status: "ready", checks: {} });
    },
    async (url) => {
      const { code, lines } = await probe(url, 50);
      release();
      assert.deepEqual(lines, [`unreachable: no answer from ${url} within 50 ms`]);
      assert.deepEqual(code, 2);
    },
  );
});

Deno.test("healthcheck exits 2 for a URL it cannot use", async () => {
  const { code, lines } = await probe("not a url");
  assert.deepEqual(code, 2);
  assert.deepEqual(lines, ['unreachable: invalid URL "not a url"']);
});

Deno.test("defaultHealthUrl probes wildcard listen addresses on loopback", () => {
  assert.deepEqual(defaultHealthUrl("127.0.0.1:8080"), "http://127.0.0.1:8080/readyz");
  assert.deepEqual(defaultHealthUrl("0.0.0.0:8080"), "http://127.0.0.1:8080/readyz");
  assert.deepEqual(defaultHealthUrl("[::]:9090"), "http://[::1]:9090/readyz");
  assert.deepEqual(defaultHealthUrl("[::1]:8080"), "http://[::1]:8080/readyz");
  assert.deepEqual(defaultHealthUrl("bot.internal:8080"), "http://bot.internal:8080/readyz");
});
