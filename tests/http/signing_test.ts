import assert from "node:assert/strict";
import { signingSecretKey } from "../../src/kv/keys.ts";
import {
  fileLinkPath,
  LinkSigner,
  loadOrCreateSigningSecret,
  parseFileLinkPath,
  publicFileUrl,
} from "../../src/http/signing.ts";

const SECRET = "test-secret-0123456789-abcdefghijklmnop";
const NOW_MS = 1_800_000_000_000;
const PATH = "/files/abc123xyz0/Artist%20-%20Song.mp3";

function signer(secret = SECRET, nowMs = NOW_MS): Promise<LinkSigner> {
  return LinkSigner.fromSecret(secret, { now: () => nowMs });
}

function query(link: string): { path: string; exp: string | null; sig: string | null } {
  const url = new URL(link, "http://x");
  return { path: url.pathname, exp: url.searchParams.get("exp"), sig: url.searchParams.get("sig") };
}

Deno.test("sign() returns path?exp&sig and verify() accepts it before the expiry", async () => {
  const s = await signer();
  const link = await s.sign(PATH, NOW_MS / 1000 + 60);

  const { path, exp, sig } = query(link);
  assert.equal(path, PATH);
  assert.equal(exp, String(NOW_MS / 1000 + 60));
  assert.match(sig ?? "", /^[A-Za-z0-9_-]{43}$/);
  assert.equal(await s.verify(path, exp, sig), "ok");
});

Deno.test("verify() reports an authentic link past its expiry as expired", async () => {
  const exp = NOW_MS / 1000 + 60;
  const link = await (await signer()).sign(PATH, exp);
  const { sig } = query(link);

  assert.equal(await (await signer(SECRET, exp * 1000 - 1)).verify(PATH, exp, sig), "ok");
  assert.equal(await (await signer(SECRET, exp * 1000)).verify(PATH, exp, sig), "expired");
});

Deno.test("verify() rejects a tampered expiry, signature, path or missing parts as invalid", async () => {
  const s = await signer();
  const { exp, sig } = query(await s.sign(PATH, NOW_MS / 1000 + 60));
  const flipped = (sig?.[0] === "A" ? "B" : "A") + (sig ?? "").slice(1);

  assert.equal(await s.verify(PATH, String(Number(exp) + 3600), sig), "invalid");
  assert.equal(await s.verify(PATH, exp, flipped), "invalid");
  assert.equal(await s.verify("/files/abc123xyz0/Other.mp3", exp, sig), "invalid");
  assert.equal(await s.verify("/files/zzz999zzz9/Artist%20-%20Song.mp3", exp, sig), "invalid");
  assert.equal(await s.verify(PATH, null, sig), "invalid");
  assert.equal(await s.verify(PATH, exp, null), "invalid");
  assert.equal(await s.verify(PATH, "-5", sig), "invalid");
  assert.equal(await s.verify(PATH, exp, "not base64!"), "invalid");
});

Deno.test("verify() accepts only the canonical spelling of a signature", async () => {
  const s = await signer();
  const { exp, sig = "" } = query(await s.sign(PATH, NOW_MS / 1000 + 60));
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const last = alphabet.indexOf(sig?.at(-1) ?? "A");
  // The last of 43 characters carries 4 bits and 2 padding bits: these three decode the same.
  for (let pad = 1; pad < 4; pad++) {
    const variant = `${sig?.slice(0, -1)}${alphabet[(last & ~3) | ((last + pad) & 3)]}`;
    assert.equal(await s.verify(PATH, exp, variant), "invalid", variant);
  }
  assert.equal(await s.verify(PATH, exp, sig), "ok");
});

Deno.test("a link signed with another secret is invalid", async () => {
  const other = await signer("another-secret-0123456789-abcdefghijk");
  const { exp, sig } = query(await other.sign(PATH, NOW_MS / 1000 + 60));

  assert.equal(await (await signer()).verify(PATH, exp, sig), "invalid");
});

Deno.test("LinkSigner refuses secrets that are too short to be safe", async () => {
  await assert.rejects(() => LinkSigner.fromSecret("short"), TypeError);
  assert.throws(() => new LinkSigner(new Uint8Array(8)), TypeError);
});

Deno.test("fileLinkPath() encodes the name and parseFileLinkPath() reads it back", () => {
  const name = "Sigur Rós - Hoppípolla (Live) #1?.mp3";
  const path = fileLinkPath("abc123xyz0", name);

  assert.equal(path, `/files/abc123xyz0/${encodeURIComponent(name)}`);
  assert.deepEqual(parseFileLinkPath(path), {
    jobId: "abc123xyz0",
    fileName: name,
    canonicalPath: path,
  });
});

