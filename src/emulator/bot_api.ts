/**
 * The simulated Telegram behind the emulator's HTTP front: chats, pending updates, files, the
 * command menu and webhook, and the Bot API methods acting on them, with Telegram's validation
 * and error texts. Simulated people act through {@linkcode SimulatedTelegram.userSendsText} and
 * {@linkcode SimulatedTelegram.userPressesButton}.
 *
 * @module
 */
import { badRequest, BotApiError, tooManyRequests } from "./api_error.ts";
import { type ChatRecord, ChatStore, type StoredMessage } from "./chat_store.ts";
import type {
  CallbackAnswer,
  EmulatorEvent,
  FloodLimit,
  RecordedFile,
  SentFileInfo,
  SimulatedUser,
  TgAudio,
  TgBotCommand,
  TgBotUser,
  TgChat,
  TgChatType,
  TgDocument,
  TgInlineKeyboardButton,
  TgInlineKeyboardMarkup,
  TgMessageEntity,
  TgUpdate,
  TgUser,
} from "./emulator_types.ts";
import { FloodTracker } from "./flood.ts";
import { detectEntities, EntityParseError, formatText } from "./formatting.ts";
import { type MethodWithParams, type ParamsOf, parseParams } from "./params.ts";
import { UpdateQueue } from "./update_queue.ts";
import { WebhookDelivery, type WebhookReplyHandler } from "./webhook.ts";

const MAX_TEXT_LENGTH = 4096;
const MAX_CAPTION_LENGTH = 1024;
const NOT_MODIFIED = "message is not modified: specified new message content and reply markup " +
  "are exactly the same as a current content and reply markup of the message";
const CHAT_ACTIONS = new Set([
  "typing",
  "upload_photo",
  "record_video",
  "upload_video",
  "record_voice",
  "upload_voice",
  "upload_document",
  "choose_sticker",
  "find_location",
  "record_video_note",
  "upload_video_note",
]);
const MIME_TYPES: Record<string, string> = {
  mp3: "audio/mpeg",
  m4a: "audio/mp4",
  flac: "audio/flac",
  ogg: "audio/ogg",
  opus: "audio/ogg",
  wav: "audio/wav",
  zip: "application/zip",
  txt: "text/plain",
  json: "application/json",
};

/** A Bot API method: takes the raw parameters, returns the result or throws a BotApiError. */
export type MethodHandler = (params: Record<string, unknown>) => unknown;

interface CallbackQueryState {
  chatId: number;
  messageId: number;
  answered: boolean;
}

/** Options of {@linkcode SimulatedTelegram.userSendsText}. */
export interface SendTextOptions {
  /** Chat to write in (default: the private chat with the user, id = user id). */
  chatId?: number;
  /** Chat type (default "private", or "group" for a negative chatId). */
  chatType?: TgChatType;
  /** Group title (default "Group <id>"). */
  chatTitle?: string;
  /** The message this one replies to. */
  replyToMessageId?: number;
}

/** What the simulated Telegram needs from its host. */
export interface SimulatedTelegramDeps {
  /** The bot user. */
  botUser: TgBotUser;
  /** Clock in ms. */
  now: () => number;
  /** Flood limit simulation, if on. */
  floodLimit: FloodLimit | undefined;
  /** Receives every state change. */
  emit: (event: EmulatorEvent) => void;
  /** Called when a getUpdates call starts waiting. */
  onPollWait: () => void;
  /** Executes a webhook reply like an API call. */
  onWebhookReply: WebhookReplyHandler;
}

/** Chats, updates and the Bot API methods of the emulator. */
export class SimulatedTelegram {
  /** Chats and messages. */
  readonly chats: ChatStore = new ChatStore();
  /** Pending updates. */
  readonly updates: UpdateQueue = new UpdateQueue();
  /** Flood accounting. */
  readonly flood: FloodTracker;
  readonly #botUser: TgBotUser;
  readonly #now: () => number;
  readonly #emit: (event: EmulatorEvent) => void;
  readonly #webhook: WebhookDelivery;
  readonly #callbackQueries = new Map<string, CallbackQueryState>();
  readonly #callbackAnswers: CallbackAnswer[] = [];
  readonly #files = new Map<string, SentFileInfo>();
  readonly #commands = new Map<string, TgBotCommand[]>();
  readonly #methods: Map<string, MethodHandler>;
  readonly #methodNames: Map<string, string>;
  #nextFileNumber = 1;
  #nextCallbackId = 1;

