import assert from "node:assert/strict";
import { createMetrics } from "../../src/metrics/metrics.ts";
import { VERSION } from "../../src/version.ts";
import { parsePrometheusText, sampleValue } from "./_prom_text.ts";

Deno.test("render() is valid exposition text with a HELP line and dlbot_ prefix on every metric", async () => {
  const metrics = createMetrics();
  metrics.commands.inc({ command: "download", outcome: "ok" });
  metrics.commandLatency.observe({ command: "download" }, 0.2);
  metrics.telegramApiErrors.inc({ method: "sendMessage", code: "429" });

  const families = parsePrometheusText(await metrics.render());

  assert.deepEqual([...families.keys()].sort(), [
    "dlbot_build_info",
    "dlbot_command_duration_seconds",
    "dlbot_commands_total",
    "dlbot_http_requests_total",
    "dlbot_job_duration_seconds",
    "dlbot_job_failures_total",
    "dlbot_jobs_finished_total",
    "dlbot_process_resident_memory_bytes",
    "dlbot_process_start_time_seconds",
    "dlbot_queue_depth",
    "dlbot_refusals_dropped_total",
    "dlbot_rejected_total",
    "dlbot_running_jobs",
    "dlbot_spotify_pause_until_timestamp_seconds",
    "dlbot_spotify_waits_total",
    "dlbot_telegram_api_errors_total",
    "dlbot_telegram_outages_total",
    "dlbot_telegram_reachable",
    "dlbot_telegram_retries_total",
    "dlbot_updates_received_total",
  ]);
  for (const family of families.values()) {
    assert.ok(family.name.startsWith("dlbot_"), family.name);
    assert.ok(family.help, `${family.name} has no HELP`);
  }
  assert.deepEqual(families.get("dlbot_command_duration_seconds")?.type, "histogram");
  assert.deepEqual(sampleValue(families, "dlbot_build_info", { version: VERSION }), 1);
});

Deno.test("jobSink() records finished jobs, their duration and queue gauges", async () => {
  const metrics = createMetrics();
  const sink = metrics.jobSink();

  sink.jobFinished("succeeded", 90);
  sink.jobFinished("succeeded", 4000);
  sink.jobFinished("failed", 3, "ffmpeg_missing");
  sink.setQueueDepth(7);
  sink.setRunning(2);

  const families = parsePrometheusText(await metrics.render());
  assert.deepEqual(sampleValue(families, "dlbot_jobs_finished_total", { state: "succeeded" }), 2);
  assert.deepEqual(sampleValue(families, "dlbot_jobs_finished_total", { state: "failed" }), 1);
  assert.deepEqual(
    sampleValue(families, "dlbot_job_failures_total", { reason: "ffmpeg_missing" }),
    1,
  );
  assert.deepEqual(
    sampleValue(families, "dlbot_job_duration_seconds_count", { state: "succeeded" }),
    2,
  );
  assert.deepEqual(
    sampleValue(families, "dlbot_job_duration_seconds_sum", { state: "succeeded" }),
    4090,
  );
  assert.deepEqual(
    sampleValue(families, "dlbot_job_duration_seconds_bucket", { state: "succeeded", le: "7200" }),
    2,
  );
  assert.deepEqual(
    sampleValue(families, "dlbot_job_duration_seconds_bucket", { state: "succeeded", le: "3600" }),
    1,
  );
  assert.deepEqual(sampleValue(families, "dlbot_queue_depth"), 7);
  assert.deepEqual(sampleValue(families, "dlbot_running_jobs"), 2);
});

Deno.test("createMetrics() instances do not share counters", async () => {
  const first = createMetrics();
  const second = createMetrics();

  first.rejected.inc({ reason: "unauthorized" });
  first.updatesReceived.inc(3);

  const a = parsePrometheusText(await first.render());
  const b = parsePrometheusText(await second.render());
  assert.deepEqual(sampleValue(a, "dlbot_rejected_total", { reason: "unauthorized" }), 1);
  assert.deepEqual(sampleValue(b, "dlbot_rejected_total", { reason: "unauthorized" }), undefined);
  assert.deepEqual(sampleValue(a, "dlbot_updates_received_total"), 3);
  assert.deepEqual(sampleValue(b, "dlbot_updates_received_total"), 0);
});

Deno.test("process gauges report this process's memory and start time", async () => {
  const families = parsePrometheusText(await createMetrics().render());

  const rss = sampleValue(families, "dlbot_process_resident_memory_bytes") ?? 0;
  const start = sampleValue(families, "dlbot_process_start_time_seconds") ?? 0;
  assert.ok(rss > 0, `rss ${rss}`);
  assert.ok(start > 0 && start <= Date.now() / 1000, `start ${start}`);
});

Deno.test("the exposition parser rejects broken text", () => {
  const good = [
    "# HELP h_seconds x",
    "# TYPE h_seconds histogram",
    'h_seconds_bucket{le="1"} 1',
    'h_seconds_bucket{le="+Inf"} 2',
    "h_seconds_sum 3",
    "h_seconds_count 2",
    "",
  ];
  parsePrometheusText(good.join("\n"));

  const broken: Record<string, string[]> = {
    "non-cumulative buckets": good.with(3, 'h_seconds_bucket{le="+Inf"} 0'),
    "+Inf differs from count": good.with(5, "h_seconds_count 5"),
    "sample without TYPE": ["x_total 1", ""],
    "bad value": ["# TYPE x counter", "x one", ""],
    "bad label syntax": ["# TYPE x counter", "x{a=b} 1", ""],
    "bad label name": ["# TYPE x counter", 'x{1a="b"} 1', ""],
  };
  for (const [what, lines] of Object.entries(broken)) {
    assert.throws(() => parsePrometheusText(lines.join("\n")), Error, what);
  }
});
