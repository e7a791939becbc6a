/**
 * What a finished job sends, in order: the status message edited to its final state, the summary
 * (replying to it), and for a small single track its audio. Each call is retried on flood waits
 * and transient errors; the chat's pacing comes from the caller's {@linkcode ChatLine}. Each
 * message is recorded once sent ({@linkcode DeliveryRecord}), so a delivery that starts again
 * (after a restart) sends only what is left.
 *
 * @module
 */
import { InputFile, InputMediaBuilder } from "grammy";
import type { InputMediaAudio } from "grammy/types";
import type { Job, JobFile } from "../jobs/model.ts";
import type { DeliveryLog, UploadedFiles } from "../jobs/service.ts";
import type { Log } from "../log/logger.ts";
import { audioAlbums, audioMessageOptions, baseName, trackTags, uploadableTrack } from "./audio.ts";
import { audioFileId, type ChatApi } from "./chat_api.ts";
import { summaryKeyboard } from "./keyboards.ts";
import { classify, describeFailure } from "./pacing.ts";
import { renderReplaced, renderStatus } from "./status.ts";
import { type FileLink, renderSummaryMessages } from "./summary.ts";

/** Attempts for each completion message (status edit, summary, audio). */
const FINAL_ATTEMPTS = 3;

/** One chat's paced line to Telegram, as the chat updater keeps it. */
export interface ChatLine {
  readonly chatId: number;
  /** Waits for the chat's next turn; false when shutting down. */
  waitTurn(): Promise<boolean>;
  /** Makes one call in the chat's turn. */
  call<T>(call: () => Promise<T>): Promise<T>;
  /** Whether the job's status message can no longer be edited. */
  unreachable(jobId: string): boolean;
}

/** The messages of one delivery already sent, and how to record another. */
export interface DeliveryRecord {
  readonly sent: ReadonlySet<string>;
  /** Records a message as sent (or refused for good). */
  mark(step: string): Promise<void>;
}

/** How a delivery ended: everything sent, or stopped with something left for later. */
export type DeliveryOutcome = "delivered" | "postponed";

/**
 * How one completion call ended: "dropped" is final without a message (nothing to send, or
 * Telegram refused it for good); "stopped" and "unsent" leave it for a later attempt.
 */
type CallOutcome = "sent" | "dropped" | "stopped" | "unsent";

/** A record that remembers nothing (a delivery nobody resumes). */
export function unrecordedDelivery(): DeliveryRecord {
  const sent = new Set<string>();
  return {
    sent,
    mark: (step) => {
      sent.add(step);
      return Promise.resolve();
    },
  };
}

/** What {@linkcode FinalMessages} needs. */
export interface FinalMessagesDeps {
  api: ChatApi;
  now: () => number;
  /** Download links for a succeeded job's files. */
  fileLinks: (job: Job) => Promise<FileLink[]>;
  /** Largest file sent as audio. */
  uploadLimitBytes: number;
  /** Absolute path of one of a job's files. */
  openFile: (job: Job, fileName: string) => Promise<string>;
  /** A JPEG of the cover embedded in one of a job's files, if it has one. */
  thumbnailOf?: (job: Job, fileName: string) => Promise<string | undefined>;
  logger: Log;
  /** File ids of files uploaded before: those go again by id, not uploaded again. */
  uploads?: UploadedFiles;
}

/** Sends what a finished job owes its chat. */
export class FinalMessages {
  readonly #deps: FinalMessagesDeps;

  constructor(deps: FinalMessagesDeps) {
    this.#deps = deps;
  }

