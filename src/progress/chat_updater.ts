/**
 * Keeps the chat informed about a job without tripping Telegram's flood limits.
 *
 * - Progress: `onUpdate` only records the latest state per job; one loop per chat edits status
 *   messages at most once per interval (across all jobs of that chat), always ending with the
 *   latest state, and never re-sends an unchanged text.
 * - Flood control: a 429 blocks the chat for `retry_after` seconds and doubles its interval
 *   (decaying back after successes). When grammY's auto-retry already waited, the call simply
 *   took longer; calls are serialized per chat, so nothing is hammered twice.
 * - Completion: `onFinished` drops pending edits, edits the status message to its short final
 *   state (removing the Cancel button), sends the summary as a new message (a notification)
 *   replying to the status message, and for a single track small enough uploads the audio. A
 *   job stopped for its size gets its question with a "Download all N tracks" button instead.
 *
 * @module
 */
import { GrammyError, InputFile } from "grammy";
import type { Job } from "../jobs/model.ts";
import type { JobObserver } from "../jobs/service.ts";
import {
  type FileLink,
  type InlineKeyboard,
  renderStatus,
  renderSummary,
  summaryKeyboard,
} from "./render.ts";
import type { Log } from "../log/logger.ts";

/** Options shared by sending and editing text messages. */
export interface ChatApiTextOptions {
  parse_mode?: "HTML";
  reply_markup?: InlineKeyboard;
  link_preview_options?: { is_disabled: boolean };
}

/** Options of {@linkcode ChatApi.sendMessage}. */
export interface ChatApiSendOptions extends ChatApiTextOptions {
  reply_parameters?: { message_id: number; allow_sending_without_reply?: boolean };
}

/** Options of {@linkcode ChatApi.sendAudio}. */
export interface ChatApiAudioOptions {
  caption?: string;
  title?: string;
  performer?: string;
  duration?: number;
  reply_parameters?: { message_id: number; allow_sending_without_reply?: boolean };
}

/** The part of the Bot API this module uses; grammY's `bot.api` satisfies it. */
export interface ChatApi {
  /** Sends a text message. */
  sendMessage(
    chatId: number,
    text: string,
    other?: ChatApiSendOptions,
  ): Promise<{ message_id: number }>;
  /** Replaces a message's text (and its inline keyboard: omitted means removed). */
  editMessageText(
    chatId: number,
    messageId: number,
    text: string,
    other?: ChatApiTextOptions,
  ): Promise<unknown>;
  /** Uploads an audio file. */
  sendAudio(chatId: number, audio: InputFile, other?: ChatApiAudioOptions): Promise<unknown>;
}

/** Minimal structured logger (the app's `AppLogger` satisfies it). */
export type UpdaterLogger = Log;

/** Waits `ms` milliseconds; resolves early (never rejects) when `signal` aborts. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** Dependencies of {@linkcode ChatUpdater}. */
export interface ChatUpdaterDeps {
  api: ChatApi;
  /** Clock in milliseconds; default `Date.now`. */
  now?: () => number;
  /** Minimum time between two calls to one private chat; default 1000 ms. */
  minEditIntervalMs?: number;
  /** Minimum time between two calls to one group chat (20 messages/min limit); default 3000 ms. */
  groupMinEditIntervalMs?: number;
  /** Download links for a succeeded job's files (may be a single link for many files). */
  fileLinks: (job: Job) => Promise<FileLink[]>;
  /** Largest file sent as audio (50 MB on the public Bot API). */
  uploadLimitBytes: number;
  /** Absolute path of one of a job's files. */
  openFile: (job: Job, fileName: string) => Promise<string>;
  /** 1-based queue position of a queued job. */
  positionOf?: (jobId: string) => Promise<number | undefined>;
  logger: UpdaterLogger;
  /** Injectable for tests; default uses `setTimeout`. */
  sleep?: Sleep;
}

/** Longest interval a chat backs off to after repeated errors. */
const MAX_INTERVAL_MS = 60_000;
/** Back-off when a 429 carries no `retry_after`. */
const DEFAULT_RETRY_AFTER_S = 5;
/** Attempts for each completion message (status edit, summary, audio). */
const FINAL_ATTEMPTS = 3;
/** Finished job ids remembered so late progress updates are ignored. */
const FINISHED_MEMORY = 1000;

/** Per-chat scheduling state. */
interface ChatState {
  chatId: number;
  /** Earliest time the next API call to this chat may start. */
  nextAllowedAt: number;
  /** Current spacing between calls; grows on errors, decays on success. */
  intervalMs: number;
  baseIntervalMs: number;
  /** Latest not-yet-shown state per job id (insertion order = oldest first). */
  pending: Map<string, Job>;
  /** Completion work, run before progress edits. */
  finals: (() => Promise<void>)[];
  /** The running loop, if any. */
  loop?: Promise<void>;
}