Deno.test("parseFileLinkPath() canonicalises alternative percent-encodings of the same name", () => {
  const target = parseFileLinkPath("/files/abc123xyz0/%41rtist%20%28live%29.mp3");
  assert.equal(target?.fileName, "Artist (live).mp3");
  assert.equal(target?.canonicalPath, "/files/abc123xyz0/Artist%20(live).mp3");
});

Deno.test("parseFileLinkPath() rejects paths that could leave the job directory", () => {
  for (
    const raw of [
      "/files/abc123xyz0/..",
      "/files/abc123xyz0/%2E%2E",
      "/files/abc123xyz0/..%2Fsecret.txt",
      "/files/abc123xyz0/%2Fetc%2Fpasswd",
      "/files/abc123xyz0/a%5C..%5Cb",
      "/files/abc123xyz0/a%00.mp3",
      "/files/abc123xyz0/%E0%A4%A",
      "/files/abc123xyz0/sub/../file.mp3",
      "/files/abc123xyz0/sub//file.mp3",
      "/files/abc123xyz0/a/b/c/d/e/f/g/h/i/file.mp3",
      "/files/ABC123xyz0/file.mp3",
      "/files/../file.mp3",
      "/files/abc123xyz0/",
    ]
  ) {
    assert.equal(parseFileLinkPath(raw), undefined, raw);
  }
});

Deno.test("files in folders of the job's directory (albums the downloader nests) get links", () => {
  const path = fileLinkPath("abc123xyz0", "Artist/Album (2024)/01 - Song.mp3");
  assert.equal(path, "/files/abc123xyz0/Artist/Album%20(2024)/01%20-%20Song.mp3");
  const target = parseFileLinkPath(path);
  assert.equal(target?.fileName, "Artist/Album (2024)/01 - Song.mp3");
  assert.equal(target?.canonicalPath, path);
  assert.equal(parseFileLinkPath("/files/abc123xyz0/a%2Fb.mp3"), undefined, "no encoded slash");
});

Deno.test("fileLinkPath() refuses names and ids that could not be served", () => {
  assert.throws(() => fileLinkPath("abc123xyz0", "../x.mp3"), TypeError);
  assert.throws(() => fileLinkPath("abc123xyz0", ".."), TypeError);
  assert.throws(() => fileLinkPath("../etc", "x.mp3"), TypeError);
});

Deno.test("publicFileUrl() joins the base URL with or without a base path and slashes", () => {
  const signed = "/files/abc123xyz0/a.mp3?exp=1&sig=x";
  assert.equal(publicFileUrl("https://x.example", signed), `https://x.example${signed}`);
  assert.equal(publicFileUrl("https://x.example/", signed), `https://x.example${signed}`);
  assert.equal(
    publicFileUrl("https://x.example/dlbot", signed),
    `https://x.example/dlbot${signed}`,
  );
  assert.equal(
    publicFileUrl("https://x.example:8443/dlbot//", signed),
    `https://x.example:8443/dlbot${signed}`,
  );
});

Deno.test("loadOrCreateSigningSecret() prefers the configured secret and stores nothing", async () => {
  using kv = await Deno.openKv(":memory:");
  const configured = "configured-secret-0123456789-abcdefghij";

  assert.equal(await loadOrCreateSigningSecret(kv, configured), configured);
  assert.equal((await kv.get(signingSecretKey())).value, null);
});

Deno.test("loadOrCreateSigningSecret() creates one secret in KV and returns it every time", async () => {
  using kv = await Deno.openKv(":memory:");

  const concurrent = await Promise.all(
    Array.from({ length: 5 }, () => loadOrCreateSigningSecret(kv)),
  );
  const later = await loadOrCreateSigningSecret(kv);

  assert.equal(new Set([...concurrent, later]).size, 1);
  assert.equal((await kv.get(signingSecretKey())).value, later);
  assert.match(later, /^[A-Za-z0-9_-]{43}$/);
  await LinkSigner.fromSecret(later);
});

Deno.test("loadOrCreateSigningSecret() rides out SQLite's 'database is locked' of a process starting beside it", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    let locked = 2;
    const flaky = new Proxy(kv, {
      get(target, prop) {
        if (prop !== "atomic") {
          const value = Reflect.get(target, prop, target);
          return typeof value === "function" ? value.bind(target) : value;
        }
        return () => {
          const op = target.atomic();
          const commit = op.commit.bind(op);
          op.commit = () =>
            locked-- > 0 ? Promise.reject(new TypeError("database is locked")) : commit();
          return op;
        };
      },
    });
    const secret = await loadOrCreateSigningSecret(flaky);
    assert.ok(secret.length >= 32);
    assert.equal(await loadOrCreateSigningSecret(kv), secret, "stored once, read back");
  } finally {
    kv.close();
  }
});