  /** Edits the status message to the job's final state (no buttons). */
  async editFinalStatus(line: ChatLine, job: Job, messageId: number): Promise<CallOutcome> {
    if (line.unreachable(job.id)) return "dropped";
    const text = renderStatus(job, { now: this.#deps.now() }).text;
    return await this.#finalCall(
      line,
      "final status edit",
      job,
      () => this.#deps.api.editMessageText(line.chatId, messageId, text),
    );
  }

  /** Edits an older message of the job to point at the newer one (or to its final state). */
  async editReplaced(line: ChatLine, job: Job, messageId: number): Promise<void> {
    const text = renderReplaced(job, this.#deps.now());
    await this.#finalCall(
      line,
      "replaced status edit",
      job,
      () => this.#deps.api.editMessageText(line.chatId, messageId, text),
    );
  }

  /**
   * The final status, the summary and the audio of a small single track, each unless `record`
   * has it as sent already. Stops at the first message that could not be sent for now.
   */
  async deliver(
    line: ChatLine,
    job: Job,
    record: DeliveryRecord = unrecordedDelivery(),
  ): Promise<DeliveryOutcome> {
    const messageId = job.statusMessageId;
    const links = job.state === "succeeded" ? await this.#links(job) : [];
    const [summary = "", ...followUps] = renderSummaryMessages(job, {
      links,
      now: this.#deps.now(),
    });
    const steps: [string, () => Promise<CallOutcome>][] = [
      [
        "status",
        () =>
          messageId === undefined
            ? Promise.resolve("dropped")
            : this.editFinalStatus(line, job, messageId),
      ],
      ["summary", () => this.#sendSummary(line, job, summary)],
      ...followUps.map((text, i): [string, () => Promise<CallOutcome>] => [
        `links:${i + 1}`,
        () =>
          this.#finalCall(
            line,
            "more download links",
            job,
            () => this.#deps.api.sendMessage(line.chatId, text),
          ),
      ]),
      ["audio", () => this.#maybeSendAudio(line, job)],
      ...audioAlbums(job, this.#deps.uploadLimitBytes).map((
        album,
        i,
      ): [string, () => Promise<CallOutcome>] => [
        `album:${i + 1}`,
        () => this.#sendAlbum(line, job, album),
      ]),
    ];
    for (const [step, send] of steps) {
      if (record.sent.has(step)) continue;
      const outcome = await send();
      if (outcome === "stopped" || outcome === "unsent") return "postponed";
      await record.mark(step);
    }
    return "delivered";
  }

  async #sendSummary(line: ChatLine, job: Job, summary: string): Promise<CallOutcome> {
    const messageId = job.statusMessageId;
    const outcome = await this.#finalCall(
      line,
      "summary",
      job,
      () =>
        this.#deps.api.sendMessage(line.chatId, summary, {
          reply_markup: summaryKeyboard(job),
          reply_parameters: messageId !== undefined
            ? { message_id: messageId, allow_sending_without_reply: true }
            : undefined,
        }),
    );
    if (outcome === "sent") {
      this.#deps.logger.debug("job summary sent", { job_id: job.id, chat_id: line.chatId });
    }
    return outcome;
  }

  /** Runs a completion call with retries on flood waits and transient errors. */
  async #finalCall(
    line: ChatLine,
    what: string,
    job: Job,
    call: () => Promise<unknown>,
  ): Promise<CallOutcome> {
    for (let attempt = 1; attempt <= FINAL_ATTEMPTS; attempt++) {
      if (!(await line.waitTurn())) {
        this.#deps.logger.warn(`${what} postponed: shutting down`, { job_id: job.id });
        return "stopped";
      }
      try {
        await line.call(call);
        return "sent";
      } catch (error) {
        const failure = classify(error);
        if (failure === "not_modified") return "sent";
        const props = {
          job_id: job.id,
          chat_id: line.chatId,
          attempt,
          error: describeFailure(error),
        };
        const passing = failure === "flood" || failure === "transient";
        if (passing && attempt < FINAL_ATTEMPTS) {
          this.#deps.logger.info(`${what} failed; retrying`, props);
          continue;
        }
        if (passing) {
          this.#deps.logger.warn(`${what} failed; it is sent again later`, props);
          return "unsent";
        }
        this.#deps.logger.warn(`${what} failed`, props);
        return "dropped";
      }
    }
    return "unsent";
  }

  async #links(job: Job): Promise<FileLink[]> {
    try {
      return await this.#deps.fileLinks(job);
    } catch (error) {
      this.#deps.logger.warn("download links unavailable", {
        job_id: job.id,
        error: describeFailure(error),
      });
      return [];
    }
  }

  /** One album of a list's tracks (a single track alone as one audio message). */
  async #sendAlbum(line: ChatLine, job: Job, album: JobFile[]): Promise<CallOutcome> {
    const tracks: {
      source: JobFile;
      file: InputFile | string;
      tags: ReturnType<typeof trackTags> & { thumbnail?: InputFile };
    }[] = [];
    for (const file of album) {
      const audio = await this.#audioOf(job, file);
      if (audio === undefined) continue;
      const thumbnail = await this.#thumbnail(job, file, audio);
      tracks.push({ source: file, file: audio, tags: { ...trackTags(file), ...thumbnail } });
    }
    const [only] = tracks;
    if (only === undefined) return "dropped";
    const media: InputMediaAudio[] = tracks.map((t) => InputMediaBuilder.audio(t.file, t.tags));
    let sent: unknown;
    const outcome = await this.#finalCall(line, "audio album", job, async () => {
      sent = tracks.length === 1
        ? [await this.#deps.api.sendAudio(line.chatId, only.file, only.tags)]
        : await this.#deps.api.sendMediaGroup(line.chatId, media);
      return sent;
    });
    if (outcome === "sent" && Array.isArray(sent)) {
      for (const [i, message] of sent.entries()) {
        const track = tracks[i];
        if (track !== undefined) await this.#remember(job, track.source, track.file, message);
      }
    }
    return outcome;
  }

  async #maybeSendAudio(line: ChatLine, job: Job): Promise<CallOutcome> {
    const file = uploadableTrack(job, this.#deps.uploadLimitBytes);
    if (file === undefined) return "dropped";
    const audio = await this.#audioOf(job, file);
    if (audio === undefined) return "dropped";
    const options = {
      ...audioMessageOptions(job, file),
      ...await this.#thumbnail(job, file, audio),
    };
    let sent: unknown;
    const outcome = await this.#finalCall(line, "audio upload", job, async () => {
      sent = await this.#deps.api.sendAudio(line.chatId, audio, options);
      return sent;
    });
    if (outcome === "sent") await this.#remember(job, file, audio, sent);
    return outcome;
  }

  /** The file id of a file uploaded before, or the file to upload; undefined when it is gone. */
  async #audioOf(job: Job, file: JobFile): Promise<InputFile | string | undefined> {
    const known = await this.#deps.uploads?.get(job.id, file).catch(() => undefined);
    if (known !== undefined) return known;
    try {
      return new InputFile(await this.#deps.openFile(job, file.name), baseName(file.name));
    } catch (error) {
      this.#deps.logger.warn("audio file unavailable", {
        job_id: job.id,
        error: describeFailure(error),
      });
      return undefined;
    }
  }

  /**
   * The thumbnail of an upload (a file id re-send keeps the one Telegram has): the cover
   * embedded in the file, when it has one.
   */
  async #thumbnail(
    job: Job,
    file: JobFile,
    audio: InputFile | string,
  ): Promise<{ thumbnail?: InputFile }> {
    if (typeof audio === "string" || this.#deps.thumbnailOf === undefined) return {};
    const path = await this.#deps.thumbnailOf(job, file.name).catch(() => undefined);
    return path === undefined ? {} : { thumbnail: new InputFile(path, "cover.jpg") };
  }

  /** Keeps the file id Telegram gave an uploaded file. */
  async #remember(job: Job, file: JobFile, sent: InputFile | string, message: unknown) {
    const fileId = typeof sent === "string" ? undefined : audioFileId(message);
    if (fileId !== undefined) await this.#deps.uploads?.set(job.id, file, fileId).catch(() => {});
  }
}

/**
 * The outbox's record of a job's delivery, claimed for this instance; null when nothing is
 * owed or another instance has it. Without an outbox, a delivery nobody resumes.
 */
export async function openDelivery(
  outbox: DeliveryLog | undefined,
  jobId: string,
  logger: Log,
): Promise<DeliveryRecord | null> {
  if (outbox === undefined) return unrecordedDelivery();
  const sent = await outbox.begin(jobId);
  if (sent === null) {
    logger.debug("job messages already sent", { job_id: jobId });
    return null;
  }
  return { sent, mark: (step) => outbox.sent(jobId, step) };
}

/** Ends a delivery in the outbox: done, or left for a later attempt. */
export async function closeDelivery(
  outbox: DeliveryLog | undefined,
  jobId: string,
  outcome: DeliveryOutcome,
): Promise<void> {
  if (outbox === undefined) return;
  if (outcome === "delivered") await outbox.delivered(jobId);
  else await outbox.postpone(jobId);
}
