import assert from "node:assert/strict";
import { join } from "node:path";
import { contentDisposition, parseRange, serveFile } from "../../src/http/file_response.ts";

/** A temp dir with one file of `size` known bytes (byte i = i % 251); removed on dispose. */
async function fixture(name: string, size: number) {
  const dir = await Deno.makeTempDir({ prefix: "dlbot_file_response_" });
  const content = Uint8Array.from({ length: size }, (_, i) => i % 251);
  const path = join(dir, name);
  await Deno.writeFile(path, content);
  return {
    dir,
    path,
    content,
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function get(headers: Record<string, string> = {}, method = "GET"): Request {
  return new Request("http://127.0.0.1/files/x/y", { method, headers });
}

async function bytes(response: Response): Promise<Uint8Array> {
  return new Uint8Array(await response.arrayBuffer());
}

Deno.test("serveFile() sends the whole file with length, type and range support announced", async () => {
  await using f = await fixture("Song.mp3", 200_000);

  const response = await serveFile(get(), f.path);

  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "audio/mpeg");
  assert.equal(response.headers.get("content-length"), "200000");
  assert.equal(response.headers.get("accept-ranges"), "bytes");
  assert.equal(response.headers.get("content-disposition"), 'attachment; filename="Song.mp3"');
  assert.ok(response.headers.get("etag"));
  assert.ok(response.headers.get("last-modified"));
  assert.deepEqual(await bytes(response), f.content);
});

Deno.test("serveFile() answers a first-bytes range with 206 and exactly those bytes", async () => {
  await using f = await fixture("a.flac", 200_000);

  const response = await serveFile(get({ range: "bytes=0-99" }), f.path);

  assert.equal(response.status, 206);
  assert.equal(response.headers.get("content-range"), "bytes 0-99/200000");
  assert.equal(response.headers.get("content-length"), "100");
  assert.deepEqual(await bytes(response), f.content.subarray(0, 100));
});

Deno.test("serveFile() answers a range spanning read chunks with exactly those bytes", async () => {
  await using f = await fixture("a.flac", 200_000);

  const response = await serveFile(get({ range: "bytes=65000-140000" }), f.path);

  assert.equal(response.status, 206);
  assert.equal(response.headers.get("content-range"), "bytes 65000-140000/200000");
  assert.deepEqual(await bytes(response), f.content.subarray(65000, 140001));
});

Deno.test("serveFile() answers a suffix range with the last n bytes", async () => {
  await using f = await fixture("a.ogg", 1000);

  const response = await serveFile(get({ range: "bytes=-10" }), f.path);

  assert.equal(response.status, 206);
  assert.equal(response.headers.get("content-range"), "bytes 990-999/1000");
  assert.deepEqual(await bytes(response), f.content.subarray(990));
});

Deno.test("serveFile() answers an open-ended range from the offset to the end", async () => {
  await using f = await fixture("a.ogg", 1000);

  const response = await serveFile(get({ range: "bytes=400-" }), f.path);

  assert.equal(response.status, 206);
  assert.equal(response.headers.get("content-range"), "bytes 400-999/1000");
  assert.equal(response.headers.get("content-length"), "600");
  assert.deepEqual(await bytes(response), f.content.subarray(400));
});

Deno.test("serveFile() clamps a range that ends past the file", async () => {
  await using f = await fixture("a.ogg", 1000);

  const response = await serveFile(get({ range: "bytes=900-5000" }), f.path);

  assert.equal(response.headers.get("content-range"), "bytes 900-999/1000");
  assert.deepEqual(await bytes(response), f.content.subarray(900));
});

Deno.test("serveFile() answers a range starting past the end with 416 and the size", async () => {
  await using f = await fixture("a.ogg", 1000);

  for (const range of ["bytes=1000-", "bytes=5000-6000", "bytes=-0"]) {
    const response = await serveFile(get({ range }), f.path);
    assert.equal(response.status, 416, range);
    assert.equal(response.headers.get("content-range"), "bytes */1000", range);
    await response.body?.cancel();
  }
});

Deno.test("serveFile() sends the whole file for multi-part, malformed or other-unit ranges", async () => {
  await using f = await fixture("a.ogg", 1000);

  for (const range of ["bytes=0-1,5-6", "bytes=abc", "items=0-5", "bytes=9-3"]) {
    const response = await serveFile(get({ range }), f.path);
    assert.equal(response.status, 200, range);
    assert.deepEqual(await bytes(response), f.content, range);
  }
});

Deno.test("serveFile() ignores a range whose If-Range validator no longer matches", async () => {
  await using f = await fixture("a.ogg", 1000);
  const etag = (await serveFile(get({}, "HEAD"), f.path)).headers.get("etag") ?? "";

  const stale = await serveFile(get({ range: "bytes=0-9", "if-range": '"old"' }), f.path);
  assert.equal(stale.status, 200);
  assert.deepEqual(await bytes(stale), f.content);

  const current = await serveFile(get({ range: "bytes=0-9", "if-range": etag }), f.path);
  assert.equal(current.status, 206);
  assert.deepEqual(await bytes(current), f.content.subarray(0, 10));
});

Deno.test("serveFile() answers If-None-Match with the current ETag with 304 and no body", async () => {
  await using f = await fixture("a.ogg", 1000);
  const etag = (await serveFile(get({}, "HEAD"), f.path)).headers.get("etag") ?? "";

  const response = await serveFile(get({ "if-none-match": etag }), f.path);

  assert.equal(response.status, 304);
  assert.equal(response.body, null);
});

Deno.test("serveFile() answers HEAD with the headers of GET and no body", async () => {
  await using f = await fixture("a.m4a", 1234);

  const full = await serveFile(get({}, "HEAD"), f.path);
  const ranged = await serveFile(get({ range: "bytes=0-9" }, "HEAD"), f.path);

  assert.equal(full.status, 200);
  assert.equal(full.body, null);
  assert.equal(full.headers.get("content-length"), "1234");
  assert.equal(full.headers.get("content-type"), "audio/mp4");
  assert.equal(ranged.status, 206);
  assert.equal(ranged.body, null);
  assert.equal(ranged.headers.get("content-length"), "10");
});

Deno.test("serveFile() answers other methods with 405", async () => {
  await using f = await fixture("a.mp3", 10);

  const response = await serveFile(get({}, "DELETE"), f.path);

  assert.equal(response.status, 405);
  assert.equal(response.headers.get("allow"), "GET, HEAD");
  await response.body?.cancel();
  assert.ok(await Deno.stat(f.path));
});

Deno.test("serveFile() picks the content type from the extension, case-insensitively", async () => {
  const expected: Record<string, string> = {
    "a.mp3": "audio/mpeg",
    "b.FLAC": "audio/flac",
    "c.ogg": "audio/ogg",
    "d.opus": "audio/opus",
    "e.m4a": "audio/mp4",
    "f.wav": "audio/wav",
    "g.zip": "application/zip",
    "h.exe": "application/octet-stream",
    "noext": "application/octet-stream",
  };
  await using f = await fixture("x", 1);
  for (const [name, type] of Object.entries(expected)) {
    const response = await serveFile(get({}, "HEAD"), f.path, { downloadName: name });
    assert.equal(response.headers.get("content-type"), type, name);
  }
});

Deno.test("serveFile() keeps a non-ASCII file name in filename* with an ASCII fallback", async () => {
  const name = 'Björk – "Jóga" 日本.mp3';
  await using f = await fixture(name, 10);

  const response = await serveFile(get({}, "HEAD"), f.path);
  const disposition = response.headers.get("content-disposition") ?? "";

  const star = /filename\*=UTF-8''([^;]+)/.exec(disposition)?.[1] ?? "";
  assert.equal(decodeURIComponent(star), name);
  assert.match(star, /^[A-Za-z0-9!#$&+\-.^_`|~%]+$/);
  const fallback = /filename="([^"]*)"/.exec(disposition)?.[1] ?? "";
  assert.match(fallback, /^[\x20-\x7e]+$/);
  assert.ok(fallback.endsWith(".mp3"));
});

Deno.test("contentDisposition() escapes characters RFC 5987 does not allow raw", () => {
  assert.equal(
    contentDisposition("it's (live)*.mp3"),
    `attachment; filename="it's (live)*.mp3"`,
  );
  assert.equal(
    contentDisposition("é's (x).mp3"),
    `attachment; filename="_'s (x).mp3"; filename*=UTF-8''%C3%A9%27s%20%28x%29.mp3`,
  );
});

Deno.test("serveFile() answers a missing file or a directory with 404", async () => {
  await using f = await fixture("a.mp3", 10);

  const missing = await serveFile(get(), join(f.dir, "nope.mp3"));
  const directory = await serveFile(get(), f.dir);

  assert.equal(missing.status, 404);
  assert.equal(directory.status, 404);
  await missing.body?.cancel();
  await directory.body?.cancel();
});

Deno.test("serveFile() sends an empty file as an empty 200", async () => {
  await using f = await fixture("empty.mp3", 0);

  const response = await serveFile(get(), f.path);

  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-length"), "0");
  assert.equal((await bytes(response)).length, 0);
});

Deno.test("aborting the signal ends a body in flight and releases the file", async () => {
  await using f = await fixture("big.mp3", 1_000_000);
  const controller = new AbortController();

  const response = await serveFile(get(), f.path, { signal: controller.signal });
  const reader = response.body!.getReader();
  const first = await reader.read();
  controller.abort();

  assert.equal(first.done, false);
  await assert.rejects(async () => {
    while (!(await reader.read()).done) { /* drain */ }
  }, /shutting down/);
});

Deno.test("parseRange() covers the byte-range forms", () => {
  assert.deepEqual(parseRange("bytes=0-0", 10), { start: 0, end: 0 });
  assert.deepEqual(parseRange("bytes=-20", 10), { start: 0, end: 9 });
  assert.deepEqual(parseRange("bytes=9-", 10), { start: 9, end: 9 });
  assert.equal(parseRange("bytes=0-", 0), "unsatisfiable");
  assert.equal(parseRange("bytes=-", 10), undefined);
});
