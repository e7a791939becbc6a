import assert from "node:assert/strict";
import { join } from "node:path";
import type { HealthChecks, Readiness } from "../../src/http/health.ts";
import { createHttpHandler, parseListenAddress, startHttpServer } from "../../src/http/server.ts";
import { bundleLinkPath, fileLinkPath, LinkSigner } from "../../src/http/signing.ts";
import { createMetrics } from "../../src/metrics/metrics.ts";
import { VERSION } from "../../src/version.ts";
import { parsePrometheusText, sampleValue } from "../metrics/_prom_text.ts";

const SECRET = "server-test-secret-0123456789-abcdefgh";
const JOB = "abc123xyz0";
const OTHER_JOB = "other98765";
const SONG = "Sigur Rós - Hoppípolla.mp3";
const SONG_BYTES = new TextEncoder().encode("ID3 pretend this is music ".repeat(100));
const SECRET_TEXT = "TOP-SECRET-CONTENT";
const WEBHOOK_PATH = "/telegram/webhook";
const WEBHOOK_TOKEN = "webhook_token_0123456789";

const READY: Readiness = {
  ready: true,
  checks: {
    kv: { ok: true },
    telegram: { ok: true, last_success_seconds_ago: 3 },
    downloader: { ok: true },
  },
};
const NOT_READY: Readiness = {
  ready: false,
  checks: {
    kv: { ok: true },
    telegram: { ok: false, message: "no successful Telegram API call yet" },
    downloader: { ok: true },
  },
};

/**
 * A running server on 127.0.0.1:0 over a temp tree:
 * `<root>/secret.txt`, `<root>/outside/secret.mp3` (must never be served) and
 * `<root>/downloads/<JOB>/<SONG>`, `<root>/downloads/<OTHER_JOB>/theirs.mp3`.
 */
async function testServer(options: { drainMs?: number } = {}) {
  const root = await Deno.makeTempDir({ prefix: "dlbot_http_server_" });
  const downloads = join(root, "downloads");
  await Deno.mkdir(join(downloads, JOB), { recursive: true });
  await Deno.mkdir(join(downloads, OTHER_JOB), { recursive: true });
  await Deno.mkdir(join(root, "outside"));
  await Deno.writeFile(join(downloads, JOB, SONG), SONG_BYTES);
  await Deno.writeTextFile(join(downloads, OTHER_JOB, "theirs.mp3"), SECRET_TEXT);
  await Deno.writeTextFile(join(root, "secret.txt"), SECRET_TEXT);
  await Deno.writeTextFile(join(root, "outside", "secret.mp3"), SECRET_TEXT);

  const signer = await LinkSigner.fromSecret(SECRET);
  const metrics = createMetrics();
  const state = { readiness: READY, webhookBodies: [] as string[] };
  const health: HealthChecks = { readiness: () => Promise.resolve(state.readiness) };
  const handler = createHttpHandler({
    signer,
    downloadsDir: downloads,
    health,
    metrics,
    webhook: {
      path: WEBHOOK_PATH,
      secretToken: WEBHOOK_TOKEN,
      handle: async (request) => {
        state.webhookBodies.push(await request.text());
        return new Response("handled");
      },
    },
  });
  const server = startHttpServer({ listen: "127.0.0.1:0", handler, drainMs: options.drainMs });
  const base = `http://127.0.0.1:${server.addr.port}`;

  return {
    root,
    downloads,
    base,
    server,
    state,
    metrics,
    /** A link to `name` in `job`, valid for an hour unless `exp` says otherwise. */
    link: (name: string, job = JOB, exp = Math.floor(Date.now() / 1000) + 3600) =>
      signer.sign(fileLinkPath(job, name), exp),
    signer,
    /** Signs a raw (possibly malicious) path as if the secret had leaked. */
    signRaw: (path: string) => signer.sign(path, Math.floor(Date.now() / 1000) + 3600),
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await Deno.remove(root, { recursive: true });
    },
  };
}

