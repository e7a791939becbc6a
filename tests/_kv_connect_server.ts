/**
 * A KV Connect server for tests: what a denokv server does for `Deno.openKv("http://…")`, kept in
 * memory. No denokv binary can be installed here, so the protocol is implemented from its
 * specification (denoland/denokv `proto/kv-connect.md`, `proto/schema/datapath.proto`): the
 * metadata exchange (protocol version 2), snapshot reads and atomic writes with checks, set,
 * delete, sum, min and max, and expiry. Keys and values are the client's bytes, compared as bytes
 * (the key encoding keeps KV's order). Enqueues and watches are not served (dlbot uses neither).
 *
 * The few protobuf messages are read and written by hand below: six message types of varints
 * and byte strings do not warrant a protobuf library and its generated code.
 *
 * @module
 */

/** A running server; its URL goes into `DLBOT_KV_PATH`, its token into `DENO_KV_ACCESS_TOKEN`. */
export interface KvConnectServer {
  url: string;
  token: string;
  /** Atomic writes and snapshot reads served, for tests that want to see the store used. */
  readonly stats: { reads: number; writes: number };
  close(): Promise<void>;
}

interface Stored {
  key: Uint8Array;
  value: Uint8Array;
  encoding: number;
  versionstamp: Uint8Array;
  expireAt?: number;
}

const VE_LE64 = 2;
const M_SET = 1;
const M_DELETE = 2;
const M_SUM = 3;
const M_MAX = 4;
const M_MIN = 5;

/** Starts the server on a free loopback port. */
export function startKvConnectServer(
  token = crypto.randomUUID().replaceAll("-", ""),
): KvConnectServer {
  const store = new Map<string, Stored>();
  const databaseId = crypto.randomUUID();
  const stats = { reads: 0, writes: 0 };
  let version = 0n;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    if (request.headers.get("authorization") !== `Bearer ${token}`) {
      return new Response("invalid access token", { status: 401 });
    }
    const path = new URL(request.url).pathname;
    if (path === "/") {
      return Response.json({
        version: 2,
        databaseId,
        endpoints: [{ url: "/v2", consistency: "strong" }],
        token,
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      });
    }
    const body = new Uint8Array(await request.arrayBuffer());
    const proto = { headers: { "content-type": "application/x-protobuf" } };
    if (path === "/v2/snapshot_read") {
      stats.reads++;
      return new Response(snapshotRead(store, body), proto);
    }
    if (path === "/v2/atomic_write") {
      stats.writes++;
      version++;
      return new Response(atomicWrite(store, body, versionstampOf(version)), proto);
    }
    return new Response("not found", { status: 404 });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    token,
    stats,
    close: () => server.shutdown(),
  };
}

function versionstampOf(n: bigint): Uint8Array {
  const out = new Uint8Array(10);
  new DataView(out.buffer).setBigUint64(0, n);
  return out;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0);
  }
  return a.length - b.length;
}

function live(store: Map<string, Stored>, now: number): Stored[] {
  const out: Stored[] = [];
  for (const [id, entry] of store) {
    if (entry.expireAt !== undefined && entry.expireAt <= now) store.delete(id);
    else out.push(entry);
  }
  return out.sort((a, b) => compare(a.key, b.key));
}

/** SnapshotRead → SnapshotReadOutput. */
function snapshotRead(store: Map<string, Stored>, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const entries = live(store, Date.now());
  const ranges = fieldsOf(body).filter((f) => f.no === 1).map((f) => fieldsOf(f.bytes));
  const out = new Writer();
  for (const range of ranges) {
    const start = bytesField(range, 1);
    const end = bytesField(range, 2);
    const limit = Number(varintField(range, 3));
    const reverse = varintField(range, 4) === 1n;
    let hits = entries.filter((e) => compare(e.key, start) >= 0 && compare(e.key, end) < 0);
    if (reverse) hits = hits.reverse();
    if (limit > 0) hits = hits.slice(0, limit);
    const rangeOut = new Writer();
    for (const hit of hits) {
      const kv = new Writer();
      kv.bytes(1, hit.key).bytes(2, hit.value).varint(3, BigInt(hit.encoding));
      kv.bytes(4, hit.versionstamp);
      rangeOut.bytes(1, kv.finish());
    }
    out.bytes(1, rangeOut.finish());
  }
  // read_is_strongly_consistent = true; status = SR_SUCCESS.
  return out.varint(4, 1n).varint(8, 1n).finish();
}