  constructor(deps: SimulatedTelegramDeps) {
    this.#botUser = deps.botUser;
    this.#now = deps.now;
    this.#emit = deps.emit;
    this.flood = new FloodTracker(deps.floodLimit);
    this.#webhook = new WebhookDelivery(this.updates, deps.onWebhookReply);
    this.updates.onPush = () => this.#webhook.kick();
    this.updates.onWait = deps.onPollWait;
    this.#methods = this.#methodTable();
    this.#methodNames = new Map(
      [...this.#methods.keys()].map((name) => [name.toLowerCase(), name]),
    );
  }

  /** The implementation of a method (by canonical name), if the emulator has one. */
  method(name: string): MethodHandler | undefined {
    return this.#methods.get(name);
  }

  /** The bot's answers to button presses (copies), optionally for one chat. */
  callbackAnswers(chatId?: number): CallbackAnswer[] {
    return this.#callbackAnswers
      .filter((a) => chatId === undefined || a.chatId === chatId)
      .map((a) => ({ ...a }));
  }

  /** The command menu for the default scope and a language ("" = all languages). */
  botCommands(languageCode: string): TgBotCommand[] {
    return structuredClone(this.#commands.get(commandKey(undefined, languageCode)) ?? []);
  }

  /** Ends a waiting long poll and stops webhook delivery. */
  async close(): Promise<void> {
    this.updates.close();
    await this.#webhook.close();
  }

  /**
   * A person sends `text` to the bot (in their private chat, or in `options.chatId`). Bot
   * commands and links get entities like a real client sends. Returns the queued update.
   */
  userSendsText(from: SimulatedUser, text: string, options: SendTextOptions = {}): TgUpdate {
    const user = toUser(from);
    const chatId = options.chatId ?? from.id;
    const type = options.chatType ?? (chatId < 0 ? "group" : "private");
    if (type === "private" && chatId !== from.id) {
      throw new Error(`a private chat has the user's id (${from.id}), not ${chatId}`);
    }
    const chat: TgChat = type === "private"
      ? { id: chatId, type, first_name: user.first_name, ...pick(user, "username") }
      : { id: chatId, type, title: options.chatTitle ?? `Group ${chatId}` };
    const record = this.chats.ensure(chat);
    record.blocked = false;
    if (
      options.replyToMessageId !== undefined &&
      this.chats.find(chatId, options.replyToMessageId) === undefined
    ) {
      throw new Error(`chat ${chatId} has no message ${options.replyToMessageId} to reply to`);
    }
    const entities = detectEntities(text);
    const stored = this.chats.add(record, {
      from: "user",
      sender: user,
      date: this.#unixTime(),
      text,
      editCount: 0,
      ...(entities.length ? { entities } : {}),
      ...(options.replyToMessageId === undefined
        ? {}
        : { replyToMessageId: options.replyToMessageId }),
    });
    this.#emit({ type: "message", chatId, message: this.chats.toChatMessage(stored) });
    return this.updates.push({ message: this.chats.toWire(stored) });
  }

  /**
   * A person presses the inline button with callback data `data` under a bot message. Throws
   * when the message has no such button (a real person could not press it either).
   */
  userPressesButton(
    from: SimulatedUser,
    message: { chatId: number; messageId: number },
    data: string,
  ): TgUpdate {
    const stored = this.chats.find(message.chatId, message.messageId);
    if (stored === undefined) {
      throw new Error(`chat ${message.chatId} has no message ${message.messageId}`);
    }
    const buttons = stored.replyMarkup?.inline_keyboard.flat() ?? [];
    if (!buttons.some((b) => b.callback_data === data)) {
      const available = buttons.map((b) => `${JSON.stringify(b.text)}=${b.callback_data}`);
      throw new Error(
        `message ${message.messageId} in chat ${message.chatId} has no button with callback data ` +
          `${JSON.stringify(data)} (buttons: ${available.join(", ") || "none"})`,
      );
    }
    const id = String(1_000_000_000 + this.#nextCallbackId++);
    this.#callbackQueries.set(id, { ...message, answered: false });
    return this.updates.push({
      callback_query: {
        id,
        from: toUser(from),
        message: this.chats.toWire(stored),
        chat_instance: String(Math.abs(message.chatId) * 31 + 7),
        data,
      },
    });
  }

  /** Marks a private chat as blocked by its user (sends get 403) or unblocked. */
  setBlocked(userId: number, blocked: boolean): void {
    const record = this.chats.get(userId);
    if (record === undefined) throw new Error(`no chat with user ${userId}`);
    record.blocked = blocked;
  }

  #methodTable(): Map<string, MethodHandler> {
    const typed = <M extends MethodWithParams>(
      method: M,
      run: (params: ParamsOf<M>) => unknown,
    ): [string, MethodHandler] => [method, (params) => run(parseParams(method, params))];
    return new Map<string, MethodHandler>([
      ["getMe", () => structuredClone(this.#botUser)],
      typed("getUpdates", (p) => this.#getUpdates(p)),
      typed("sendMessage", (p) => this.#sendMessage(p)),
      typed("editMessageText", (p) => this.#editMessageText(p)),
      typed("editMessageCaption", (p) => this.#editMessageCaption(p)),
      typed("editMessageReplyMarkup", (p) => this.#editMessageReplyMarkup(p)),
      typed("deleteMessage", (p) => this.#deleteMessage(p)),
      typed("answerCallbackQuery", (p) => this.#answerCallbackQuery(p)),
      typed("sendChatAction", (p) => this.#sendChatAction(p)),
      typed("sendAudio", (p) =>
        this.#sendFile("audio", p.audio, p, {
          ...(p.title === undefined ? {} : { title: p.title }),
          ...(p.performer === undefined ? {} : { performer: p.performer }),
          ...(p.duration === undefined ? {} : { duration: p.duration }),
          thumbnail: p.thumbnail as RecordedFile | string | undefined,
        })),
      typed("sendDocument", (p) => this.#sendFile("document", p.document, p, {})),
      typed("sendMediaGroup", (p) => this.#sendMediaGroup(p)),
      typed("setMyCommands", (p) => this.#setMyCommands(p)),
      typed(
        "getMyCommands",
        (p) => structuredClone(this.#commands.get(commandKey(p.scope, p.language_code)) ?? []),
      ),
      typed("deleteMyCommands", (p) => {
        this.#commands.delete(commandKey(p.scope, p.language_code));
        return true;
      }),
      typed("setWebhook", (p) => this.#setWebhook(p)),
      typed("deleteWebhook", (p) => {
        if (p.drop_pending_updates) this.updates.dropAll();
        this.#webhook.setTarget(undefined);
        return true;
      }),
      ["getWebhookInfo", () => this.#webhookInfo()],
      ["close", () => true],
      ["logOut", () => true],
    ]);
  }

  #getUpdates(p: ParamsOf<"getUpdates">): Promise<TgUpdate[]> {
    if (this.#webhook.target) {
      throw new BotApiError(
        409,
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to " +
          "delete the webhook first",
      );
    }
    const limit = Math.min(100, Math.max(1, p.limit ?? 100));
    return this.updates.poll(p.offset, limit, Math.max(0, p.timeout ?? 0));
  }

  #sendMessage(p: ParamsOf<"sendMessage">) {
    const record = this.#chatFor(p.chat_id);
    const formatted = formatBody(p.text, p.parse_mode, "text");
    const replyMarkup = inlineKeyboard(p.reply_markup);
    const replyTo = this.#replyTo(record, p);
    this.#checkFlood(record.chat.id);
    const stored = this.chats.add(record, {
      from: "bot",
      sender: this.#botSender(),
      date: this.#unixTime(),
      text: formatted.text,
      editCount: 0,
      ...(p.parse_mode ? { rawText: p.text, parseMode: p.parse_mode } : {}),
      ...(formatted.entities.length ? { entities: formatted.entities } : {}),
      ...(replyMarkup ? { replyMarkup } : {}),
      ...(replyTo === undefined ? {} : { replyToMessageId: replyTo }),
    });
    this.#emit({
      type: "message",
      chatId: record.chat.id,
      message: this.chats.toChatMessage(stored),
    });
    return this.chats.toWire(stored);
  }

  #editMessageText(p: ParamsOf<"editMessageText">) {
    const message = this.#messageToEdit(p);
    if (message.text === undefined) throw badRequest("there is no text in the message to edit");
    const formatted = formatBody(p.text, p.parse_mode, "text");
    const replyMarkup = inlineKeyboard(p.reply_markup);
    if (
      formatted.text === message.text &&
      sameJson(formatted.entities, message.entities ?? []) &&
      sameJson(replyMarkup, message.replyMarkup)
    ) {
      throw badRequest(NOT_MODIFIED);
    }
    return this.#applyEdit(message, (m) => {
      m.text = formatted.text;
      setOptional(m, "rawText", p.parse_mode ? p.text : undefined);
      setOptional(m, "parseMode", p.parse_mode || undefined);
      setOptional(m, "entities", formatted.entities.length ? formatted.entities : undefined);
      setOptional(m, "replyMarkup", replyMarkup);
    });
  }

  #editMessageCaption(p: ParamsOf<"editMessageCaption">) {
    const message = this.#messageToEdit(p);
    if (message.audio === undefined && message.document === undefined) {
      throw badRequest("there is no caption in the message to edit");
    }
    const formatted = formatBody(p.caption ?? "", p.parse_mode, "caption");
    const replyMarkup = inlineKeyboard(p.reply_markup);
    if (
      formatted.text === (message.caption ?? "") &&
      sameJson(formatted.entities, message.entities ?? []) &&
      sameJson(replyMarkup, message.replyMarkup)
    ) {
      throw badRequest(NOT_MODIFIED);
    }
    return this.#applyEdit(message, (m) => {
      setOptional(m, "caption", formatted.text || undefined);
      setOptional(m, "rawText", p.parse_mode ? p.caption : undefined);
      setOptional(m, "parseMode", p.parse_mode || undefined);
      setOptional(m, "entities", formatted.entities.length ? formatted.entities : undefined);
      setOptional(m, "replyMarkup", replyMarkup);
    });
  }

  #editMessageReplyMarkup(p: ParamsOf<"editMessageReplyMarkup">) {
    const message = this.#messageToEdit(p);
    const replyMarkup = inlineKeyboard(p.reply_markup);
    if (sameJson(replyMarkup, message.replyMarkup)) throw badRequest(NOT_MODIFIED);
    return this.#applyEdit(message, (m) => setOptional(m, "replyMarkup", replyMarkup));
  }

  #messageToEdit(
    p: { chat_id?: number | string; message_id?: number; inline_message_id?: string },
  ): StoredMessage {
    if (p.inline_message_id !== undefined) throw badRequest("MESSAGE_ID_INVALID");
    if (p.chat_id === undefined) throw badRequest("chat_id is empty");
    if (p.message_id === undefined) throw badRequest("message identifier is not specified");
    const record = this.#chatFor(p.chat_id);
    const message = this.chats.find(record.chat.id, p.message_id);
    if (message === undefined) throw badRequest("message to edit not found");
    if (message.from !== "bot") throw badRequest("message can't be edited");
    return message;
  }

  #applyEdit(message: StoredMessage, change: (message: StoredMessage) => void) {
    this.#checkFlood(message.chatId);
    change(message);
    message.editCount++;
    message.editDate = this.#unixTime();
    this.#emit({
      type: "edit",
      chatId: message.chatId,
      message: this.chats.toChatMessage(message),
    });
    return this.chats.toWire(message);
  }