/** Sends a request line exactly as given (fetch would normalise it) and reads the answer. */
async function rawGet(port: number, target: string): Promise<{ status: number; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const request = `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;
    await conn.write(new TextEncoder().encode(request));
    const chunks: Uint8Array<ArrayBuffer>[] = [];
    const buffer = new Uint8Array(16 * 1024);
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
    }
    const text = new TextDecoder().decode(await new Blob(chunks).arrayBuffer());
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
    return { status, body: text.slice(text.indexOf("\r\n\r\n") + 4) };
  } finally {
    conn.close();
  }
}

async function scrape(base: string) {
  const response = await fetch(`${base}/metrics`);
  return parsePrometheusText(await response.text());
}

Deno.test("a signed link downloads the file with its name and type", async () => {
  await using t = await testServer();

  const response = await fetch(t.base + await t.link(SONG));

  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "audio/mpeg");
  assert.match(
    response.headers.get("content-disposition") ?? "",
    /filename\*=UTF-8''Sigur%20R%C3%B3s/,
  );
  assert.deepEqual(new Uint8Array(await response.arrayBuffer()), SONG_BYTES);
});

Deno.test("a file in a folder of the job's directory is served by its link", async () => {
  await using t = await testServer();
  await Deno.mkdir(join(t.downloads, JOB, "Artist", "Album"), { recursive: true });
  await Deno.writeFile(join(t.downloads, JOB, "Artist", "Album", "01 - Song.mp3"), SONG_BYTES);

  const response = await fetch(t.base + await t.link("Artist/Album/01 - Song.mp3"));

  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-disposition") ?? "", /filename="01 - Song.mp3"/);
  assert.deepEqual(new Uint8Array(await response.arrayBuffer()), SONG_BYTES);
});

Deno.test("a FIFO in a job's directory is answered 404 at once instead of hanging", async () => {
  await using t = await testServer();
  const fifo = join(t.downloads, JOB, "pipe.mp3");
  const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
  assert.equal(made.code, 0, "mkfifo");
  const response = await fetch(t.base + await t.link("pipe.mp3"), {
    signal: AbortSignal.timeout(5_000),
  });
  assert.equal(response.status, 404);
  await response.body?.cancel();
});

Deno.test("a signed link answers HEAD and byte ranges", async () => {
  await using t = await testServer();
  const url = t.base + await t.link(SONG);

  const head = await fetch(url, { method: "HEAD" });
  const range = await fetch(url, { headers: { range: "bytes=-4" } });

  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-length"), String(SONG_BYTES.length));
  assert.equal(await head.text(), "");
  assert.equal(range.status, 206);
  assert.deepEqual(new Uint8Array(await range.arrayBuffer()), SONG_BYTES.slice(-4));
});

Deno.test("an expired link is answered with 410 link expired", async () => {
  await using t = await testServer();

  const response = await fetch(t.base + await t.link(SONG, JOB, Math.floor(Date.now() / 1000) - 1));

  assert.equal(response.status, 410);
  assert.equal(await response.text(), "link expired\n");
});

Deno.test("an expired zip or playlist link is answered with 410 link expired, a tampered one 403", async () => {
  await using t = await testServer();
  const past = Math.floor(Date.now() / 1000) - 1;
  for (const kind of ["zip", "m3u8"] as const) {
    const path = bundleLinkPath(JOB, "Album", kind);
    const expired = await fetch(t.base + await t.signer.sign(path, past));
    assert.equal(expired.status, 410, kind);
    assert.equal(await expired.text(), "link expired\n");
    const good = new URL(t.base + await t.signer.sign(path, past + 3600));
    good.searchParams.set("exp", String(past + 7200));
    const tampered = await fetch(good);
    assert.equal(tampered.status, 403, kind);
    assert.equal(await tampered.text(), "link invalid\n");
  }
});

Deno.test("a link with a bad or missing signature is answered with 403 link invalid", async () => {
  await using t = await testServer();
  const good = new URL(t.base + await t.link(SONG));

  const tamperedExp = new URL(good);
  tamperedExp.searchParams.set("exp", String(Number(good.searchParams.get("exp")) + 1));
  const otherFile = new URL(good);
  otherFile.pathname = fileLinkPath(OTHER_JOB, "theirs.mp3");
  const unsigned = new URL(good);
  unsigned.search = "";

  for (const url of [tamperedExp, otherFile, unsigned]) {
    const response = await fetch(url);
    assert.equal(response.status, 403, url.href);
    assert.equal(await response.text(), "link invalid\n");
  }
});

Deno.test("a correctly signed link to a file that does not exist is answered with 404", async () => {
  await using t = await testServer();

  const response = await fetch(t.base + await t.link("gone.mp3"));

  assert.equal(response.status, 404);
  await response.body?.cancel();
});

Deno.test("path traversal attempts never serve anything outside the job directory", async () => {
  await using t = await testServer();
  const port = t.server.addr.port;
  const attacks = [
    `/files/${JOB}/..%2F..%2Fsecret.txt`,
    `/files/${JOB}/%2E%2E%2F%2E%2E%2Fsecret.txt`,
    `/files/${JOB}/..%5C..%5Csecret.txt`,
    `/files/${JOB}/%2Fetc%2Fpasswd`,
    `/files/${JOB}/%2F${encodeURIComponent(t.root)}%2Fsecret.txt`,
    `/files/${JOB}/..`,
    `/files/${JOB}/%2e%2e`,
    `/files/${JOB}/secret.txt%00.mp3`,
    `/files/${JOB}/../../secret.txt`,
    `/files/${JOB}/%2e%2e/%2e%2e/secret.txt`,
    `/files/${JOB}/..\\..\\secret.txt`,
    `/files/..%2F${OTHER_JOB}/theirs.mp3`,
    `/files/${JOB}/../${OTHER_JOB}/theirs.mp3`,
    `/files//etc/passwd`,
    `/files/${JOB}/${encodeURIComponent(join(t.root, "secret.txt"))}`,
  ];
  for (const attack of attacks) {
    // Signed as if the secret had leaked, so only the path checks stand in the way.
    for (const target of [attack, await t.signRaw(attack)]) {
      const { status, body } = await rawGet(port, target);
      assert.ok(status === 404 || status === 403, `${target} → ${status}`);
      assert.ok(!body.includes(SECRET_TEXT), `${target} leaked the secret`);
    }
  }
});