/** How an API call failed, for the caller's decision. */
type Failure = "not_modified" | "flood" | "gone" | "transient" | "rejected";

const defaultSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });

/** Classifies a Bot API error. */
function classify(error: unknown): Failure {
  if (!(error instanceof GrammyError)) return "transient";
  const description = error.description.toLowerCase();
  if (error.error_code === 429) return "flood";
  if (description.includes("message is not modified")) return "not_modified";
  if (error.error_code === 403) return "gone";
  if (
    description.includes("message to edit not found") ||
    description.includes("message can't be edited") ||
    description.includes("chat not found")
  ) return "gone";
  if (error.error_code >= 500) return "transient";
  return "rejected";
}

/** `retry_after` of a 429, in seconds. */
function retryAfterOf(error: unknown): number {
  if (error instanceof GrammyError) {
    const seconds = error.parameters?.retry_after;
    if (typeof seconds === "number" && seconds > 0) return seconds;
  }
  return DEFAULT_RETRY_AFTER_S;
}

function describe(error: unknown): string {
  if (error instanceof GrammyError) return `${error.error_code}: ${error.description}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Last path segment of a file name relative to the job's directory. */
function baseName(fileName: string): string {
  return fileName.split(/[\\/]/).pop() || fileName;
}

/** "Artist - Song.mp3" → performer and title, as spotDL names files by default. */
function audioTags(fileName: string): { performer?: string; title: string } {
  const stem = baseName(fileName).replace(/\.[A-Za-z0-9]{1,5}$/, "");
  const split = stem.indexOf(" - ");
  if (split <= 0) return { title: stem };
  return { performer: stem.slice(0, split), title: stem.slice(split + 3) };
}

/** Updates chats about their jobs; see the module documentation. */
export class ChatUpdater implements JobObserver {
  readonly #deps: ChatUpdaterDeps;
  readonly #now: () => number;
  readonly #sleep: Sleep;
  readonly #privateInterval: number;
  readonly #groupInterval: number;
  readonly #chats = new Map<number, ChatState>();
  /** Last text shown in each job's status message, without the elapsed time. */
  readonly #lastText = new Map<string, string>();
  /** Jobs whose status message can no longer be edited (deleted, bot blocked). */
  readonly #unreachable = new Set<string>();
  readonly #finished = new Set<string>();
  readonly #abort = new AbortController();

  constructor(deps: ChatUpdaterDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#sleep = deps.sleep ?? defaultSleep;
    this.#privateInterval = deps.minEditIntervalMs ?? 1000;
    this.#groupInterval = deps.groupMinEditIntervalMs ?? Math.max(3000, this.#privateInterval);
  }

  /** Records the job's latest state; an edit follows within the chat's interval. Never throws. */
  onUpdate(job: Job): void {
    try {
      if (this.#abort.signal.aborted) return;
      if (job.state !== "queued" && job.state !== "running") return;
      if (job.statusMessageId === undefined) return;
      if (this.#finished.has(job.id) || this.#unreachable.has(job.id)) return;
      const chat = this.#chat(job.chatId);
      chat.pending.set(job.id, job);
      this.#kick(chat);
    } catch (error) {
      this.#deps.logger.error("progress update failed", { job_id: job.id, error: describe(error) });
    }
  }

  /**
   * Shows the final state: edits the status message, sends the summary (and the audio of a
   * small single track). Resolves when done, or when {@linkcode close} gives up waiting for a
   * flood wait. Never rejects.
   */
  onFinished(job: Job): Promise<void> {
    this.#rememberFinished(job.id);
    if (this.#abort.signal.aborted) {
      this.#deps.logger.warn("job finished after the chat updater closed", { job_id: job.id });
      return Promise.resolve();
    }
    const chat = this.#chat(job.chatId);
    chat.pending.delete(job.id);
    return new Promise((resolve) => {
      chat.finals.push(async () => {
        try {
          await this.#finish(chat, job);
        } catch (error) {
          this.#deps.logger.error("sending the job summary failed", {
            job_id: job.id,
            chat_id: job.chatId,
            error: describe(error),
          });
        } finally {
          this.#lastText.delete(job.id);
          this.#unreachable.delete(job.id);
          resolve();
        }
      });
      this.#kick(chat);
    });
  }

  /** Stops all waiting: pending edits are dropped, waiting completions give up. */
  async close(): Promise<void> {
    this.#abort.abort();
    const loops = [...this.#chats.values()].map((chat) => chat.loop);
    await Promise.allSettled(loops);
  }

  #rememberFinished(jobId: string): void {
    this.#finished.delete(jobId);
    this.#finished.add(jobId);
    if (this.#finished.size > FINISHED_MEMORY) {
      const oldest = this.#finished.values().next().value;
      if (oldest !== undefined) this.#finished.delete(oldest);
    }
  }

  #chat(chatId: number): ChatState {
    let chat = this.#chats.get(chatId);
    if (!chat) {
      const base = chatId < 0 ? this.#groupInterval : this.#privateInterval;
      chat = {
        chatId,
        nextAllowedAt: 0,
        intervalMs: base,
        baseIntervalMs: base,
        pending: new Map(),
        finals: [],
      };
      this.#chats.set(chatId, chat);
    }
    return chat;
  }

  /** Starts the chat's loop unless it is running. */
  #kick(chat: ChatState): void {
    if (chat.loop) return;
    chat.loop = this.#run(chat)
      .catch((error) => {
        this.#deps.logger.error("chat update loop failed", {
          chat_id: chat.chatId,
          error: describe(error),
        });
      })
      .finally(() => {
        chat.loop = undefined;
        if (this.#abort.signal.aborted) return;
        if (chat.finals.length > 0 || chat.pending.size > 0) this.#kick(chat);
        else if (chat.nextAllowedAt <= this.#now()) this.#chats.delete(chat.chatId);
      });
  }

  async #run(chat: ChatState): Promise<void> {
    while (!this.#abort.signal.aborted) {
      const final = chat.finals.shift();
      if (final) {
        await final();
        continue;
      }
      if (chat.pending.size === 0) return;
      if (!(await this.#waitGate(chat))) break;
      if (chat.finals.length > 0) continue;
      const next = chat.pending.entries().next().value;
      if (!next) continue;
      const [jobId, job] = next;
      chat.pending.delete(jobId);
      await this.#editProgress(chat, job);
    }
    this.#drop(chat);
  }

  /** After close: resolve waiting completions (they see the abort and give up). */
  #drop(chat: ChatState): void {
    chat.pending.clear();
    const finals = chat.finals.splice(0);
    for (const final of finals) void final();
  }

  /** Waits until the chat may be called again; false when closed meanwhile. */
  async #waitGate(chat: ChatState): Promise<boolean> {
    while (!this.#abort.signal.aborted) {
      const wait = chat.nextAllowedAt - this.#now();
      if (wait <= 0) return true;
      await this.#sleep(wait, this.#abort.signal);
    }
    return false;
  }

  /** One API call to the chat, after its gate; updates the gate and back-off. */
  async #call<T>(chat: ChatState, call: () => Promise<T>): Promise<T> {
    chat.nextAllowedAt = this.#now() + chat.intervalMs;
    try {
      const result = await call();
      chat.intervalMs = Math.max(chat.baseIntervalMs, Math.floor(chat.intervalMs * 0.9));
      return result;
    } catch (error) {
      const failure = classify(error);
      if (failure === "flood" || failure === "transient") {
        chat.intervalMs = Math.min(MAX_INTERVAL_MS, chat.intervalMs * 2);
      }
      if (failure === "flood") {
        const blockedUntil = this.#now() + retryAfterOf(error) * 1000;
        chat.nextAllowedAt = Math.max(chat.nextAllowedAt, blockedUntil);
        this.#deps.logger.warn("telegram flood wait; backing off this chat", {
          chat_id: chat.chatId,
          retry_after_s: retryAfterOf(error),
          interval_ms: chat.intervalMs,
        });
      }
      throw error;
    } finally {
      chat.nextAllowedAt = Math.max(chat.nextAllowedAt, this.#now() + chat.intervalMs);
    }
  }

  async #position(job: Job): Promise<number | undefined> {
    if (job.state !== "queued" || !this.#deps.positionOf) return undefined;
    try {
      return await this.#deps.positionOf(job.id);
    } catch (error) {
      this.#deps.logger.debug("queue position unavailable", {
        job_id: job.id,
        error: describe(error),
      });
      return undefined;
    }
  }

  async #editProgress(chat: ChatState, job: Job): Promise<void> {
    const messageId = job.statusMessageId;
    if (messageId === undefined || this.#finished.has(job.id)) return;
    const position = await this.#position(job);
    const now = this.#now();
    const status = renderStatus(job, { position, now });
    // Compared without the elapsed time: an edit only for the clock moving is not worth it.
    const content = renderStatus(job, { position, now, elapsed: false }).text;
    if (this.#lastText.get(job.id) === content) return;
    try {
      await this.#call(
        chat,
        () =>
          this.#deps.api.editMessageText(chat.chatId, messageId, status.text, {
            parse_mode: "HTML",
            reply_markup: status.replyMarkup,
            link_preview_options: { is_disabled: true },
          }),
      );
      this.#lastText.set(job.id, content);
    } catch (error) {
      const failure = classify(error);
      const props = { job_id: job.id, chat_id: chat.chatId, error: describe(error) };
      switch (failure) {
        case "not_modified":
          this.#lastText.set(job.id, content);
          return;
        case "flood":
        case "transient":
          // Show this state later unless a newer one arrived or the job finished meanwhile.
          if (!chat.pending.has(job.id) && !this.#finished.has(job.id)) {
            chat.pending.set(job.id, job);
          }
          if (failure === "transient") this.#deps.logger.warn("progress edit failed", props);
          return;
        case "gone":
          this.#unreachable.add(job.id);
          this.#deps.logger.info("status message no longer editable", props);
          return;
        case "rejected":
          this.#deps.logger.warn("progress edit rejected", props);
          return;
      }
    }
  }

  /** Runs a completion call with retries on flood waits and transient errors. */
  async #finalCall(
    chat: ChatState,
    what: string,
    job: Job,
    call: () => Promise<unknown>,
  ): Promise<boolean> {
    for (let attempt = 1; attempt <= FINAL_ATTEMPTS; attempt++) {
      if (!(await this.#waitGate(chat))) {
        this.#deps.logger.warn(`${what} skipped: shutting down`, { job_id: job.id });
        return false;
      }
      try {
        await this.#call(chat, call);
        return true;
      } catch (error) {
        const failure = classify(error);
        if (failure === "not_modified") return true;
        const props = { job_id: job.id, chat_id: chat.chatId, attempt, error: describe(error) };
        if ((failure === "flood" || failure === "transient") && attempt < FINAL_ATTEMPTS) {
          this.#deps.logger.info(`${what} failed; retrying`, props);
          continue;
        }
        this.#deps.logger.warn(`${what} failed`, props);
        return false;
      }
    }
    return false;
  }

  async #finish(chat: ChatState, job: Job): Promise<void> {
    const { api, logger } = this.#deps;
    const messageId = job.statusMessageId;
    if (messageId !== undefined && !this.#unreachable.has(job.id)) {
      const text = renderStatus(job, { now: this.#now() }).text;
      await this.#finalCall(
        chat,
        "final status edit",
        job,
        () =>
          api.editMessageText(chat.chatId, messageId, text, {
            parse_mode: "HTML",
            link_preview_options: { is_disabled: true },
          }),
      );
    }
    const links = job.state === "succeeded" ? await this.#links(job) : [];
    const summary = renderSummary(job, { links, now: this.#now() });
    const sent = await this.#finalCall(
      chat,
      "summary",
      job,
      () =>
        api.sendMessage(chat.chatId, summary, {
          parse_mode: "HTML",
          reply_markup: summaryKeyboard(job),
          link_preview_options: { is_disabled: true },
          reply_parameters: messageId !== undefined
            ? { message_id: messageId, allow_sending_without_reply: true }
            : undefined,
        }),
    );
    if (sent) logger.debug("job summary sent", { job_id: job.id, chat_id: chat.chatId });
    await this.#maybeSendAudio(chat, job);
  }

  async #links(job: Job): Promise<FileLink[]> {
    try {
      return await this.#deps.fileLinks(job);
    } catch (error) {
      this.#deps.logger.warn("download links unavailable", {
        job_id: job.id,
        error: describe(error),
      });
      return [];
    }
  }

  async #maybeSendAudio(chat: ChatState, job: Job): Promise<void> {
    const file = job.result?.files.length === 1 ? job.result.files[0] : undefined;
    if (job.state !== "succeeded" || job.kind !== "track" || !file) return;
    if (file.size > this.#deps.uploadLimitBytes) {
      this.#deps.logger.debug("audio too large to upload; links only", {
        job_id: job.id,
        size: file.size,
      });
      return;
    }
    let path: string;
    try {
      path = await this.#deps.openFile(job, file.name);
    } catch (error) {
      this.#deps.logger.warn("audio file unavailable", { job_id: job.id, error: describe(error) });
      return;
    }
    const tags = audioTags(file.name);
    const caption = (job.result?.title ?? job.progress.title ?? tags.title).slice(0, 1000);
    await this.#finalCall(
      chat,
      "audio upload",
      job,
      () =>
        this.#deps.api.sendAudio(chat.chatId, new InputFile(path, baseName(file.name)), {
          caption,
          title: tags.title,
          performer: tags.performer,
          duration: file.durationSeconds !== undefined
            ? Math.round(file.durationSeconds)
            : undefined,
        }),
    );
  }
}
