/**
 * The test KV Connect server (`tests/_kv_connect_server.ts`) behaves like a store to Deno's own
 * KV Connect client: what the multi-machine tests rely on.
 */
import { assert, assertEquals } from "../_assert.ts";
import { startKvConnectServer } from "../_kv_connect_server.ts";

Deno.test("Deno's KV Connect client reads, lists, checks, sums and expires on the test server", async () => {
  const server = startKvConnectServer();
  Deno.env.set("DENO_KV_ACCESS_TOKEN", server.token);
  const kv = await Deno.openKv(server.url);
  try {
    await kv.set(["a", 1], { name: "one" });
    await kv.set(["a", 2], "two");
    await kv.set(["b"], new Uint8Array([1, 2, 3]));
    assertEquals((await kv.get(["a", 1])).value, { name: "one" });
    const listed = [];
    for await (const entry of kv.list({ prefix: ["a"] })) listed.push(entry.value);
    assertEquals(listed, [{ name: "one" }, "two"]);
    const reversed = [];
    for await (const entry of kv.list({ prefix: ["a"] }, { reverse: true, limit: 1 })) {
      reversed.push(entry.value);
    }
    assertEquals(reversed, ["two"]);

    const entry = await kv.get(["a", 2]);
    assert((await kv.atomic().check(entry).set(["a", 2], "2").commit()).ok);
    assert(!(await kv.atomic().check(entry).set(["a", 2], "x").commit()).ok, "a stale check fails");
    assert(
      (await kv.atomic().check({ key: ["new"], versionstamp: null }).set(["new"], 1).commit()).ok,
    );
    await kv.atomic().sum(["n"], 5n).sum(["n"], 0xffff_ffff_ffff_ffffn).commit();
    assertEquals((await kv.get<Deno.KvU64>(["n"])).value?.value, 4n, "sums wrap like KvU64");
    const many = await kv.getMany([["a", 1], ["missing"], ["b"]]);
    assertEquals(many.map((e) => e.versionstamp === null), [false, true, false]);
    await kv.set(["gone"], 1, { expireIn: 1 });
    await new Promise((r) => setTimeout(r, 20));
    assertEquals((await kv.get(["gone"])).value, null, "expired");
    await kv.delete(["b"]);
    assertEquals((await kv.get(["b"])).value, null);
  } finally {
    kv.close();
    await server.close();
    Deno.env.delete("DENO_KV_ACCESS_TOKEN");
  }
});
