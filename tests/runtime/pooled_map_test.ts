import { assertEquals } from "../_assert.ts";
import { pooledMap } from "../../src/runtime/pooled_map.ts";

Deno.test("pooledMap() keeps the items' order and never runs more than the limit at once", async () => {
  let running = 0;
  let most = 0;
  const results = await pooledMap([5, 1, 4, 2, 3, 0, 6], 3, async (n) => {
    running++;
    most = Math.max(most, running);
    await new Promise((r) => setTimeout(r, n));
    running--;
    return n * 10;
  });
  assertEquals(results, [50, 10, 40, 20, 30, 0, 60]);
  assertEquals(most, 3);
  assertEquals(await pooledMap([], 3, () => Promise.resolve(1)), []);
});