Deno.test("symlinks that point outside the job directory are not followed", async () => {
  await using t = await testServer();
  await Deno.symlink(join(t.root, "secret.txt"), join(t.downloads, JOB, "leak.mp3"));
  await Deno.symlink(join(t.downloads, OTHER_JOB, "theirs.mp3"), join(t.downloads, JOB, "x.mp3"));
  await Deno.symlink(join(t.root, "outside"), join(t.downloads, "evil123456"));
  await Deno.symlink(SONG, join(t.downloads, JOB, "alias.mp3"));

  for (const [name, job] of [["leak.mp3", JOB], ["x.mp3", JOB], ["secret.mp3", "evil123456"]]) {
    const response = await fetch(t.base + await t.link(name ?? "", job));
    const body = await response.text();
    assert.equal(response.status, 404, `${job}/${name}`);
    assert.ok(!body.includes(SECRET_TEXT), `${job}/${name} leaked the secret`);
  }
  const inside = await fetch(t.base + await t.link("alias.mp3"));
  assert.equal(inside.status, 200);
  assert.deepEqual(new Uint8Array(await inside.arrayBuffer()), SONG_BYTES);
});

Deno.test("GET /healthz reports ok, uptime and version", async () => {
  await using t = await testServer();

  const response = await fetch(`${t.base}/healthz`);
  const body = await response.json();

  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "application/json");
  assert.equal(body.status, "ok");
  assert.equal(body.version, VERSION);
  assert.ok(Number.isInteger(body.uptime_seconds) && body.uptime_seconds >= 0);
});