  #deleteMessage(p: ParamsOf<"deleteMessage">): true {
    const record = this.#chatFor(p.chat_id);
    if (!this.chats.delete(record.chat.id, p.message_id)) {
      throw badRequest("message to delete not found");
    }
    this.#emit({ type: "delete", chatId: record.chat.id, messageId: p.message_id });
    return true;
  }

  #answerCallbackQuery(p: ParamsOf<"answerCallbackQuery">): true {
    const query = this.#callbackQueries.get(p.callback_query_id);
    if (query === undefined || query.answered) {
      throw badRequest("query is too old and response timeout expired or query ID is invalid");
    }
    query.answered = true;
    const answer: CallbackAnswer = {
      callbackQueryId: p.callback_query_id,
      chatId: query.chatId,
      messageId: query.messageId,
      showAlert: p.show_alert ?? false,
      ...(p.text === undefined ? {} : { text: p.text }),
    };
    this.#callbackAnswers.push(answer);
    this.#emit({ type: "callback_answer", chatId: query.chatId, answer: { ...answer } });
    return true;
  }

  #sendChatAction(p: ParamsOf<"sendChatAction">): true {
    const record = this.#chatFor(p.chat_id);
    if (!CHAT_ACTIONS.has(p.action)) throw badRequest("wrong parameter action in request");
    this.#emit({ type: "chat_action", chatId: record.chat.id, action: p.action });
    return true;
  }

  #sendFile(
    kind: "audio" | "document",
    input: RecordedFile | string,
    p:
      & Pick<ParamsOf<"sendAudio">, "chat_id" | "caption" | "parse_mode" | "reply_markup">
      & Partial<ParamsOf<"sendAudio">>,
    audio: {
      title?: string;
      performer?: string;
      duration?: number;
      thumbnail?: RecordedFile | string;
    },
    /** Later items of a media group (one request): the flood limit counted them with the first. */
    sameRequest = false,
  ) {
    const record = this.#chatFor(p.chat_id);
    const formatted = formatBody(p.caption ?? "", p.parse_mode, "caption");
    const replyMarkup = inlineKeyboard(p.reply_markup);
    const replyTo = this.#replyTo(record, p);
    const info = this.#fileInfo(input);
    if (kind === "audio") Object.assign(info, pick(audio, "title", "performer"));
    const thumbnail = typeof input === "string" ? undefined : takenThumbnail(audio.thumbnail);
    if (kind === "audio" && thumbnail !== undefined) info.thumbnailSize = thumbnail;
    if (!sameRequest) this.#checkFlood(record.chat.id);
    const attachment = kind === "audio"
      ? { audio: { info, wire: audioWire(info, audio.duration ?? 0) } }
      : { document: { info, wire: documentWire(info) } };
    const stored = this.chats.add(record, {
      from: "bot",
      sender: this.#botSender(),
      date: this.#unixTime(),
      editCount: 0,
      ...attachment,
      ...(formatted.text ? { caption: formatted.text } : {}),
      ...(p.parse_mode && p.caption ? { rawText: p.caption, parseMode: p.parse_mode } : {}),
      ...(formatted.entities.length ? { entities: formatted.entities } : {}),
      ...(replyMarkup ? { replyMarkup } : {}),
      ...(replyTo === undefined ? {} : { replyToMessageId: replyTo }),
    });
    this.#emit({
      type: "message",
      chatId: record.chat.id,
      message: this.chats.toChatMessage(stored),
    });
    return this.chats.toWire(stored);
  }

  /**
   * An album of 2–10 audio files (what the bot uses; photo and video albums are not modelled):
   * each becomes an audio message; `attach://<name>` items take the uploaded part of that name.
   */
  #sendMediaGroup(p: ParamsOf<"sendMediaGroup">) {
    if (p.media.length < 2 || p.media.length > 10) {
      throw badRequest("wrong number of media in the group: must be 2-10");
    }
    if (p.media.some((item) => item.type !== "audio")) {
      throw badRequest("the emulator's media groups hold audio only");
    }
    const files = p as unknown as Record<string, RecordedFile | undefined>;
    const sent = [];
    for (const item of p.media) {
      const name = /^attach:\/\/(.+)$/.exec(item.media)?.[1];
      const input = name === undefined ? item.media : files[name];
      if (input === undefined) throw badRequest(`file ${item.media} not found in the request`);
      const thumbnailName = "thumbnail" in item && typeof item.thumbnail === "string"
        ? /^attach:\/\/(.+)$/.exec(item.thumbnail)?.[1]
        : undefined;
      sent.push(this.#sendFile("audio", input, { chat_id: p.chat_id, caption: item.caption }, {
        ...(item.title === undefined ? {} : { title: item.title }),
        ...(item.performer === undefined ? {} : { performer: item.performer }),
        ...(item.duration === undefined ? {} : { duration: item.duration }),
        ...(thumbnailName === undefined ? {} : { thumbnail: files[thumbnailName] }),
      }, sent.length > 0));
    }
    return sent;
  }

  #fileInfo(input: RecordedFile | string): SentFileInfo {
    if (typeof input !== "string") {
      const fileId = `BQACAgEmu${this.#nextFileNumber++}`;
      const info: SentFileInfo = {
        fileId,
        fileName: input.filename,
        size: input.size,
        mimeType: mimeType(input.filename),
      };
      this.#files.set(fileId, info);
      return { ...info };
    }
    const known = this.#files.get(input);
    if (known) return { ...known };
    if (/^https?:\/\/\S+$/i.test(input)) {
      const name = decodeURIComponent(new URL(input).pathname.split("/").pop() ?? "") || "file";
      const fileId = `BQACAgEmu${this.#nextFileNumber++}`;
      const info: SentFileInfo = { fileId, fileName: name, url: input, mimeType: mimeType(name) };
      this.#files.set(fileId, info);
      return { ...info };
    }
    throw badRequest("wrong file identifier/HTTP URL specified");
  }

  #setMyCommands(p: ParamsOf<"setMyCommands">): true {
    if (p.commands.length > 100) throw badRequest("too many commands specified");
    for (const command of p.commands) {
      if (!/^[a-z0-9_]{1,32}$/.test(command.command)) throw badRequest("BOT_COMMAND_INVALID");
      if (command.description.length < 1 || command.description.length > 256) {
        throw badRequest("command description must be non-empty and at most 256 characters");
      }
    }
    const commands = p.commands.map((c) => ({ command: c.command, description: c.description }));
    this.#commands.set(commandKey(p.scope, p.language_code), commands);
    return true;
  }

  #setWebhook(p: ParamsOf<"setWebhook">): true {
    if (p.drop_pending_updates) this.updates.dropAll();
    if (p.url === "") {
      this.#webhook.setTarget(undefined);
      return true;
    }
    if (!/^https?:\/\/[^\s/]+/i.test(p.url)) throw badRequest("bad webhook: invalid URL");
    this.#webhook.setTarget({
      url: p.url,
      ...(p.secret_token === undefined ? {} : { secretToken: p.secret_token }),
    });
    return true;
  }

  #webhookInfo() {
    const target = this.#webhook.target;
    const lastError = this.#webhook.lastError;
    return {
      url: target?.url ?? "",
      has_custom_certificate: false,
      pending_update_count: this.updates.pendingCount,
      ...(target ? { max_connections: 40 } : {}),
      ...(lastError === undefined
        ? {}
        : { last_error_date: this.#unixTime(), last_error_message: lastError }),
    };
  }

  #chatFor(chatId: number | string): ChatRecord {
    const record = typeof chatId === "number" ? this.chats.get(chatId) : undefined;
    if (record === undefined) throw badRequest("chat not found");
    if (record.blocked) throw new BotApiError(403, "Forbidden: bot was blocked by the user");
    return record;
  }

  #replyTo(
    record: ChatRecord,
    p: {
      reply_parameters?: { message_id: number; allow_sending_without_reply?: boolean };
      reply_to_message_id?: number;
      allow_sending_without_reply?: boolean;
    },
  ): number | undefined {
    const id = p.reply_parameters?.message_id ?? p.reply_to_message_id;
    if (id === undefined) return undefined;
    if (this.chats.find(record.chat.id, id)) return id;
    const allow = p.reply_parameters?.allow_sending_without_reply ?? p.allow_sending_without_reply;
    if (allow) return undefined;
    throw badRequest("message to be replied not found");
  }

  #checkFlood(chatId: number): void {
    const now = this.#now();
    const retryAfter = this.flood.check(chatId, now);
    if (retryAfter !== undefined) throw tooManyRequests(retryAfter);
    this.flood.record(chatId, now);
  }

  #botSender(): TgUser {
    const { id, is_bot, first_name, username } = this.#botUser;
    return { id, is_bot, first_name, username };
  }

  /** The canonical name of a method (the Bot API is case-insensitive), or `method` if unknown. */
  canonical(method: string): string {
    return this.#methodNames.get(method.toLowerCase()) ?? method;
  }

  #unixTime(): number {
    return Math.floor(this.#now() / 1000);
  }
}

