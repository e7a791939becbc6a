/**
 * The load test's report: the figures of both phases, the dlbot/bare ratios, and a readable table.
 *
 * @module
 */
import type { LatencySummary } from "./measure.ts";
import type { PhaseResult } from "./phase.ts";
import type { BotName } from "./targets.ts";
import type { UserKind } from "./traffic.ts";

/** The parameters a run used (enough to repeat it). */
export interface RunParams {
  users: number;
  ratePerSecond: number;
  durationSeconds: number;
  drainTimeoutSeconds: number;
  seed: number;
  spamFactor: number;
  downloaderDelaySeconds: number;
}

/** The traffic both bots received. */
export interface TrafficSummary {
  users: Record<UserKind | "total", number>;
  messages: number;
  /** Mean messages per second of one user of each kind. */
  perUserRate: Record<UserKind, number>;
  /** Flood limits the emulators enforced. */
  floodLimit: { perChatPerSecond: number; perBotPerSecond: number };
}

/** dlbot divided by bare; null when either side has no figure. */
export interface Ratios {
  handledPerSecond: number | null;
  latencyP50: number | null;
  latencyP95: number | null;
  normalLatencyP50: number | null;
  normalLatencyP95: number | null;
}

/** The whole report (`--json` prints exactly this). */
export interface LoadTestReport {
  params: RunParams;
  traffic: TrafficSummary;
  dlbot: PhaseResult | null;
  bare: PhaseResult | null;
  ratio: Ratios | null;
}

function divide(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return null;
  return Math.round((a / b) * 100) / 100;
}

/** The dlbot/bare ratios, when both phases ran. */
export function ratios(dlbot: PhaseResult | null, bare: PhaseResult | null): Ratios | null {
  if (dlbot === null || bare === null) return null;
  return {
    handledPerSecond: divide(dlbot.handledPerSecond, bare.handledPerSecond),
    latencyP50: divide(dlbot.latencyMs.all.p50, bare.latencyMs.all.p50),
    latencyP95: divide(dlbot.latencyMs.all.p95, bare.latencyMs.all.p95),
    normalLatencyP50: divide(dlbot.latencyMs.normal.p50, bare.latencyMs.normal.p50),
    normalLatencyP95: divide(dlbot.latencyMs.normal.p95, bare.latencyMs.normal.p95),
  };
}

type Cell = string | number | null | undefined;

function cell(value: Cell): string {
  if (value === null || value === undefined) return "-";
  if (typeof value === "string") return value;
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

function times(value: number | null | undefined): string {
  return value === null || value === undefined ? "-" : value.toFixed(2);
}

function ms(value: number | null): string {
  return value === null ? "-" : value < 100 ? value.toFixed(1) : String(Math.round(value));
}

function latencyRow(summary: LatencySummary | undefined): string {
  if (summary === undefined) return "-";
  return `${ms(summary.p50)} / ${ms(summary.p95)} / ${ms(summary.p99)}`;
}

function perKind(record: Record<UserKind, number> | undefined): string {
  if (record === undefined) return "-";
  return `${record.normal} / ${record.spammer} / ${record.outsider}`;
}

function mib(bytes: number | undefined): string {
  return bytes === undefined ? "-" : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Renders the report as a table for people. */
export function formatReport(report: LoadTestReport): string {
  const { params, traffic } = report;
  const phases: Record<BotName, PhaseResult | null> = { dlbot: report.dlbot, bare: report.bare };
  const ratio = report.ratio;
  const rows: [string, (p: PhaseResult) => Cell, Cell][] = [
    ["updates sent", (p) => p.updatesSent, null],
    ["updates handled", (p) => p.updatesHandled, null],
    ["updates/s handled", (p) => p.handledPerSecond, times(ratio?.handledPerSecond)],
    ["latency p50/p95/p99 ms, all", (p) => latencyRow(p.latencyMs.all), null],
    [
      "  ratio p50, p95",
      () => "",
      ratio ? `${times(ratio.latencyP50)}, ${times(ratio.latencyP95)}` : null,
    ],
    ["latency ms, normal users", (p) => latencyRow(p.latencyMs.normal), null],
    [
      "  ratio p50, p95",
      () => "",
      ratio ? `${times(ratio.normalLatencyP50)}, ${times(ratio.normalLatencyP95)}` : null,
    ],
    ["latency ms, spammers", (p) => latencyRow(p.latencyMs.spammer), null],
    ["latency ms, outsiders", (p) => latencyRow(p.latencyMs.outsider), null],
    ["unanswered (norm/spam/out)", (p) => perKind(p.unanswered), null],
    ["bot messages sent", (p) => p.botMessages, null],
    ["max msgs per chat per s", (p) => p.maxPerChatPerSecond, null],
    ["429 flood rejections", (p) => p.floodRejections, null],
    ['throttled replies ("Slow down")', (p) => p.throttledReplies, null],
    ["Bot API calls (failed)", (p) => `${p.apiCalls} (${p.failedApiCalls})`, null],
    [
      "drain after traffic, s",
      (p) => `${cell(p.drainSeconds)}${p.drained ? "" : " (timeout)"}`,
      null,
    ],
    ["peak RSS", (p) => mib(p.rssPeakBytes), null],
    [
      "downloads asked (norm/spam/out)",
      (p) => p.jobs ? perKind(p.jobs.downloadsRequested) : "-",
      null,
    ],
    ["jobs created (norm/spam/out)", (p) => p.jobs ? perKind(p.jobs.created) : "-", null],
    ["jobs allowed by user limits <=", (p) => p.jobs?.allowedByLimits, null],
    [
      "jobs by state",
      (p) =>
        p.jobs
          ? Object.entries(p.jobs.byState).map(([state, n]) => `${state} ${n}`).join(", ") || "none"
          : "-",
      null,
    ],
  ];
  const table = rows.map(([label, get, r]) => [
    label,
    phases.dlbot ? cell(get(phases.dlbot)) : "-",
    phases.bare ? cell(get(phases.bare)) : "-",
    cell(r),
  ]);
  const header = ["", "dlbot", "bare", "dlbot/bare"];
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    row.map((c, i) => i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)).join("   ")
      .trimEnd();
  const u = traffic.users;
  const rate = traffic.perUserRate;
  return [
    `dlbot load test: ${u.total} users (${u.normal} normal, ${u.spammer} spammers, ` +
    `${u.outsider} not whitelisted), target ${params.ratePerSecond} updates/s for ` +
    `${params.durationSeconds} s, seed ${params.seed}`,
    `Per-user send rate: normal ${rate.normal.toFixed(3)}/s, spammer ${
      rate.spammer.toFixed(2)
    }/s. Emulated flood limits: ${traffic.floodLimit.perChatPerSecond} msg/s per chat, ${traffic.floodLimit.perBotPerSecond} msg/s per bot.`,
    `Traffic: ${traffic.messages} updates planned. Latency: from a user's message to the bot's next message in that chat.`,
    "",
    line(header),
    ...table.map(line),
    "",
  ].join("\n");
}
