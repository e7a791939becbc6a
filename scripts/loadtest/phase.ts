/**
 * One phase of the load test: one bot, its own emulator with Telegram's flood limits, the planned
 * traffic sent on schedule, a bounded wait for the bot to drain, and the figures measured.
 *
 * @module
 */
import { sleep } from "../../src/runtime/sleep.ts";
import { TelegramEmulator } from "../../src/emulator/mod.ts";
import type { FloodLimit } from "../../src/emulator/mod.ts";
import { type LatencySummary, ReplyLatencyRecorder, RssSampler } from "./measure.ts";
import { type BotName, type JobCounts, startTarget, type Target } from "./targets.ts";
import {
  allowedJobsUpperBound,
  countByKind,
  type PlannedMessage,
  type TrafficPlan,
  type UserKind,
} from "./traffic.ts";

/** Telegram's limits as the emulator simulates them: 1 message per chat and 30 per bot per second. */
export const TELEGRAM_FLOOD_LIMIT: FloodLimit = { perChatPerSecond: 1, perBotPerSecond: 30 };

/** The bot counts as drained after this long without a Bot API call other than getUpdates. */
const QUIET_MS = 1500;
/** How often memory and the handled-update counter are sampled. */
const SAMPLE_MS = 50;
/** How often the drain condition is checked. */
const DRAIN_POLL_MS = 100;
/** How often `onProgress` hears about the phase. */
const PROGRESS_MS = 5000;

/** What a phase needs. */
export interface PhaseOptions {
  bot: BotName;
  plan: TrafficPlan;
  durationSeconds: number;
  /** Upper bound on the wait for the bot to finish after the traffic stops. */
  drainTimeoutSeconds: number;
  /** FAKE_SPOTDL_DELAY for dlbot's scripted downloader. */
  downloaderDelaySeconds: number;
  /** Receives a progress line every few seconds (for `--progress`). */
  onProgress?: (line: string) => void;
}

/** Jobs figures of a dlbot phase. */
export interface JobFigures extends JobCounts {
  /** `/download` messages sent, per kind of user and in total. */
  downloadsRequested: Record<UserKind | "total", number>;
  /** Upper bound the per-user download limits allow (whitelisted users only). */
  allowedByLimits: number;
}

/** Everything measured in one phase. */
export interface PhaseResult {
  bot: BotName;
  updatesSent: number;
  /** Updates that reached the bot's middleware. */
  updatesHandled: number;
  /** Handled updates over the time from the first send until the last one was handled. */
  handledPerSecond: number;
  /** Sent updates over the traffic duration. */
  offeredPerSecond: number;
  /** Whether the bot finished within the drain timeout. */
  drained: boolean;
  /** Time after the traffic stopped until the bot's last Bot API call (the timeout if not drained). */
  drainSeconds: number;
  /** From a user's message to the bot's next message in that chat, in ms. */
  latencyMs: Record<"all" | UserKind, LatencySummary>;
  /** User messages no bot message followed. */
  unanswered: Record<UserKind, number>;
  /** Messages the bot sent (not counting edits). */
  botMessages: number;
  /** Bot messages that said "Slow down". */
  throttledReplies: number;
  /** Most sends+edits the emulator accepted in one chat within one second. */
  maxPerChatPerSecond: number;
  /** Calls the emulator answered 429 Too Many Requests (flood limit). */
  floodRejections: number;
  /** Bot API calls, and those answered with an error. */
  apiCalls: number;
  failedApiCalls: number;
  /** Peak resident set size of the process during the phase. */
  rssPeakBytes: number;
  /** Jobs figures; null for the bare bot, which has no jobs. */
  jobs: JobFigures | null;
}

function downloadsRequested(
  messages: readonly PlannedMessage[],
): Record<UserKind | "total", number> {
  const counts = countByKind(messages.filter((m) => m.isDownload));
  return { total: counts.normal + counts.spammer + counts.outsider, ...counts };
}

