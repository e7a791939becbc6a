import { assertEquals, assertRejects } from "../_assert.ts";
import { ContentionError, retryCas } from "../../src/kv/cas.ts";

Deno.test("retryCas() retries a conflict and SQLite's 'database is locked', and passes other errors", async () => {
  let calls = 0;
  const result = await retryCas("test", () => {
    calls++;
    if (calls === 1) return Promise.resolve(undefined);
    if (calls === 2) return Promise.reject(new TypeError("database is locked"));
    return Promise.resolve("done");
  });
  assertEquals([result, calls], ["done", 3]);
  await assertRejects(
    () => retryCas("test", () => Promise.reject(new RangeError("boom"))),
    RangeError,
    "boom",
  );
  await assertRejects(() => retryCas("forever", () => Promise.resolve(undefined)), ContentionError);
});
