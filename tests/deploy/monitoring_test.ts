/**
 * The Grafana dashboard and the Prometheus alert rules in deploy/: every metric they use is one
 * the bot exports, and `promtool` accepts the rules and their unit tests (where it is installed:
 * scripts/test.sh installs Debian's `prometheus` package when it can).
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { createMetrics } from "../../src/metrics/metrics.ts";
import { REPO_ROOT } from "../_test_utils.ts";

const RULES = `${REPO_ROOT}deploy/prometheus/dlbot-alerts.yml`;
const RULE_TESTS = `${REPO_ROOT}deploy/prometheus/dlbot-alerts.test.yml`;
const DASHBOARD = `${REPO_ROOT}deploy/grafana/dlbot-dashboard.json`;

/** Metric names in a PromQL expression that belong to dlbot (histograms by their base name). */
function dlbotMetrics(expr: string): string[] {
  return [...expr.matchAll(/\bdlbot_[a-z_]+/g)].map((m) =>
    m[0].replace(/_(bucket|sum|count)$/, "")
  );
}

async function exported(): Promise<Set<string>> {
  const text = await createMetrics().render();
  return new Set([...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1] ?? ""));
}

function hasPromtool(): boolean {
  try {
    new Deno.Command("promtool", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync();
    return true;
  } catch {
    return false;
  }
}

Deno.test("the alert rules and the dashboard use only metrics the bot exports", async () => {
  const names = await exported();
  const rules = parse(await Deno.readTextFile(RULES)) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  const exprs = rules.groups.flatMap((g) => g.rules.map((r) => r.expr));
  const dashboard = JSON.parse(await Deno.readTextFile(DASHBOARD)) as {
    panels: { title: string; targets: { expr: string }[] }[];
  };
  exprs.push(...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)));
  for (const expr of exprs) {
    for (const metric of dlbotMetrics(expr)) {
      assert.ok(names.has(metric), `${metric} (in ${expr}) is not exported`);
    }
  }
  const alerts = rules.groups.flatMap((g) => g.rules.map((r) => r.alert));
  for (
    const needed of [
      "DlbotDown",
      "DlbotTelegramUnreachable",
      "DlbotJobsFailing",
      "DlbotQueueStuck",
      "DlbotDiskLow",
    ]
  ) {
    assert.ok(alerts.includes(needed), `${needed} alert`);
  }
});

Deno.test({
  name: "promtool accepts the alert rules and their unit tests pass",
  ignore: !hasPromtool(),
  async fn() {
    for (const args of [["check", "rules", RULES], ["test", "rules", RULE_TESTS]]) {
      const out = await new Deno.Command("promtool", { args, cwd: `${REPO_ROOT}deploy/prometheus` })
        .output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, `promtool ${args.join(" ")}:\n${text}`);
    }
  },
});
