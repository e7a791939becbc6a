import { assertEquals } from "../_assert.ts";
import { FloodTracker } from "../../src/emulator/flood.ts";

function send(tracker: FloodTracker, chatId: number, at: number): number | undefined {
  const retryAfter = tracker.check(chatId, at);
  if (retryAfter === undefined) tracker.record(chatId, at);
  return retryAfter;
}

Deno.test("the bot-wide limit rejects sends to any chat once the bot is over it", () => {
  const tracker = new FloodTracker({ perChatPerSecond: 10, perBotPerSecond: 2 });
  assertEquals(send(tracker, 1, 0), undefined);
  assertEquals(send(tracker, 2, 100), undefined);
  assertEquals(send(tracker, 3, 200), 1);
  assertEquals(send(tracker, 4, 900), 1, "the whole bot waits out retry_after");
  assertEquals(send(tracker, 4, 1300), undefined);
});

Deno.test("a fixed retryAfter bans the chat for that long", () => {
  const tracker = new FloodTracker({ perChatPerSecond: 1, perBotPerSecond: 30, retryAfter: 5 });
  assertEquals(send(tracker, 1, 0), undefined);
  assertEquals(send(tracker, 1, 10), 5);
  assertEquals(send(tracker, 1, 3000), 3);
  assertEquals(send(tracker, 1, 5010), undefined);
});

Deno.test("maxPerChatPerSecond is the busiest sliding 1-second window per chat", () => {
  const tracker = new FloodTracker(undefined);
  for (const at of [0, 500, 1400, 1450, 1600, 3000]) tracker.record(7, at);
  tracker.record(8, 0);
  assertEquals(tracker.check(7, 1600), undefined, "no limit configured");
  assertEquals(tracker.maxPerChatPerSecond(7), 3);
  assertEquals(tracker.maxPerChatPerSecond(8), 1);
  assertEquals(tracker.maxPerChatPerSecond(9), 0);
  assertEquals(tracker.maxPerChatPerSecond(), 3);
});
