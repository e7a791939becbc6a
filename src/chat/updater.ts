/**
 * Keeps the chat informed about a job without tripping Telegram's flood limits; the only writer
 * of a job's status message once the bot has sent it.
 *
 * - Progress: `onUpdate` only records the latest state per job; one loop per chat edits status
 *   messages at most once per interval (across all jobs of that chat, see `pacing.ts`), always
 *   ending with the latest state, and never re-sends an unchanged text.
 * - A status message stored after its job already moved on (`attached`) is brought up to the
 *   job's current state, final or not.
 * - Completion: `onFinished` drops pending edits, edits the status message to its short final
 *   state (removing the Cancel button), sends the summary as a new message (a notification)
 *   replying to the status message, and for a single track small enough uploads the audio. A
 *   job stopped for its size gets its question with a "Download all N tracks" button instead.
 *
 * @module
 */
import { isFinal, type Job } from "../jobs/model.ts";
import type { DeliveryLog, JobObserver, UploadedFiles } from "../jobs/service.ts";
import type { Log } from "../log/logger.ts";
import { sleep as realSleep } from "../runtime/sleep.ts";
import type { ChatApi } from "./chat_api.ts";
import { type ChatLine, closeDelivery, FinalMessages, openDelivery } from "./final_messages.ts";
import { remember } from "./memory.ts";
import { ChatGate, describeFailure } from "./pacing.ts";
import { ProgressEdits } from "./progress_edits.ts";
import type { FileLink } from "./summary.ts";

export type {
  ChatApi,
  ChatApiAudioOptions,
  ChatApiSendOptions,
  ChatApiTextOptions,
} from "./chat_api.ts";

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
  /** A JPEG of the cover embedded in one of a job's files, if it has one. */
  thumbnailOf?: (job: Job, fileName: string) => Promise<string | undefined>;
  /** 1-based queue position of a queued job. */
  positionOf?: (jobId: string) => Promise<number | undefined>;
  logger: Log;
  /**
   * The outbox: what finished jobs still owe their chats. Without it, deliveries are not
   * recorded (and not resumed after a restart).
   */
  outbox?: DeliveryLog;
  /** File ids of uploaded files, so a file goes again by id. */
  uploads?: UploadedFiles;
  /** Injectable for tests; default uses `setTimeout`. */
  sleep?: Sleep;
}

/** Per-chat scheduling state. */
interface ChatState {
  gate: ChatGate;
  /** The chat's paced line, for the final messages. */
  line: ChatLine;
  /** Latest not-yet-shown state per job id (insertion order = oldest first). */
  pending: Map<string, Job>;
  /** Completion work, run before progress edits. */
  finals: (() => Promise<void>)[];
  /** The running loop, if any. */
  loop?: Promise<void>;
}

/** Updates chats about their jobs; see the module documentation. */
export class ChatUpdater implements JobObserver {
  readonly #deps: ChatUpdaterDeps;
  readonly #now: () => number;
  readonly #sleep: Sleep;
  readonly #privateInterval: number;
  readonly #groupInterval: number;
  readonly #chats = new Map<number, ChatState>();
  readonly #finished = new Set<string>();
  readonly #edits: ProgressEdits<ChatState>;
  /** Status message ids learned from `attached`, for updates that came without one. */
  readonly #messageIds = new Map<string, number>();
  readonly #abort = new AbortController();
  readonly #final: FinalMessages;

