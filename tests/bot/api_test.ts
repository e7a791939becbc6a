import "../../src/runtime/quiet_node_warnings.ts";
import { HttpError } from "grammy";
import { assertEquals, assertRejects } from "../_assert.ts";
import { networkRetryTransformer, textDefaultsTransformer } from "../../src/bot/api.ts";

type Prev = Parameters<ReturnType<typeof networkRetryTransformer>>[0];

function flaky(failures: number, error: () => Error) {
  let calls = 0;
  const prev = (() => {
    calls++;
    if (calls <= failures) return Promise.reject(error());
    return Promise.resolve({ ok: true, result: calls });
  }) as unknown as Prev;
  return { prev, calls: () => calls };
}

const networkError = () =>
  new HttpError("Network request for 'sendMessage' failed!", new Error("reset"));

Deno.test("networkRetryTransformer() retries network failures until the call goes through", async () => {
  const retry = networkRetryTransformer({ initialDelayMs: 1, maxDelayMs: 2, giveUpAfterMs: 5_000 });
  const { prev, calls } = flaky(3, networkError);
  const result = await retry(prev, "editMessageText", { chat_id: 1, message_id: 2, text: "hi" });
  assertEquals(result, { ok: true, result: 4 } as unknown as typeof result);
  assertEquals(calls(), 4);
});

Deno.test("networkRetryTransformer() sends a message again once at most when its answer was lost", async () => {
  const retry = networkRetryTransformer({ initialDelayMs: 1, maxDelayMs: 2, giveUpAfterMs: 5_000 });
  const lost = flaky(3, networkError);
  await assertRejects(() => retry(lost.prev, "sendMessage", { chat_id: 1, text: "hi" }), HttpError);
  assertEquals(lost.calls(), 2, "the first try and one more");
  const refused = () =>
    new HttpError(
      "Network request for 'sendMessage' failed!",
      new TypeError("error sending request: tcp connect error: Connection refused (os error 111)"),
    );
  const never = flaky(3, refused);
  const result = await retry(never.prev, "sendMessage", { chat_id: 1, text: "hi" });
  assertEquals(never.calls(), 4, "a request that never left is retried until it goes through");
  assertEquals(result, { ok: true, result: 4 } as unknown as typeof result);
});

Deno.test("networkRetryTransformer() gives up after its deadline instead of waiting forever", async () => {
  const retry = networkRetryTransformer({ initialDelayMs: 5, maxDelayMs: 5, giveUpAfterMs: 30 });
  const { prev, calls } = flaky(Number.POSITIVE_INFINITY, networkError);
  await assertRejects(() => retry(prev, "sendMessage", { chat_id: 1, text: "hi" }), HttpError);
  assertEquals(calls() >= 2, true);
});

Deno.test("networkRetryTransformer() leaves other errors alone", async () => {
  const retry = networkRetryTransformer({ initialDelayMs: 1 });
  const { prev, calls } = flaky(1, () => new TypeError("bug"));
  await assertRejects(() => retry(prev, "sendMessage", { chat_id: 1, text: "hi" }), TypeError);
  assertEquals(calls(), 1);
});

Deno.test("textDefaultsTransformer() sends texts as HTML without link previews unless a call says otherwise", async () => {
  const sent: { method: string; payload: unknown }[] = [];
  const prev = ((method: string, payload: unknown) => {
    sent.push({ method, payload });
    return Promise.resolve({ ok: true, result: true });
  }) as unknown as Prev;
  const defaults = textDefaultsTransformer();
  await defaults(prev, "sendMessage", { chat_id: 1, text: "<b>hi</b>" });
  await defaults(prev, "editMessageText", {
    chat_id: 1,
    message_id: 2,
    text: "plain",
    link_preview_options: { is_disabled: false },
  });
  await defaults(prev, "sendAudio", { chat_id: 1, audio: "id", caption: "a <b> title" });
  assertEquals(sent, [
    {
      method: "sendMessage",
      payload: {
        parse_mode: "HTML",
        link_preview_options: { is_disabled: true },
        chat_id: 1,
        text: "<b>hi</b>",
      },
    },
    {
      method: "editMessageText",
      payload: {
        parse_mode: "HTML",
        link_preview_options: { is_disabled: false },
        chat_id: 1,
        message_id: 2,
        text: "plain",
      },
    },
    { method: "sendAudio", payload: { chat_id: 1, audio: "id", caption: "a <b> title" } },
  ]);
});
