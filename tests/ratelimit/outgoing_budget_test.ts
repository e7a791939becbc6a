import { assertEquals } from "../_assert.ts";
import { CHAT_HOLD_MS, KvOutgoingBudget } from "../../src/ratelimit/outgoing_budget.ts";

/** Two processes' budgets on one store and one clock that moves only when they wait. */
async function withTwo(
  test: (a: KvOutgoingBudget, b: KvOutgoingBudget, now: () => number) => Promise<void>,
): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  let time = 1_000_000;
  const clock = {
    now: () => time,
    sleep: (ms: number) => {
      time += ms;
      return Promise.resolve();
    },
  };
  try {
    await test(new KvOutgoingBudget(kv, clock), new KvOutgoingBudget(kv, clock), clock.now);
  } finally {
    kv.close();
  }
}

Deno.test("two processes' calls share the bot-wide slots: 35 ms apart, whoever sends", () =>
  withTwo(async (a, b, now) => {
    const left: number[] = [];
    for (let i = 0; i < 6; i++) {
      await (i % 2 === 0 ? a : b).acquire(undefined);
      left.push(now() - 1_000_000);
    }
    assertEquals(left, [0, 35, 70, 105, 140, 175]);
  }));

Deno.test("a chat's calls from two processes: held while one is under way, then a second after its answer", () =>
  withTwo(async (a, b, now) => {
    await a.acquire(42);
    const first = now();
    await b.acquire(7);
    assertEquals(now() - first, 35, "another chat waits only for its bot-wide slot");
    await b.release(7);
    await a.release(42);
    const answered = now();
    await b.acquire(42);
    assertEquals(now() - answered, 1050, "a second after the answer, from either process");
    const sent = now();
    await a.acquire(42);
    assertEquals(now() - sent, CHAT_HOLD_MS, "unanswered: held until the hold runs out");
    await a.release(42);
    await b.acquire(-100123);
    await b.release(-100123);
    const group = now();
    await a.acquire(-100123);
    assertEquals(now() - group, 3150, "groups: one call per 3.15 s");
  }));
