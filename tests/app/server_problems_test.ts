import { assertEquals } from "../_assert.ts";
import { AdminAlerts } from "../../src/app/admin_alerts.ts";
import { adminProblems } from "../../src/app/server_problems.ts";
import { makeJob } from "../_fixtures.ts";

/** Admin alerts over a memory KV and an API that records what it sends. */
async function recorded() {
  const kv = await Deno.openKv(":memory:");
  const sent: { chatId: number; text: string }[] = [];
  const alerts = new AdminAlerts({
    kv,
    api: {
      sendMessage: (chatId, text) => {
        sent.push({ chatId, text });
        return Promise.resolve();
      },
    },
    adminIds: [7, 8],
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });
  return { kv, sent, alerts, problems: adminProblems(alerts) };
}

const failed = (code: "downloader_failed" | "downloader_missing") =>
  makeJob({
    state: "failed",
    error: { code, userMessage: "x", detail: "exit code 1; stderr: boom" },
  });

Deno.test("server failures reach the admins after three within half an hour, once an hour", async () => {
  const { kv, sent, problems } = await recorded();
  try {
    await problems.jobFailed(failed("downloader_failed"));
    await problems.jobFailed(failed("downloader_failed"));
    assertEquals(sent.length, 0, "two failures are not 'repeatedly'");
    await problems.jobFailed(failed("downloader_failed"));
    await problems.jobFailed(failed("downloader_failed"));
    assertEquals(sent.map((s) => s.chatId), [7, 8], "each admin once");
    assertEquals(sent[0]?.text.includes("downloads failed on the server's side"), true);
  } finally {
    kv.close();
  }
});

Deno.test("an outage is told when it is over, only if it lasted five minutes", async () => {
  const { kv, sent, problems } = await recorded();
  try {
    await problems.outageEnded(120);
    assertEquals(sent.length, 0);
    await problems.outageEnded(720);
    assertEquals(sent.length, 2);
    assertEquals(sent[0]?.text.includes("Telegram was unreachable for 12 min"), true);
  } finally {
    kv.close();
  }
});
