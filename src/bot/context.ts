/**
 * The bot's context type and the services handlers receive. Handlers never construct services;
 * the composition root (`src/app/create_app.ts`) builds {@linkcode BotDeps} and tests inject fakes.
 *
 * @module
 */
import type { UploadedFiles } from "../jobs/service.ts";
import type { UserSettings } from "../jobs/user_settings.ts";
import type { Context } from "grammy";
import type { AppLogger } from "../log/logger.ts";
import type { JobService, Requester } from "../jobs/service.ts";
import type { Job } from "../jobs/model.ts";
import type { ReadLinks } from "../links/reader.ts";

/**
 * Context of one update: grammY's context plus a logger carrying the update's ids, and the
 * whitelisted user behind it (set by the whitelist before any feature runs).
 */
export type BotContext = Context & { log: AppLogger; requester: Requester };

/** Outcome of taking a token from a per-user bucket. */
export interface RateDecision {
  allowed: boolean;
  retryAfterSeconds: number;
  /** True only for the first denial of a throttling episode (answer once, then stay quiet). */
  firstDenial: boolean;
}

/** A per-user rate limiter (token bucket in KV in production). */
export interface RateLimiter {
  take(userId: number): Promise<RateDecision>;
}

/** Who may use the bot. */
export interface AccessPolicy {
  isAllowed(userId: number): boolean;
  isAdmin(userId: number): boolean;
}

/** What the bot reports to metrics. */
export interface BotMetrics {
  /** A command finished with an outcome ("ok", "user_error", "error", "rate_limited"). */
  command(name: string, outcome: string, seconds: number): void;
  /** An update was rejected ("unauthorized", "rate_limited", "queue_full"). */
  rejected(reason: string): void;
  /** A refusal to an outsider was not sent: the bot was busy. */
  refusalDropped(): void;
}

/**
 * The one writer of a job's status message after the bot sent it (the chat updater): told when
 * the message is stored, it shows the job's current state there, final or not.
 */
export interface StatusMessages {
  attached(job: Job): void;
  /** `messageId` showed the job before and no longer does: it loses its buttons. */
  replaced(job: Job, messageId: number): void;
}

/** Reads the Spotify links of a message (`src/links/reader.ts`). */
export interface LinkSource {
  read(text: string): Promise<ReadLinks>;
}

/** Everything the handlers need. */
export interface BotDeps {
  jobs: JobService;
  /** The users' /settings (audio format and bitrate). */
  settings: UserSettings;
  /** Telegram's ids of files uploaded before (a track asked for again goes by id). */
  uploads: UploadedFiles;
  links: LinkSource;
  statusMessages: StatusMessages;
  access: AccessPolicy;
  limits: {
    /** Every command and button press of a whitelisted user. */
    commands: RateLimiter;
    /** Each new download. */
    downloads: RateLimiter;
    /** Refusals to outsiders, so a spamming stranger gets one answer, not hundreds. */
    refusals: RateLimiter;
  };
  metrics: BotMetrics;
  logger: AppLogger;
  /** Signed download links for a finished job's files (used when a link was already downloaded). */
  fileLinks(job: Job): Promise<{ name: string; url: string }[]>;
  /** Clock, for rendering ages. */
  now(): number;
  /** The `/admin` report (Telegram HTML). */
  adminReport(): Promise<string>;
  /** The bot's backlog toward Telegram, and above how much new commands get "busy". */
  busy: {
    /** Calls waiting in the outgoing throttle. */
    waiting(): number;
    /** `rate_limit.busy_backlog`; 0: never busy. */
    backlog: number;
  };
}