/** Runs one phase: start, send, drain, measure, stop. Everything it starts is stopped. */
export async function runPhase(options: PhaseOptions): Promise<PhaseResult> {
  const { plan } = options;
  const rss = new RssSampler();
  rss.sample();
  const emulator = await TelegramEmulator.start({
    floodLimit: TELEGRAM_FLOOD_LIMIT,
    recordFileBytes: false,
  });
  try {
    const target = await startTarget(options.bot, {
      emulator,
      users: plan.users,
      downloaderDelaySeconds: options.downloaderDelaySeconds,
    });
    const kinds = new Map(plan.users.map((u) => [u.id, u.kind]));
    const recorder = new ReplyLatencyRecorder(emulator, (chatId) => kinds.get(chatId));
    let lastActivity = performance.now();
    const stopWatching = emulator.onChange((event) => {
      if (event.type === "call" && event.call.method !== "getUpdates") {
        lastActivity = performance.now();
      }
    });
    let handled = 0;
    let lastHandledAt = performance.now();
    let sampling = false;
    const sample = async () => {
      rss.sample();
      if (sampling) return;
      sampling = true;
      try {
        const now = await target.handled();
        if (now > handled) {
          handled = now;
          lastHandledAt = performance.now();
        }
      } finally {
        sampling = false;
      }
    };
    const sampler = setInterval(sample, SAMPLE_MS);
    const phaseStart = performance.now();
    let sentSoFar = 0;
    const report = async () => {
      const jobs = await target.jobsInFlight();
      const seconds = ((performance.now() - phaseStart) / 1000).toFixed(0);
      options.onProgress?.(
        `[${options.bot} ${seconds} s] sent ${sentSoFar}, handled ${handled}, ` +
          `waiting in Telegram ${emulator.pendingUpdateCount}, ` +
          `bot messages ${recorder.botMessages}, 429s ${emulator.stats.floodRejections}, ` +
          `jobs queued ${jobs.queued} running ${jobs.running}`,
      );
    };
    const reporter = options.onProgress ? setInterval(report, PROGRESS_MS) : undefined;
    let jobCounts: JobCounts | null = null;
    let stopped = false;
    try {
      const start = performance.now();
      const sent = await sendTraffic(emulator, plan.messages, recorder, start, (n) => {
        sentSoFar = n;
      });
      await sleep(start + options.durationSeconds * 1000 - performance.now());
      const trafficEnd = performance.now();
      const drainDeadline = trafficEnd + options.drainTimeoutSeconds * 1000;
      let drained = false;
      while (performance.now() < drainDeadline) {
        await sample();
        if (
          handled >= sent && emulator.pendingUpdateCount === 0 &&
          performance.now() - lastActivity >= QUIET_MS && await jobsDone(target)
        ) {
          drained = true;
          break;
        }
        await sleep(DRAIN_POLL_MS);
      }
      const drainSeconds = drained
        ? Math.max(0, lastActivity - trafficEnd) / 1000
        : options.drainTimeoutSeconds;
      const elapsedSeconds = (performance.now() - start) / 1000;
      const windowSeconds = Math.max(options.durationSeconds, (lastHandledAt - start) / 1000);
      const stats = emulator.stats;
      const measured = {
        bot: options.bot,
        updatesSent: sent,
        updatesHandled: handled,
        handledPerSecond: round(handled / windowSeconds, 2),
        offeredPerSecond: round(sent / options.durationSeconds, 2),
        drained,
        drainSeconds: round(drainSeconds, 2),
        latencyMs: recorder.latency(),
        unanswered: recorder.unanswered(),
        botMessages: recorder.botMessages,
        throttledReplies: recorder.throttledReplies,
        maxPerChatPerSecond: emulator.maxPerChatPerSecond(),
        floodRejections: stats.floodRejections,
        apiCalls: stats.totalCalls,
        failedApiCalls: stats.failedCalls,
      };
      stopped = true;
      jobCounts = await target.stop();
      const limits = target.downloadLimits;
      rss.sample();
      return {
        ...measured,
        rssPeakBytes: rss.peakBytes,
        jobs: jobCounts === null || limits === undefined ? null : {
          ...jobCounts,
          downloadsRequested: downloadsRequested(plan.messages.slice(0, sent)),
          allowedByLimits: allowedJobsUpperBound(
            plan.messages.slice(0, sent),
            limits,
            elapsedSeconds,
          ),
        },
      };
    } finally {
      clearInterval(sampler);
      clearInterval(reporter);
      stopWatching();
      recorder.close();
      if (!stopped) await target.stop();
    }
  } finally {
    await emulator.close();
  }
}

/** Sends every planned message at its time; returns how many were sent. */
async function sendTraffic(
  emulator: TelegramEmulator,
  messages: readonly PlannedMessage[],
  recorder: ReplyLatencyRecorder,
  start: number,
  onSent: (count: number) => void,
): Promise<number> {
  let next = 0;
  while (next < messages.length) {
    const message = messages[next]!;
    const wait = start + message.atMs - performance.now();
    if (wait > 0) await sleep(wait);
    const now = performance.now() - start;
    while (next < messages.length && messages[next]!.atMs <= now) {
      const due = messages[next]!;
      recorder.sent(due.userId);
      emulator.sendText({ id: due.userId, first_name: `User ${due.userId}` }, due.text);
      next++;
    }
    onSent(next);
  }
  return next;
}

async function jobsDone(target: Target): Promise<boolean> {
  const jobs = await target.jobsInFlight();
  return jobs.queued + jobs.running === 0;
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Number.isFinite(value) ? Math.round(value * factor) / factor : 0;
}
