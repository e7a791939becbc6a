/**
 * The load test's traffic: a population of simulated users and a deterministic, seeded schedule of
 * the messages they send. The same seed gives the same users, messages and send times, so the real
 * bot and the bare baseline see identical traffic.
 *
 * @module
 */
import { seededRandom } from "../../src/emulator/faults.ts";

/** How a simulated user behaves. */
export type UserKind = "normal" | "spammer" | "outsider";

/** Every user kind, in report order. */
export const USER_KINDS: readonly UserKind[] = ["normal", "spammer", "outsider"];

/** One simulated user (the id is also the private chat id). */
export interface SimUser {
  id: number;
  kind: UserKind;
}

/** One message of the schedule. */
export interface PlannedMessage {
  /** When to send it, in ms after the start of the traffic. */
  atMs: number;
  userId: number;
  kind: UserKind;
  text: string;
  /** Whether the message asks for a download (`/download <link>`). */
  isDownload: boolean;
}

/** What shapes the traffic. */
export interface TrafficOptions {
  /** Simulated users; about 10% outsiders (not whitelisted) and 10% spammers. */
  users: number;
  /** Target aggregate rate of all users together, in updates per second. */
  ratePerSecond: number;
  /** How long the traffic lasts, in seconds. */
  durationSeconds: number;
  /** Seed of the RNG that decides everything. */
  seed: number;
  /** How many times faster than a normal user a spammer sends. */
  spamFactor: number;
}

/** The schedule and what it is made of. */
export interface TrafficPlan {
  users: SimUser[];
  /** Sorted by `atMs`. */
  messages: PlannedMessage[];
  /** Mean messages per second of one user of each kind. */
  perUserRate: Record<UserKind, number>;
}

/** Share of users that are outsiders, and of users that are spammers. */
const OUTSIDER_EVERY = 10;
const SPAMMER_EVERY = 10;
/** First simulated user id. */
const FIRST_USER_ID = 100_001;
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Counts of each kind among `users`. */
export function countByKind<T extends { kind: UserKind }>(items: readonly T[]): Record<
  UserKind,
  number
> {
  const counts: Record<UserKind, number> = { normal: 0, spammer: 0, outsider: 0 };
  for (const item of items) counts[item.kind]++;
  return counts;
}

/** The user population: every tenth user (offset 3) an outsider, every tenth (offset 7) a spammer. */
export function makeUsers(count: number): SimUser[] {
  return Array.from({ length: count }, (_, i) => ({
    id: FIRST_USER_ID + i,
    kind: i % OUTSIDER_EVERY === 3 ? "outsider" : i % SPAMMER_EVERY === 7 ? "spammer" : "normal",
  }));
}

/** A random valid Spotify link (track, album or playlist) drawn from `random`. */
export function randomSpotifyLink(random: () => number): string {
  const roll = random();
  const kind = roll < 0.5 ? "track" : roll < 0.8 ? "album" : "playlist";
  let id = "";
  for (let i = 0; i < 22; i++) id += BASE62[Math.floor(random() * BASE62.length)];
  return `https://open.spotify.com/${kind}/${id}`;
}

function pick(random: () => number, weighted: readonly (readonly [string, number])[]): string {
  const total = weighted.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = random() * total;
  for (const [value, weight] of weighted) {
    roll -= weight;
    if (roll < 0) return value;
  }
  return weighted[weighted.length - 1]![0];
}

/** What whitelisted users send: mostly commands, sometimes a download. */
const MEMBER_MIX = [["/start", 15], ["/help", 25], ["/status", 50], ["/download", 10]] as const;
/** What outsiders send: they found the bot and want music. */
const OUTSIDER_MIX = [["/start", 30], ["/help", 20], ["/download", 50]] as const;

function messageText(
  user: SimUser,
  first: boolean,
  random: () => number,
): { text: string; isDownload: boolean } {
  const command = first
    ? (user.kind === "outsider" ? "/download" : "/start")
    : pick(random, user.kind === "outsider" ? OUTSIDER_MIX : MEMBER_MIX);
  if (command !== "/download") return { text: command, isDownload: false };
  return { text: `/download ${randomSpotifyLink(random)}`, isDownload: true };
}

/**
 * Plans the traffic: each user sends as a Poisson process (spammers `spamFactor` times faster), so
 * that all users together send `ratePerSecond` on average. Members start with /start, outsiders
 * with a download link.
 */
export function planTraffic(options: TrafficOptions): TrafficPlan {
  const random = seededRandom(options.seed);
  const users = makeUsers(options.users);
  const counts = countByKind(users);
  const weight = counts.normal + counts.outsider + counts.spammer * options.spamFactor;
  const baseRate = weight > 0 ? options.ratePerSecond / weight : 0;
  const perUserRate: Record<UserKind, number> = {
    normal: baseRate,
    outsider: baseRate,
    spammer: baseRate * options.spamFactor,
  };
  const durationMs = options.durationSeconds * 1000;
  const messages: PlannedMessage[] = [];
  for (const user of users) {
    const rate = perUserRate[user.kind] / 1000;
    if (!(rate > 0)) continue;
    let at = -Math.log(1 - random()) / rate;
    for (let first = true; at < durationMs; first = false) {
      messages.push({
        atMs: at,
        userId: user.id,
        kind: user.kind,
        ...messageText(user, first, random),
      });
      at += -Math.log(1 - random()) / rate;
    }
  }
  messages.sort((a, b) => a.atMs - b.atMs || a.userId - b.userId);
  return { users, messages, perUserRate };
}

/** Per-user limits that decide how many downloads may become jobs. */
export interface DownloadLimits {
  /** Token bucket size for new downloads. */
  capacity: number;
  /** Tokens regained per second. */
  refillPerSecond: number;
}

/**
 * The most jobs the per-user download limits can let through: for each whitelisted user, their
 * download requests, capped by the bucket size plus what it refills in `elapsedSeconds`.
 * (The per-user command limit, active-job limit and queue length may let through fewer.)
 */
export function allowedJobsUpperBound(
  messages: readonly PlannedMessage[],
  limits: DownloadLimits,
  elapsedSeconds: number,
): number {
  const requests = new Map<number, number>();
  for (const m of messages) {
    if (m.isDownload && m.kind !== "outsider") {
      requests.set(m.userId, (requests.get(m.userId) ?? 0) + 1);
    }
  }
  const cap = limits.capacity + Math.floor(limits.refillPerSecond * elapsedSeconds);
  let allowed = 0;
  for (const count of requests.values()) allowed += Math.min(count, cap);
  return allowed;
}
