/**
 * The progress edits of status messages (the chat updater's part that shows a running or queued
 * job): the text is rendered again when the edit is let go, so it shows the latest state and the
 * time of sending; an unchanged text is never sent again; a message that can no longer be edited
 * is left alone.
 *
 * @module
 */
import type { Job } from "../jobs/model.ts";
import type { Log } from "../log/logger.ts";
import type { ChatApi } from "./chat_api.ts";
import { remember } from "./memory.ts";
import { type ChatGate, classify, describeFailure } from "./pacing.ts";
import { withPriority } from "./priority.ts";
import { renderStatus } from "./status.ts";

/** The chat an edit goes to: its gate and its not-yet-shown states (see the chat updater). */
export interface EditLine {
  readonly gate: Pick<ChatGate, "chatId">;
  /** Latest not-yet-shown state per job id. */
  readonly pending: Map<string, Job>;
}

/** What {@linkcode ProgressEdits} needs; `L` is the chat updater's own chat state. */
export interface ProgressEditsDeps<L extends EditLine> {
  api: ChatApi;
  now: () => number;
  logger: Log;
  /** 1-based queue position of a queued job, when not handed in with its update. */
  positionOf?: (jobId: string) => Promise<number | undefined>;
  /** Jobs whose final state is being shown: no progress edit for them any more. */
  finished: ReadonlySet<string>;
  /** Makes one call to the chat after its gate (and notes a flood wait). */
  call<T>(chat: L, call: () => Promise<T>): Promise<T>;
}

/** Edits status messages to show progress; see the module documentation. */
export class ProgressEdits<L extends EditLine> {
  readonly #deps: ProgressEditsDeps<L>;
  /** Last text shown in each job's status message, without the elapsed time. */
  readonly #lastText = new Map<string, string>();
  /** Jobs whose status message can no longer be edited (deleted, bot blocked). */
  readonly #unreachable = new Set<string>();
  /** Queue places handed in with the latest update of a queued job. */
  readonly #positions = new Map<string, number>();

  constructor(deps: ProgressEditsDeps<L>) {
    this.#deps = deps;
  }

  /** The job's place in the queue as its update told it; undefined: look it up when editing. */
  positionIs(jobId: string, position: number | undefined): void {
    if (position !== undefined) remember(this.#positions, jobId, position);
    else this.#positions.delete(jobId);
  }

  /** Whether the job's status message can no longer be edited. */
  unreachable(jobId: string): boolean {
    return this.#unreachable.has(jobId);
  }

  /** The job's status message is new: its next edit goes out whatever it showed before. */
  newMessage(jobId: string): void {
    this.#lastText.delete(jobId);
  }

  /** Forgets the job (it is finished and told). */
  forget(jobId: string): void {
    this.#lastText.delete(jobId);
    this.#unreachable.delete(jobId);
    this.#positions.delete(jobId);
  }

  async #position(job: Job): Promise<number | undefined> {
    if (job.state !== "queued") return undefined;
    const known = this.#positions.get(job.id);
    if (known !== undefined) return known;
    if (!this.#deps.positionOf) return undefined;
    try {
      return await this.#deps.positionOf(job.id);
    } catch (error) {
      this.#deps.logger.debug("queue position unavailable", {
        job_id: job.id,
        error: describeFailure(error),
      });
      return undefined;
    }
  }

  async edit(chat: L, job: Job): Promise<void> {
    const messageId = job.statusMessageId;
    if (messageId === undefined || this.#deps.finished.has(job.id)) return;
    const position = await this.#position(job);
    const now = this.#deps.now();
    const status = renderStatus(job, { position, now });
    // Compared without the elapsed time: an edit only for the clock moving is not worth it.
    const content = renderStatus(job, { position, now, elapsed: false }).text;
    if (this.#lastText.get(job.id) === content) return;
    // Rendered again when the throttle lets the edit go: a state that came meanwhile replaces
    // this one, and the elapsed time is the time of sending; a job that finished meanwhile gets
    // its final edit instead.
    let shown = job;
    let sent = content;
    const refresh = (payload: Record<string, unknown>) => {
      const newer = chat.pending.get(job.id);
      if (newer !== undefined) {
        chat.pending.delete(job.id);
        shown = newer;
      }
      if (this.#deps.finished.has(job.id)) return null;
      const at = this.#deps.now();
      const fresh = renderStatus(shown, { position, now: at });
      sent = renderStatus(shown, { position, now: at, elapsed: false }).text;
      return { ...payload, text: fresh.text, reply_markup: fresh.replyMarkup };
    };
    try {
      await this.#deps.call(
        chat,
        () =>
          withPriority(
            "progress",
            () =>
              this.#deps.api.editMessageText(chat.gate.chatId, messageId, status.text, {
                reply_markup: status.replyMarkup,
              }),
            refresh,
          ),
      );
      this.#lastText.set(job.id, sent);
    } catch (error) {
      this.#failed(chat, shown, sent, error);
    }
  }

  #failed(chat: EditLine, job: Job, content: string, error: unknown): void {
    const failure = classify(error);
    const props = { job_id: job.id, chat_id: chat.gate.chatId, error: describeFailure(error) };
    switch (failure) {
      case "not_modified":
        this.#lastText.set(job.id, content);
        return;
      case "flood":
      case "transient":
        // Show this state later unless a newer one arrived or the job finished meanwhile.
        if (!chat.pending.has(job.id) && !this.#deps.finished.has(job.id)) {
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