function formatBody(
  raw: string,
  parseMode: string | undefined,
  kind: "text" | "caption",
): { text: string; entities: TgMessageEntity[] } {
  let formatted;
  try {
    formatted = formatText(raw, parseMode || undefined);
  } catch (error) {
    if (error instanceof EntityParseError) {
      throw badRequest(`can't parse entities: ${error.message}`);
    }
    throw error;
  }
  if (kind === "text") {
    if (formatted.text.trim() === "") throw badRequest("message text is empty");
    if (formatted.text.length > MAX_TEXT_LENGTH) throw badRequest("message is too long");
  } else if (formatted.text.length > MAX_CAPTION_LENGTH) {
    throw badRequest("message caption is too long");
  }
  return formatted;
}

function inlineKeyboard(
  markup: { inline_keyboard?: TgInlineKeyboardButton[][] } | undefined,
): TgInlineKeyboardMarkup | undefined {
  if (markup?.inline_keyboard === undefined) return undefined;
  const rows = markup.inline_keyboard.map((row) =>
    row.map((button) => {
      const actions = Object.keys(button).filter((key) => key !== "text");
      if (button.text === "" || actions.length === 0) {
        throw badRequest("text buttons are unallowed in the inline keyboard");
      }
      const data = button.callback_data;
      if (data !== undefined && (data === "" || new TextEncoder().encode(data).length > 64)) {
        throw badRequest("BUTTON_DATA_INVALID");
      }
      const kept: TgInlineKeyboardButton = { text: button.text };
      if (data !== undefined) kept.callback_data = data;
      if (button.url !== undefined) kept.url = button.url;
      return kept;
    })
  ).filter((row) => row.length > 0);
  return rows.length ? { inline_keyboard: rows } : undefined;
}

