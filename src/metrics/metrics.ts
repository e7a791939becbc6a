/**
 * Prometheus metrics of the bot, on a dedicated prom-client registry (never the global default
 * one, and no default Node collectors: process gauges are read from Deno directly).
 *
 * Every metric name starts with `dlbot_`. The HTTP server serves {@linkcode Metrics.render} on
 * `/metrics`; other modules receive the {@linkcode Metrics} object (or the narrow
 * {@linkcode JobMetricsSink}) from the composition root.
 *
 * @module
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { VERSION } from "../version.ts";

/** Why a request from a chat was turned away, as counted in `dlbot_rejected_total`. */
export type RejectionReason = "unauthorized" | "rate_limited" | "queue_full";

/** The narrow interface the job worker reports to. */
export interface JobMetricsSink {
  /** A job reached a final state after running for `durationSeconds`; `reason` when it failed. */
  jobFinished(state: string, durationSeconds: number, reason?: string): void;
  /** Jobs currently waiting in the queue. */
  setQueueDepth(n: number): void;
  /** Jobs currently running. */
  setRunning(n: number): void;
  /** Spotify asked to wait: sat out by the downloader ("short") or pausing every job. */
  spotifyWait(kind: "short" | "pause"): void;
  /** When Spotify's shared pause ends (epoch ms), 0 when there is none. */
  setSpotifyPauseUntil(epochMs: number): void;
}

/** All metrics of the bot and their registry. */
export interface Metrics {
  /** Outages of Telegram (network errors or 5xx until a call went through). */
  readonly telegramOutages: Counter;
  /** 1 while Telegram answers, 0 during an outage. */
  readonly telegramReachable: Gauge;
  /** `dlbot_refusals_dropped_total`: outsider refusals not sent because the bot was busy. */
  readonly refusalsDropped: Counter;
  /** The dedicated registry holding every metric below. */
  readonly registry: Registry;
  /** The `Content-Type` of {@linkcode Metrics.render}'s output (Prometheus text format 0.0.4). */
  readonly contentType: string;
  /** `dlbot_commands_total{command,outcome}`: chat commands handled, by outcome ("ok", "error", …). */
  readonly commands: Counter<"command" | "outcome">;
  /** `dlbot_rejected_total{reason}`: requests refused; reason is a {@linkcode RejectionReason}. */
  readonly rejected: Counter<"reason">;
  /** `dlbot_jobs_finished_total{state}`: jobs that reached a final state. */
  readonly jobsFinished: Counter<"state">;
  /** `dlbot_telegram_api_errors_total{method,code}`: failed Telegram Bot API calls. */
  readonly telegramApiErrors: Counter<"method" | "code">;
  /** `dlbot_telegram_retries_total`: Telegram API calls retried (flood waits, network errors). */
  readonly telegramRetries: Counter;
  /** `dlbot_command_duration_seconds{command}`: time from receiving a command to answering it. */
  readonly commandLatency: Histogram<"command">;
  /** `dlbot_job_duration_seconds{state}`: run time of finished jobs (buckets up to 2 h). */
  readonly jobDuration: Histogram<"state">;
  /** `dlbot_queue_depth`: jobs waiting in the queue. */
  readonly queueDepth: Gauge;
  /** `dlbot_running_jobs`: jobs currently running. */
  readonly runningJobs: Gauge;
  /** `dlbot_http_requests_total{route,status}`: HTTP requests served, by route and status code. */
  readonly httpRequests: Counter<"route" | "status">;
  /** `dlbot_updates_received_total`: Telegram updates received (polling or webhook). */
  readonly updatesReceived: Counter;
  /** The sink the job worker reports finished jobs and queue sizes to. */
  jobSink(): JobMetricsSink;
  /** All metrics in the Prometheus text exposition format. */
  render(): Promise<string>;
}

/** Buckets for chat command latency, in seconds. */
const COMMAND_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Buckets for job run time, in seconds: 5 s up to 2 h. */
const JOB_BUCKETS = [5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 5400, 7200];