/** AtomicWrite → AtomicWriteOutput. */
function atomicWrite(
  store: Map<string, Stored>,
  body: Uint8Array,
  stamp: Uint8Array,
): Uint8Array<ArrayBuffer> {
  const now = Date.now();
  live(store, now);
  const fields = fieldsOf(body);
  const failed: number[] = [];
  fields.filter((f) => f.no === 1).forEach((field, i) => {
    const check = fieldsOf(field.bytes);
    const current = store.get(hex(bytesField(check, 1)))?.versionstamp ?? new Uint8Array();
    if (compare(current, bytesField(check, 2)) !== 0) failed.push(i);
  });
  if (failed.length > 0) {
    const out = new Writer().varint(1, 2n); // AW_CHECK_FAILURE
    for (const i of failed) out.varint(4, BigInt(i));
    return out.finish();
  }
  for (const field of fields.filter((f) => f.no === 2)) mutate(store, fieldsOf(field.bytes), stamp);
  return new Writer().varint(1, 1n).bytes(2, stamp).finish(); // AW_SUCCESS
}

function mutate(store: Map<string, Stored>, mutation: Field[], stamp: Uint8Array): void {
  const key = bytesField(mutation, 1);
  const id = hex(key);
  const valueFields = fieldsOf(bytesField(mutation, 2));
  const value = bytesField(valueFields, 1);
  const encoding = Number(varintField(valueFields, 2));
  const type = Number(varintField(mutation, 3));
  const expireAtMs = Number(varintField(mutation, 4));
  const expireAt = expireAtMs > 0 ? expireAtMs : undefined;
  if (type === M_DELETE) {
    store.delete(id);
    return;
  }
  const existing = store.get(id);
  let next = value;
  if (type === M_SUM || type === M_MAX || type === M_MIN) {
    if (existing !== undefined && existing.encoding === VE_LE64) {
      const a = le64(existing.value);
      const b = le64(value);
      const result = type === M_SUM
        ? BigInt.asUintN(64, a + b)
        : type === M_MAX
        ? (a > b ? a : b)
        : (a < b ? a : b);
      next = toLe64(result);
    }
  } else if (type !== M_SET) {
    throw new Error(`mutation type ${type} is not served by the test server`);
  }
  store.set(id, { key, value: next, encoding, versionstamp: stamp, expireAt });
}

function le64(bytes: Uint8Array): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
}

function toLe64(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n, true);
  return out;
}

/** One field of a protobuf message: varints as `value`, byte strings as `bytes`. */
interface Field {
  no: number;
  value: bigint;
  bytes: Uint8Array;
}

function fieldsOf(message: Uint8Array): Field[] {
  const fields: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = message[at++];
      if (byte === undefined) throw new Error("truncated varint");
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (at < message.length) {
    const tag = Number(varint());
    const no = tag >> 3;
    const wire = tag & 7;
    if (wire === 0) {
      fields.push({ no, value: varint(), bytes: new Uint8Array() });
    } else if (wire === 2) {
      const length = Number(varint());
      fields.push({ no, value: 0n, bytes: message.subarray(at, at + length) });
      at += length;
    } else {
      throw new Error(`protobuf wire type ${wire} is not used by KV Connect`);
    }
  }
  return fields;
}

function bytesField(fields: Field[], no: number): Uint8Array {
  return fields.find((f) => f.no === no)?.bytes ?? new Uint8Array();
}

function varintField(fields: Field[], no: number): bigint {
  return fields.find((f) => f.no === no)?.value ?? 0n;
}

class Writer {
  readonly #parts: number[] = [];

  #varint(n: bigint): void {
    let rest = BigInt.asUintN(64, n);
    do {
      const byte = Number(rest & 0x7fn);
      rest >>= 7n;
      this.#parts.push(rest > 0n ? byte | 0x80 : byte);
    } while (rest > 0n);
  }

  varint(no: number, value: bigint): this {
    this.#varint(BigInt(no << 3));
    this.#varint(value);
    return this;
  }

  bytes(no: number, value: Uint8Array): this {
    this.#varint(BigInt((no << 3) | 2));
    this.#varint(BigInt(value.length));
    for (const b of value) this.#parts.push(b);
    return this;
  }

  finish(): Uint8Array<ArrayBuffer> {
    return Uint8Array.from(this.#parts);
  }
}
