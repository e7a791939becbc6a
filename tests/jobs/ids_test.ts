import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { isJobId, JOB_ID_LENGTH, newJobId } from "../../src/jobs/ids.ts";
import { jobSchema } from "../../src/jobs/model.ts";

Deno.test("newJobId() makes 10-character lowercase alphanumeric ids that the job schema accepts", () => {
  for (let i = 0; i < 200; i++) {
    const id = newJobId();
    assertEquals(id.length, JOB_ID_LENGTH);
    assertMatch(id, /^[a-z0-9]{10}$/);
    assert(isJobId(id));
    assert(jobSchema.shape.id.safeParse(id).success);
  }
});

Deno.test("newJobId() does not repeat itself", () => {
  const ids = new Set(Array.from({ length: 5000 }, () => newJobId()));
  assertEquals(ids.size, 5000);
});

Deno.test("isJobId() rejects paths, upper case and odd lengths", () => {
  for (
    const text of ["../x", "abc/def123", "ABCDEFGHIJ", "", "abc", "a".repeat(33), "abcde fghi"]
  ) {
    assertEquals(isJobId(text), false, text);
  }
});