Deno.test("GET /readyz answers 200 ready with the checks when all are ok", async () => {
  await using t = await testServer();

  const response = await fetch(`${t.base}/readyz`);

  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { status: "ready", checks: READY.checks });
});

Deno.test("GET /readyz answers 503 not_ready with the failing check", async () => {
  await using t = await testServer();
  t.state.readiness = NOT_READY;

  const response = await fetch(`${t.base}/readyz`);

  assert.equal(response.status, 503);
  assert.deepEqual(await response.json(), { status: "not_ready", checks: NOT_READY.checks });
});

Deno.test("GET /metrics is valid Prometheus text and counts the requests served", async () => {
  await using t = await testServer();
  t.metrics.commandLatency.observe({ command: "download" }, 0.3);

  const before = await scrape(t.base);
  await (await fetch(`${t.base}/healthz`)).body?.cancel();
  await (await fetch(`${t.base}/healthz`)).body?.cancel();
  await (await fetch(t.base + await t.link(SONG))).body?.cancel();
  await (await fetch(`${t.base}/files/${JOB}/a.mp3?exp=1&sig=x`)).body?.cancel();
  await (await fetch(`${t.base}/nope`)).body?.cancel();
  const metricsResponse = await fetch(`${t.base}/metrics`);
  const after = parsePrometheusText(await metricsResponse.text());

  assert.equal(metricsResponse.headers.get("content-type"), t.metrics.contentType);
  const count = (route: string, status: string) =>
    sampleValue(after, "dlbot_http_requests_total", { route, status });
  assert.equal(
    sampleValue(before, "dlbot_http_requests_total", { route: "healthz", status: "200" }),
    undefined,
  );
  assert.equal(count("healthz", "200"), 2);
  assert.equal(count("files", "200"), 1);
  assert.equal(count("files", "403"), 1);
  assert.equal(count("not_found", "404"), 1);
  assert.equal(count("metrics", "200"), 1);
  assert.equal(
    sampleValue(after, "dlbot_command_duration_seconds_count", { command: "download" }),
    1,
  );
});

Deno.test("the webhook path delegates only requests carrying the secret token", async () => {
  await using t = await testServer();
  const url = `${t.base}${WEBHOOK_PATH}`;
  const update = JSON.stringify({ update_id: 1 });

  const missing = await fetch(url, { method: "POST", body: update });
  const wrong = await fetch(url, {
    method: "POST",
    body: update,
    headers: { "x-telegram-bot-api-secret-token": "webhook_token_0123456780" },
  });
  const right = await fetch(url, {
    method: "POST",
    body: update,
    headers: { "x-telegram-bot-api-secret-token": WEBHOOK_TOKEN },
  });
  const get = await fetch(url);

  assert.equal(missing.status, 401);
  assert.equal(wrong.status, 401);
  assert.equal(right.status, 200);
  assert.equal(await right.text(), "handled");
  assert.equal(get.status, 405);
  await Promise.all([missing, wrong, get].map((r) => r.body?.cancel()));
  assert.deepEqual(t.state.webhookBodies, [update]);
});

