/**
 * Load test: drives the real bot (`createApp`, in-process, scripted spotDL) and a bare grammY echo
 * bot with the same seeded traffic through the Bot API emulator with Telegram's flood limits, and
 * prints throughput, reply latency, flood and throttling figures, jobs and memory side by side.
 *
 * Each bot runs in its own child process (same script, `--only <bot>`), one after the other, so
 * their memory figures and event loops do not mix. Loopback only; stops by itself.
 *
 * ```sh
 * deno task loadtest                       # defaults: 200 users, 50 updates/s, 30 s per bot
 * deno task loadtest --users 10 --duration 3 --json
 * deno task loadtest --running-jobs 200 --askers 50   # /help and progress while 200 downloads run
 * ```
 *
 * @module
 */
import "../src/runtime/quiet_node_warnings.ts";
import { Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { runPhase, TELEGRAM_FLOOD_LIMIT } from "./loadtest/phase.ts";
import { formatReport, type LoadTestReport, ratios, type RunParams } from "./loadtest/report.ts";
import { BOT_NAMES, type BotName } from "./loadtest/targets.ts";
import { countByKind, planTraffic, type TrafficPlan } from "./loadtest/traffic.ts";
import type { PhaseResult } from "./loadtest/phase.ts";
import { formatRunningPhase, runRunningPhase } from "./loadtest/running_phase.ts";

/** Permissions a phase's child process runs with (the same as `deno task loadtest`). */
export const LOADTEST_PERMISSIONS: readonly string[] = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-sys=hostname,osRelease",
];

/** Extra time a child process gets beyond traffic and drain before it is killed. */
const CHILD_SLACK_SECONDS = 60;

function numberArg(name: string, min: number, max: number, integer: boolean) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(
        `${name} must be ${integer ? "an integer" : "a number"} from ${min} to ${max}.`,
      );
    }
    return n;
  };
}

function trafficOf(params: RunParams): TrafficPlan {
  return planTraffic({
    users: params.users,
    ratePerSecond: params.ratePerSecond,
    durationSeconds: params.durationSeconds,
    seed: params.seed,
    spamFactor: params.spamFactor,
  });
}

function paramArgs(params: RunParams): string[] {
  return [
    ["--users", params.users],
    ["--rate", params.ratePerSecond],
    ["--duration", params.durationSeconds],
    ["--drain-timeout", params.drainTimeoutSeconds],
    ["--seed", params.seed],
    ["--spam-factor", params.spamFactor],
    ["--downloader-delay", params.downloaderDelaySeconds],
  ].flatMap(([flag, value]) => [String(flag), String(value)]);
}

/** Runs one bot's phase in a child process and returns its figures. */
async function runPhaseInChild(
  bot: BotName,
  params: RunParams,
  progress: boolean,
): Promise<PhaseResult> {
  const script = new URL(import.meta.url).pathname;
  const config = new URL("../deno.json", import.meta.url).pathname;
  const limitSeconds = params.durationSeconds + params.drainTimeoutSeconds + CHILD_SLACK_SECONDS;
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--config",
      config,
      ...LOADTEST_PERMISSIONS,
      script,
      "--only",
      bot,
      "--json",
      ...(progress ? ["--progress"] : []),
      ...paramArgs(params),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
    signal: AbortSignal.timeout(limitSeconds * 1000),
  }).output();
  if (!output.success) {
    throw new Error(`the ${bot} phase failed (exit code ${output.code}, signal ${output.signal})`);
  }
  const report = JSON.parse(new TextDecoder().decode(output.stdout)) as LoadTestReport;
  const phase = report[bot];
  if (phase === null) throw new Error(`the ${bot} phase printed no figures`);
  return phase;
}

/**
 * Runs the load test: `only` runs one bot in this process; otherwise each bot runs in a child
 * process, one after the other.
 */
