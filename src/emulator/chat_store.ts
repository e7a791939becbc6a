/**
 * The emulator's chats and messages: ids increase per chat, edits and deletions are applied in
 * place, and every message can be shown as a Bot API `Message` or as a transcript entry.
 *
 * @module
 */
import type {
  ChatMessage,
  SentFileInfo,
  TgAudio,
  TgChat,
  TgDocument,
  TgInlineKeyboardMarkup,
  TgMessage,
  TgMessageEntity,
  TgUser,
} from "./emulator_types.ts";

/** A message as the store keeps it. */
export interface StoredMessage {
  /** The chat. */
  chatId: number;
  /** Id within the chat. */
  messageId: number;
  /** Who wrote it. */
  from: "user" | "bot";
  /** The sending user. */
  sender: TgUser;
  /** Unix seconds. */
  date: number;
  /** Unix seconds of the last edit. */
  editDate?: number;
  /** Plain text. */
  text?: string;
  /** Text as sent, with markup. */
  rawText?: string;
  /** parse_mode used. */
  parseMode?: string;
  /** Entities of text or caption. */
  entities?: TgMessageEntity[];
  /** Plain caption. */
  caption?: string;
  /** Inline keyboard. */
  replyMarkup?: TgInlineKeyboardMarkup;
  /** Number of edits. */
  editCount: number;
  /** Replied-to message id. */
  replyToMessageId?: number;
  /** Audio attachment: transcript view and wire object. */
  audio?: { info: SentFileInfo; wire: TgAudio };
  /** Document attachment: transcript view and wire object. */
  document?: { info: SentFileInfo; wire: TgDocument };
}

/** One chat. */
export interface ChatRecord {
  /** The chat as the Bot API shows it. */
  chat: TgChat;
  /** Next message id. */
  nextMessageId: number;
  /** Live messages by id, in sending order. */
  messages: Map<number, StoredMessage>;
  /** Whether the user blocked the bot (private chats). */
  blocked: boolean;
}

/** All chats the emulator knows. */
export class ChatStore {
  readonly #chats = new Map<number, ChatRecord>();

  /** The chat with this id, created on first use. */
  ensure(chat: TgChat): ChatRecord {
    let record = this.#chats.get(chat.id);
    if (record === undefined) {
      record = { chat, nextMessageId: 1, messages: new Map(), blocked: false };
      this.#chats.set(chat.id, record);
    }
    return record;
  }

  /** The chat with this id, if it exists. */
  get(chatId: number): ChatRecord | undefined {
    return this.#chats.get(chatId);
  }

  /** Ids of all chats. */
  chatIds(): number[] {
    return [...this.#chats.keys()];
  }

  /** Adds a message to an existing chat, assigning the next id. */
  add(record: ChatRecord, message: Omit<StoredMessage, "messageId" | "chatId">): StoredMessage {
    const stored: StoredMessage = {
      ...message,
      chatId: record.chat.id,
      messageId: record.nextMessageId++,
    };
    record.messages.set(stored.messageId, stored);
    return stored;
  }

  /** A live message, if it exists and was not deleted. */
  find(chatId: number, messageId: number): StoredMessage | undefined {
    return this.#chats.get(chatId)?.messages.get(messageId);
  }

  /** Deletes a message; returns false when there was none. */
  delete(chatId: number, messageId: number): boolean {
    return this.#chats.get(chatId)?.messages.delete(messageId) ?? false;
  }

  /** Live messages of a chat in order. */
  messages(chatId: number): StoredMessage[] {
    return [...(this.#chats.get(chatId)?.messages.values() ?? [])];
  }

  /** The message as a Bot API `Message` object (with a one-level `reply_to_message`). */
  toWire(message: StoredMessage, withReply = true): TgMessage {
    const chat = this.#chats.get(message.chatId)?.chat ?? { id: message.chatId, type: "private" };
    const wire: TgMessage = {
      message_id: message.messageId,
      from: structuredClone(message.sender),
      chat: structuredClone(chat),
      date: message.date,
    };
    if (message.editDate !== undefined) wire.edit_date = message.editDate;
    const entities = message.entities?.length ? structuredClone(message.entities) : undefined;
    if (message.text !== undefined) {
      wire.text = message.text;
      if (entities) wire.entities = entities;
    }
    if (message.audio) wire.audio = structuredClone(message.audio.wire);
    if (message.document) wire.document = structuredClone(message.document.wire);
    if (message.caption !== undefined) {
      wire.caption = message.caption;
      if (entities) wire.caption_entities = entities;
    }
    if (message.replyMarkup) wire.reply_markup = structuredClone(message.replyMarkup);
    if (withReply && message.replyToMessageId !== undefined) {
      const replied = this.find(message.chatId, message.replyToMessageId);
      if (replied) wire.reply_to_message = this.toWire(replied, false);
    }
    return wire;
  }

  /** The message as a transcript entry (a copy: callers cannot change the store). */
  toChatMessage(message: StoredMessage): ChatMessage {
    const entry: ChatMessage = {
      chatId: message.chatId,
      messageId: message.messageId,
      from: message.from,
      senderId: message.sender.id,
      date: message.date,
      editCount: message.editCount,
    };
    if (message.text !== undefined) entry.text = message.text;
    if (message.rawText !== undefined) entry.rawText = message.rawText;
    if (message.parseMode !== undefined) entry.parseMode = message.parseMode;
    if (message.entities?.length) entry.entities = structuredClone(message.entities);
    if (message.caption !== undefined) entry.caption = message.caption;
    if (message.replyMarkup) entry.replyMarkup = structuredClone(message.replyMarkup);
    if (message.replyToMessageId !== undefined) entry.replyToMessageId = message.replyToMessageId;
    if (message.audio) entry.audio = { ...message.audio.info };
    if (message.document) entry.document = { ...message.document.info };
    return entry;
  }
}