Deno.test("the webhook refuses bodies over 1 MB (413) and bodies that are not JSON (400)", async () => {
  await using t = await testServer();
  const url = `${t.base}${WEBHOOK_PATH}`;
  const headers = { "x-telegram-bot-api-secret-token": WEBHOOK_TOKEN };
  const big = await fetch(url, {
    method: "POST",
    headers,
    body: `{"update_id":1,"x":"${"a".repeat(2 * 1024 * 1024)}"}`,
  });
  const chunked = await fetch(url, {
    method: "POST",
    headers,
    body: new Blob([`{"x":"${"a".repeat(1024 * 1024)}"}`]).stream(),
  });
  const junk = await fetch(url, { method: "POST", headers, body: "{not json" });
  assert.equal(big.status, 413);
  assert.equal(chunked.status, 413, "a body without Content-Length is cut at the limit too");
  assert.equal(junk.status, 400);
  await Promise.all([big, chunked, junk].map((r) => r.body?.cancel()));
  assert.deepEqual(t.state.webhookBodies, [], "nothing reached the bot");
});

Deno.test("unknown paths get 404 and wrong methods on known routes get 405", async () => {
  await using t = await testServer();

  const unknown = await fetch(`${t.base}/admin`);
  const post = await fetch(`${t.base}/healthz`, { method: "POST" });

  assert.equal(unknown.status, 404);
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
  await unknown.body?.cancel();
  await post.body?.cancel();
});

Deno.test("a handler error becomes a plain 500 and is counted", async () => {
  const metrics = createMetrics();
  const handler = createHttpHandler({
    signer: await LinkSigner.fromSecret(SECRET),
    downloadsDir: "/nonexistent",
    health: { readiness: () => Promise.reject(new Error("boom")) },
    metrics,
  });

  const response = await handler(new Request("http://127.0.0.1/readyz"));

  assert.equal(response.status, 500);
  assert.equal(await response.text(), "internal error\n");
  const families = parsePrometheusText(await metrics.render());
  assert.equal(
    sampleValue(families, "dlbot_http_requests_total", { route: "readyz", status: "500" }),
    1,
  );
});

Deno.test("shutdown() cuts a download that is still in flight after the drain time", async () => {
  await using t = await testServer({ drainMs: 0 });
  const size = 8 * 1024 * 1024;
  await Deno.writeFile(join(t.downloads, JOB, "big.flac"), new Uint8Array(size));

  const response = await fetch(t.base + await t.link("big.flac"));
  const reader = response.body!.getReader();
  let received = (await reader.read()).value?.length ?? 0;
  await t.server.shutdown();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.length;
    }
  } catch {
    // The connection was cut: expected.
  } finally {
    reader.releaseLock();
  }

  assert.ok(received < size, `received ${received} of ${size} bytes`);
  await t.server.finished;
});

Deno.test("aborting the signal stops the server", async () => {
  const controller = new AbortController();
  const server = startHttpServer({
    listen: "127.0.0.1:0",
    handler: () => Promise.resolve(new Response("hi")),
    signal: controller.signal,
  });
  assert.equal(await (await fetch(`http://127.0.0.1:${server.addr.port}/`)).text(), "hi");

  controller.abort();
  await server.finished;

  await assert.rejects(() => fetch(`http://127.0.0.1:${server.addr.port}/`));
});

Deno.test("startHttpServer() reports a port that is already in use", async () => {
  const handler = () => Promise.resolve(new Response("hi"));
  const first = startHttpServer({ listen: "127.0.0.1:0", handler });
  try {
    assert.throws(
      () => startHttpServer({ listen: `127.0.0.1:${first.addr.port}`, handler }),
      /cannot listen on 127\.0\.0\.1:\d+/,
    );
  } finally {
    await first.shutdown();
  }
});

Deno.test("parseListenAddress() reads host:port and [v6]:port and rejects the rest", () => {
  assert.deepEqual(parseListenAddress("127.0.0.1:8080"), { hostname: "127.0.0.1", port: 8080 });
  assert.deepEqual(parseListenAddress("[::1]:0"), { hostname: "::1", port: 0 });
  assert.deepEqual(parseListenAddress("localhost:9"), { hostname: "localhost", port: 9 });
  for (const bad of ["8080", "host:", "host:70000", "a b:1"]) {
    assert.throws(() => parseListenAddress(bad), TypeError, bad);
  }
});