  constructor(deps: ChatUpdaterDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#final = new FinalMessages({ ...deps, now: this.#now });
    this.#sleep = deps.sleep ?? realSleep;
    this.#privateInterval = deps.minEditIntervalMs ?? 1000;
    this.#groupInterval = deps.groupMinEditIntervalMs ?? Math.max(3000, this.#privateInterval);
    this.#edits = new ProgressEdits({
      api: deps.api,
      now: this.#now,
      logger: deps.logger,
      positionOf: deps.positionOf,
      finished: this.#finished,
      call: (chat, call) => this.#call(chat, call),
    });
  }

  /**
   * Records the job's latest state (and, for a queued job, its place when the caller knows it,
   * so the edit needs no look at the queue); an edit follows within the chat's interval. Never
   * throws.
   */
  onUpdate(job: Job, position?: number): void {
    try {
      if (this.#abort.signal.aborted) return;
      if (job.state !== "queued" && job.state !== "running") return;
      this.#edits.positionIs(job.id, position);
      const withMessage = this.#withMessageId(job);
      if (withMessage.statusMessageId === undefined) return;
      if (this.#finished.has(job.id) || this.#edits.unreachable(job.id)) return;
      const chat = this.#chat(job.chatId);
      chat.pending.set(job.id, withMessage);
      this.#kick(chat);
    } catch (error) {
      this.#deps.logger.error("progress update failed", {
        job_id: job.id,
        error: describeFailure(error),
      });
    }
  }

  /**
   * The bot stored the job's status message. Shows the job's state there: the running state at
   * the next edit, or the final state at once when the job finished before the id was known.
   */
  attached(job: Job): void {
    const messageId = job.statusMessageId;
    if (messageId === undefined || this.#abort.signal.aborted) return;
    remember(this.#messageIds, job.id, messageId);
    if (!isFinal(job.state)) {
      // A new message (sent without buttons) always gets its first edit.
      this.#edits.newMessage(job.id);
      this.onUpdate(job);
      return;
    }
    const chat = this.#chat(job.chatId);
    chat.finals.push(async () => {
      await this.#final.editFinalStatus(chat.line, job, messageId);
    });
    this.#kick(chat);
  }

  /**
   * An older message of the job no longer is its status message (a newer one replaced it, or a
   * copy whose button was pressed): it loses its buttons and points at the newer one.
   */
  replaced(job: Job, messageId: number): void {
    if (this.#abort.signal.aborted || messageId === job.statusMessageId) return;
    const chat = this.#chat(job.chatId);
    chat.finals.push(() => this.#final.editReplaced(chat.line, job, messageId));
    this.#kick(chat);
  }

  /**
   * Shows the final state: edits the status message, sends the summary (and the audio of a
   * small single track), each recorded in the outbox once sent. Resolves when done, or when
   * {@linkcode close} gives up waiting for a flood wait (the rest stays in the outbox). Never
   * rejects.
   */
  async onFinished(finished: Job): Promise<void> {
    remember(this.#finished, finished.id);
    this.#edits.positionIs(finished.id, undefined);
    if (this.#abort.signal.aborted) {
      this.#deps.logger.warn("job finished after the chat updater closed", { job_id: finished.id });
      return;
    }
    const job = this.#withMessageId(finished);
    const chat = this.#chat(job.chatId);
    chat.pending.delete(job.id);
    const record = await openDelivery(this.#deps.outbox, job.id, this.#deps.logger);
    if (record === null) return;
    await new Promise<void>((resolve) => {
      chat.finals.push(async () => {
        try {
          const outcome = await this.#final.deliver(chat.line, job, record);
          await closeDelivery(this.#deps.outbox, job.id, outcome);
        } catch (error) {
          this.#deps.logger.error("sending the job summary failed", {
            job_id: job.id,
            chat_id: job.chatId,
            error: describeFailure(error),
          });
        } finally {
          this.#edits.forget(job.id);
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

  #withMessageId(job: Job): Job {
    if (job.statusMessageId !== undefined) return job;
    const known = this.#messageIds.get(job.id);
    return known === undefined ? job : { ...job, statusMessageId: known };
  }

  #chat(chatId: number): ChatState {
    let chat = this.#chats.get(chatId);
    if (!chat) {
      const interval = chatId < 0 ? this.#groupInterval : this.#privateInterval;
      const gate = new ChatGate(chatId, interval, this.#now);
      const state: ChatState = {
        gate,
        pending: new Map(),
        finals: [],
        line: {
          chatId,
          waitTurn: () => this.#waitGate(state),
          call: (call) => this.#call(state, call),
          unreachable: (jobId) => this.#edits.unreachable(jobId),
        },
      };
      chat = state;
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
          chat_id: chat.gate.chatId,
          error: describeFailure(error),
        });
      })
      .finally(() => {
        chat.loop = undefined;
        if (this.#abort.signal.aborted) return;
        if (chat.finals.length > 0 || chat.pending.size > 0) this.#kick(chat);
        else if (chat.gate.waitMs() === 0) this.#chats.delete(chat.gate.chatId);
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
      await this.#edits.edit(chat, job);
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
      const wait = chat.gate.waitMs();
      if (wait <= 0) return true;
      await this.#sleep(wait, this.#abort.signal);
    }
    return false;
  }

  /** One API call to the chat, after its gate. */
  #call<T>(chat: ChatState, call: () => Promise<T>): Promise<T> {
    return chat.gate.call(call, (retryAfterS) => {
      this.#deps.logger.warn("telegram flood wait; backing off this chat", {
        chat_id: chat.gate.chatId,
        retry_after_s: retryAfterS,
        interval_ms: chat.gate.intervalMs,
      });
    });
  }
}