export async function runLoadTest(
  params: RunParams,
  options: { only?: BotName; progress?: (line: string) => void } = {},
): Promise<LoadTestReport> {
  const { only, progress } = options;
  const plan = trafficOf(params);
  const phases: Record<BotName, PhaseResult | null> = { dlbot: null, bare: null };
  for (const bot of only ? [only] : BOT_NAMES) {
    phases[bot] = only
      ? await runPhase({
        bot,
        plan,
        durationSeconds: params.durationSeconds,
        drainTimeoutSeconds: params.drainTimeoutSeconds,
        downloaderDelaySeconds: params.downloaderDelaySeconds,
        onProgress: progress,
      })
      : await runPhaseInChild(bot, params, progress !== undefined);
  }
  const users = countByKind(plan.users);
  return {
    params,
    traffic: {
      users: { total: plan.users.length, ...users },
      messages: plan.messages.length,
      perUserRate: plan.perUserRate,
      floodLimit: {
        perChatPerSecond: TELEGRAM_FLOOD_LIMIT.perChatPerSecond,
        perBotPerSecond: TELEGRAM_FLOOD_LIMIT.perBotPerSecond,
      },
    },
    dlbot: phases.dlbot,
    bare: phases.bare,
    ratio: ratios(phases.dlbot, phases.bare),
  };
}

/** The command line of the load test. */
export function loadTestCommand(write: (text: string) => void): Command {
  return new Command()
    .name("loadtest")
    .description(
      "Drive dlbot and a bare grammY echo bot with the same simulated users through the Bot API " +
        "emulator (Telegram flood limits on) and compare throughput, latency and limits.",
    )
    .addOption(
      new Option("--users <n>", "simulated users (10% not whitelisted, 10% spammers)")
        .default(200).argParser(numberArg("--users", 1, 100_000, true)),
    )
    .addOption(
      new Option("--rate <n>", "target aggregate updates per second")
        .default(50).argParser(numberArg("--rate", 0.1, 10_000, false)),
    )
    .addOption(
      new Option("--duration <seconds>", "traffic duration per bot")
        .default(30).argParser(numberArg("--duration", 1, 3600, false)),
    )
    .addOption(
      new Option("--drain-timeout <seconds>", "longest wait for a bot to finish after the traffic")
        .default(30).argParser(numberArg("--drain-timeout", 1, 3600, false)),
    )
    .addOption(
      new Option("--seed <n>", "seed of the traffic pattern")
        .default(1).argParser(numberArg("--seed", 0, 2 ** 32 - 1, true)),
    )
    .addOption(
      new Option("--spam-factor <n>", "how many times faster than a normal user a spammer sends")
        .default(25).argParser(numberArg("--spam-factor", 1, 10_000, false)),
    )
    .addOption(
      new Option("--downloader-delay <seconds>", "FAKE_SPOTDL_DELAY of the scripted spotDL")
        .default(0.01).argParser(numberArg("--downloader-delay", 0, 10, false)),
    )
    .addOption(
      new Option("--only <bot>", "run one bot in this process instead of both in child processes")
        .choices(["dlbot", "bare"] as const),
    )
    .addOption(
      new Option(
        "--running-jobs <n>",
        "instead: the running phase, /help latency and progress age while n downloads run",
      ).argParser(numberArg("--running-jobs", 1, 1000, true)),
    )
    .addOption(
      new Option("--askers <n>", "with --running-jobs: members asking /help every 5 s")
        .default(50).argParser(numberArg("--askers", 1, 10_000, true)),
    )
    .option("--json", "print the figures as JSON instead of a table")
    .option("--progress", "print progress lines to standard error while the bots run")
    .action(async (options) => {
      if (options.runningJobs !== undefined) {
        const result = await runRunningPhase({
          jobs: options.runningJobs,
          askers: options.askers,
          seconds: options.duration,
        });
        write(options.json ? `${JSON.stringify(result, null, 2)}\n` : formatRunningPhase(result));
        return;
      }
      const params: RunParams = {
        users: options.users,
        ratePerSecond: options.rate,
        durationSeconds: options.duration,
        drainTimeoutSeconds: options.drainTimeout,
        seed: options.seed,
        spamFactor: options.spamFactor,
        downloaderDelaySeconds: options.downloaderDelay,
      };
      const report = await runLoadTest(params, {
        only: options.only,
        progress: options.progress ? (line) => console.error(line) : undefined,
      });
      write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    });
}

if (import.meta.main) {
  const encoder = new TextEncoder();
  const write = async (text: string) => {
    const bytes = encoder.encode(text);
    for (let done = 0; done < bytes.length;) done += await Deno.stdout.write(bytes.subarray(done));
  };
  let output = "";
  await loadTestCommand((text) => output += text).parseAsync(Deno.args, { from: "user" });
  await write(output);
  // A bot stopped before it drained may still hold throttled or retrying Bot API calls (timers);
  // the figures are out, so leave like the real binary does, without waiting for them.
  Deno.exit(0);
}