/** Creates a fresh set of metrics on its own registry (each call is independent). */
export function createMetrics(): Metrics {
  const registry = new Registry();
  const registers = [registry];

  /** Always 1; labels carry the running version. */
  const buildInfo = new Gauge({
    name: "dlbot_build_info",
    help: "Always 1; the version label is the running dlbot release.",
    labelNames: ["version"] as const,
    registers,
  });
  buildInfo.set({ version: VERSION }, 1);

  /** Resident set size of this process, read from Deno at scrape time. */
  new Gauge({
    name: "dlbot_process_resident_memory_bytes",
    help: "Resident memory size of the bot process in bytes.",
    registers,
    collect() {
      this.set(Deno.memoryUsage().rss);
    },
  });

  /** When this process started, as a Unix timestamp. */
  const startTime = new Gauge({
    name: "dlbot_process_start_time_seconds",
    help: "Start time of the bot process since the Unix epoch in seconds.",
    registers,
  });
  startTime.set(Math.floor(performance.timeOrigin / 1000));

  const commands = new Counter({
    name: "dlbot_commands_total",
    help: "Chat commands handled, by command and outcome.",
    labelNames: ["command", "outcome"] as const,
    registers,
  });
  const rejected = new Counter({
    name: "dlbot_rejected_total",
    help: "Requests refused, by reason (unauthorized, rate_limited, queue_full).",
    labelNames: ["reason"] as const,
    registers,
  });
  const jobsFinished = new Counter({
    name: "dlbot_jobs_finished_total",
    help: "Download jobs that reached a final state, by state.",
    labelNames: ["state"] as const,
    registers,
  });
  const telegramApiErrors = new Counter({
    name: "dlbot_telegram_api_errors_total",
    help: "Failed Telegram Bot API calls, by method and error code.",
    labelNames: ["method", "code"] as const,
    registers,
  });
  const telegramRetries = new Counter({
    name: "dlbot_telegram_retries_total",
    help: "Telegram Bot API calls that were retried.",
    registers,
  });
  const commandLatency = new Histogram({
    name: "dlbot_command_duration_seconds",
    help: "Time from receiving a chat command to answering it, in seconds.",
    labelNames: ["command"] as const,
    buckets: COMMAND_BUCKETS,
    registers,
  });
  const jobDuration = new Histogram({
    name: "dlbot_job_duration_seconds",
    help: "Run time of finished download jobs in seconds, by final state.",
    labelNames: ["state"] as const,
    buckets: JOB_BUCKETS,
    registers,
  });
  const queueDepth = new Gauge({
    name: "dlbot_queue_depth",
    help: "Download jobs waiting in the queue.",
    registers,
  });
  const runningJobs = new Gauge({
    name: "dlbot_running_jobs",
    help: "Download jobs currently running.",
    registers,
  });
  const httpRequests = new Counter({
    name: "dlbot_http_requests_total",
    help: "HTTP requests served, by route and status code.",
    labelNames: ["route", "status"] as const,
    registers,
  });
  const updatesReceived = new Counter({
    name: "dlbot_updates_received_total",
    help: "Telegram updates received.",
    registers,
  });

  const jobFailures = new Counter({
    name: "dlbot_job_failures_total",
    help: "Failed downloads by reason (the job's error code, e.g. downloader_missing, no_results).",
    labelNames: ["reason"] as const,
    registers,
  });
  const spotifyWaits = new Counter({
    name: "dlbot_spotify_waits_total",
    help: "Spotify rate limits: short ones sat out by the downloader, pauses of every job.",
    labelNames: ["kind"] as const,
    registers,
  });
  const spotifyPauseUntil = new Gauge({
    name: "dlbot_spotify_pause_until_timestamp_seconds",
    help: "When Spotify's pause of every job ends (Unix time); 0 when no pause is on.",
    registers,
  });

  const telegramOutages = new Counter({
    name: "dlbot_telegram_outages_total",
    help: "Times Telegram stopped answering (network errors or 5xx) until a call went through.",
    registers,
  });
  const telegramReachable = new Gauge({
    name: "dlbot_telegram_reachable",
    help: "1 while Telegram answers the bot's calls, 0 during an outage.",
    registers,
  });

  const refusalsDropped = new Counter({
    name: "dlbot_refusals_dropped_total",
    help: "Refusals to outsiders not sent because the bot was busy (they go last).",
    registers,
  });

  const sink: JobMetricsSink = {
    spotifyWait(kind) {
      spotifyWaits.inc({ kind });
    },
    setSpotifyPauseUntil(epochMs) {
      spotifyPauseUntil.set(Math.round(epochMs / 1000));
    },
    jobFinished(state, durationSeconds, reason) {
      jobsFinished.inc({ state });
      if (state === "failed") jobFailures.inc({ reason: reason ?? "unknown" });
      if (Number.isFinite(durationSeconds) && durationSeconds >= 0) {
        jobDuration.observe({ state }, durationSeconds);
      }
    },
    setQueueDepth(n) {
      queueDepth.set(n);
    },
    setRunning(n) {
      runningJobs.set(n);
    },
  };

  return {
    registry,
    contentType: registry.contentType,
    commands,
    rejected,
    jobsFinished,
    telegramApiErrors,
    telegramRetries,
    telegramOutages,
    telegramReachable,
    refusalsDropped,
    commandLatency,
    jobDuration,
    queueDepth,
    runningJobs,
    httpRequests,
    updatesReceived,
    jobSink: () => sink,
    render: () => registry.metrics(),
  };
}
