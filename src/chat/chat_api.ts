/**
 * The part of the Bot API the chat layer calls; grammY's `bot.api` satisfies it. Parse mode and
 * link previews are set once for every text by the API's defaults (`src/bot/api.ts`).
 *
 * @module
 */
import type { InputMediaAudio } from "grammy/types";
import type { InputFile } from "grammy";
import type { InlineKeyboard } from "./keyboards.ts";

/** Options shared by sending and editing text messages. */
export interface ChatApiTextOptions {
  parse_mode?: "HTML";
  reply_markup?: InlineKeyboard;
  link_preview_options?: { is_disabled: boolean };
}

/** Where a reply points. */
export interface ReplyTo {
  message_id: number;
  allow_sending_without_reply?: boolean;
}

/** Options of {@linkcode ChatApi.sendMessage}. */
export interface ChatApiSendOptions extends ChatApiTextOptions {
  reply_parameters?: ReplyTo;
}

/** Options of {@linkcode ChatApi.sendAudio}. */
export interface ChatApiAudioOptions {
  caption?: string;
  title?: string;
  performer?: string;
  duration?: number;
  /** A JPEG of at most 320×320 pixels under 200 kB, uploaded with the audio. */
  thumbnail?: InputFile;
  reply_parameters?: ReplyTo;
}

/** The Bot API calls the chat layer makes. */
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
  /** Uploads an audio file, or sends one uploaded before by its file id. */
  sendAudio(
    chatId: number,
    audio: InputFile | string,
    other?: ChatApiAudioOptions,
  ): Promise<unknown>;
  /** Uploads 2–10 audio files as one album message. */
  sendMediaGroup(chatId: number, media: InputMediaAudio[]): Promise<unknown>;
}

/** The file id of the audio in a sent message (what `sendAudio` returns), if it has one. */
export function audioFileId(message: unknown): string | undefined {
  if (typeof message !== "object" || message === null || !("audio" in message)) return undefined;
  const audio = (message as { audio?: { file_id?: unknown } }).audio;
  return typeof audio?.file_id === "string" ? audio.file_id : undefined;
}