/** The size of a thumbnail Telegram takes (an uploaded JPEG under 200 kB); undefined: ignored. */
function takenThumbnail(thumbnail: RecordedFile | string | undefined): number | undefined {
  if (thumbnail === undefined || typeof thumbnail === "string") return undefined;
  const jpeg = thumbnail.bytes.length === 0 ||
    (thumbnail.bytes[0] === 0xff && thumbnail.bytes[1] === 0xd8);
  return jpeg && thumbnail.size > 0 && thumbnail.size < 200 * 1024 ? thumbnail.size : undefined;
}

function audioWire(info: SentFileInfo, duration: number): TgAudio {
  return {
    file_id: info.fileId,
    file_unique_id: `u${info.fileId}`,
    duration,
    ...pick(info, "title", "performer"),
    ...(info.fileName === undefined ? {} : { file_name: info.fileName }),
    ...(info.mimeType === undefined ? {} : { mime_type: info.mimeType }),
    ...(info.size === undefined ? {} : { file_size: info.size }),
  };
}

function documentWire(info: SentFileInfo): TgDocument {
  return {
    file_id: info.fileId,
    file_unique_id: `u${info.fileId}`,
    ...(info.fileName === undefined ? {} : { file_name: info.fileName }),
    ...(info.mimeType === undefined ? {} : { mime_type: info.mimeType }),
    ...(info.size === undefined ? {} : { file_size: info.size }),
  };
}

function mimeType(fileName: string): string {
  const extension = /\.([a-z0-9]+)$/i.exec(fileName)?.[1]?.toLowerCase() ?? "";
  return MIME_TYPES[extension] ?? "application/octet-stream";
}

function commandKey(scope: { type: string } | undefined, languageCode: string | undefined): string {
  return JSON.stringify([scope ?? { type: "default" }, languageCode ?? ""]);
}

function toUser(from: SimulatedUser): TgUser {
  return {
    id: from.id,
    is_bot: false,
    first_name: from.first_name ?? `User ${from.id}`,
    ...pick(from, "last_name", "username", "language_code"),
  };
}

function pick<T extends object, K extends keyof T>(source: T, ...keys: K[]): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {};
  for (const key of keys) {
    if (source[key] !== undefined) picked[key] = source[key];
  }
  return picked;
}

function setOptional<K extends keyof StoredMessage>(
  message: StoredMessage,
  key: K,
  value: StoredMessage[K] | undefined,
): void {
  if (value === undefined) delete message[key];
  else message[key] = value;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
