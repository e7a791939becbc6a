import { assert, assertEquals } from "../_assert.ts";
import { REPO_ROOT } from "../_test_utils.ts";
import { LOADTEST_PERMISSIONS } from "../../scripts/loadtest.ts";
import type { RunningPhaseResult } from "../../scripts/loadtest/running_phase.ts";
import type { LoadTestReport } from "../../scripts/loadtest/report.ts";
import type { PhaseResult } from "../../scripts/loadtest/phase.ts";
import {
  allowedJobsUpperBound,
  planTraffic,
  type TrafficOptions,
} from "../../scripts/loadtest/traffic.ts";
import { percentile } from "../../scripts/loadtest/measure.ts";

const TINY: TrafficOptions = {
  users: 10,
  ratePerSecond: 4,
  durationSeconds: 3,
  seed: 7,
  spamFactor: 5,
};

async function runLoadTest(args: string[]): Promise<{ code: number; stdout: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...LOADTEST_PERMISSIONS, "scripts/loadtest.ts", ...args],
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  assertEquals(output.code, 0, `loadtest failed:\n${stderr}`);
  return { code: output.code, stdout };
}

function isCount(value: unknown): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

function isRate(value: unknown): boolean {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

function assertLatency(phase: PhaseResult, who: string): void {
  for (const [kind, summary] of Object.entries(phase.latencyMs)) {
    assert(isCount(summary.count), `${who} ${kind} latency count`);
    for (const p of [summary.p50, summary.p95, summary.p99, summary.max]) {
      if (summary.count === 0) assertEquals(p, null, `${who} ${kind}: no samples, no percentile`);
      else assert(isRate(p), `${who} ${kind} latency ${p}`);
    }
  }
  assert(phase.latencyMs.all.count > 0, `${who} answered someone`);
  const { p50, p95, p99 } = phase.latencyMs.all;
  assert(p50! <= p95! && p95! <= p99!, `${who} percentiles are ordered: ${p50} ${p95} ${p99}`);
}

function assertPhaseFigures(phase: PhaseResult | null, who: string): PhaseResult {
  assert(phase !== null, `${who} ran`);
  for (
    const key of [
      "updatesSent",
      "updatesHandled",
      "botMessages",
      "throttledReplies",
      "maxPerChatPerSecond",
      "floodRejections",
      "apiCalls",
      "failedApiCalls",
      "rssPeakBytes",
    ] as const
  ) assert(isCount(phase[key]), `${who}.${key} = ${phase[key]}`);
  for (const key of ["handledPerSecond", "offeredPerSecond", "drainSeconds"] as const) {
    assert(isRate(phase[key]), `${who}.${key} = ${phase[key]}`);
  }
  assertEquals(typeof phase.drained, "boolean");
  for (const kind of ["normal", "spammer", "outsider"] as const) {
    assert(isCount(phase.unanswered[kind]), `${who} unanswered ${kind}`);
  }
  assert(phase.updatesHandled > 0, `${who} handled updates`);
  assert(phase.handledPerSecond > 0, `${who} handled updates per second`);
  assert(phase.rssPeakBytes > 0, `${who} measured memory`);
  assertLatency(phase, who);
  return phase;
}

Deno.test("the load test drives dlbot and the bare bot and reports every figure as JSON", async () => {
  const { stdout } = await runLoadTest([
    "--json",
    "--users",
    String(TINY.users),
    "--rate",
    String(TINY.ratePerSecond),
    "--duration",
    String(TINY.durationSeconds),
    "--seed",
    String(TINY.seed),
    "--spam-factor",
    String(TINY.spamFactor),
    "--drain-timeout",
    "10",
  ]);
  const report = JSON.parse(stdout) as LoadTestReport;
  const plan = planTraffic(TINY);

  assertEquals(report.traffic.messages, plan.messages.length, "both bots got the planned traffic");
  assertEquals(report.traffic.users, { total: 10, normal: 8, spammer: 1, outsider: 1 });
  const dlbot = assertPhaseFigures(report.dlbot, "dlbot");
  const bare = assertPhaseFigures(report.bare, "bare");
  assertEquals(dlbot.updatesSent, plan.messages.length);
  assertEquals(bare.updatesSent, plan.messages.length);
  assertEquals(dlbot.updatesHandled, dlbot.updatesSent, "dlbot handled every update");

  assertEquals(dlbot.floodRejections, 0, "dlbot never exceeded Telegram's flood limits");
  assert(dlbot.maxPerChatPerSecond <= 1, `dlbot sent ${dlbot.maxPerChatPerSecond}/s to a chat`);

  const jobs = dlbot.jobs;
  assert(jobs !== null, "dlbot reports jobs");
  assert(jobs.downloadsRequested.outsider > 0, "the outsider asked for a download");
  assert(jobs.created.normal > 0, "a member's download became a job");
  assertEquals(jobs.created.outsider, 0, "no job for someone not on the whitelist");
  assert(jobs.created.total <= jobs.allowedByLimits, "no more jobs than the limits allow");
  assertEquals(bare.jobs, null);

  assert(report.ratio !== null, "ratios are reported");
  for (const value of Object.values(report.ratio)) {
    assert(value === null || isRate(value), `ratio ${value}`);
  }
});

Deno.test("the load test's running phase reports /help latency and progress age while downloads run", async () => {
  const { stdout } = await runLoadTest([
    "--json",
    "--running-jobs",
    "3",
    "--askers",
    "2",
    "--duration",
    "3",
  ]);
  const result = JSON.parse(stdout) as RunningPhaseResult;
  assertEquals([result.jobs, result.askers, result.seconds], [3, 2, 3]);
  assert(result.helpLatencyMs.count > 0, "members asked /help");
  assertEquals(result.unanswered, 0, "every /help was answered");
  assert(isRate(result.helpLatencyMs.p95 ?? -1), `p95 ${result.helpLatencyMs.p95}`);
  assert(isCount(result.progressAgeMs.count), "progress edits were measured");
  assertEquals(result.floodRejections, 0);
});

Deno.test("the load test's --help lists its options", async () => {
  const { stdout } = await runLoadTest(["--help"]);
  for (const flag of ["--users", "--rate", "--duration", "--seed", "--json", "--only"]) {
    assert(stdout.includes(flag), `--help mentions ${flag}`);
  }
});

Deno.test("planTraffic() is the same for the same seed and differs for another", () => {
  const a = planTraffic({ ...TINY, users: 50, durationSeconds: 10 });
  const b = planTraffic({ ...TINY, users: 50, durationSeconds: 10 });
  const c = planTraffic({ ...TINY, users: 50, durationSeconds: 10, seed: TINY.seed + 1 });
  assertEquals(a, b);
  assert(JSON.stringify(a.messages) !== JSON.stringify(c.messages), "another seed, other traffic");
  assert(a.messages.every((m, i) => i === 0 || a.messages[i - 1]!.atMs <= m.atMs), "sorted");
});

Deno.test("planTraffic() makes spammers send spamFactor times faster, at the target total rate", () => {
  const plan = planTraffic({ ...TINY, users: 100, spamFactor: 20, ratePerSecond: 40 });
  assertEquals(plan.perUserRate.spammer, plan.perUserRate.normal * 20);
  const total = 80 * plan.perUserRate.normal + 10 * plan.perUserRate.outsider +
    10 * plan.perUserRate.spammer;
  assert(Math.abs(total - 40) < 1e-9, `total rate ${total}`);
});

Deno.test("allowedJobsUpperBound() caps each member's downloads and ignores outsiders", () => {
  const download = (userId: number, kind: "normal" | "outsider") => ({
    atMs: 0,
    userId,
    kind,
    text: "/download x",
    isDownload: true,
  });
  const messages = [
    ...Array.from({ length: 8 }, () => download(1, "normal")),
    download(2, "normal"),
    download(3, "outsider"),
  ];
  assertEquals(allowedJobsUpperBound(messages, { capacity: 5, refillPerSecond: 0.01 }, 100), 7);
});

Deno.test("percentile() uses the nearest rank", () => {
  const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assertEquals(percentile(values, 50), 5);
  assertEquals(percentile(values, 95), 10);
  assertEquals(percentile([], 50), null);
});
