/**
 * Types of the Telegram Bot API emulator: the wire objects it sends to the bot (a subset of the
 * real Bot API types, same field names) and the inspection objects tests and the sandbox UI read.
 *
 * @module
 */

/** A Telegram user as the Bot API serialises it. */
export interface TgUser {
  /** Unique user id. */
  id: number;
  /** True for bots. */
  is_bot: boolean;
  /** First name (always present for real users). */
  first_name: string;
  /** Last name, if any. */
  last_name?: string;
  /** Username without the leading "@". */
  username?: string;
  /** IETF language tag of the user's client. */
  language_code?: string;
}

/** The bot's own user, as `getMe` returns it. */
export interface TgBotUser extends TgUser {
  /** Always true. */
  is_bot: true;
  /** The bot's username (bots always have one). */
  username: string;
  /** Whether the bot can be added to groups. */
  can_join_groups: boolean;
  /** Whether privacy mode is off. */
  can_read_all_group_messages: boolean;
  /** Whether the bot supports inline queries. */
  supports_inline_queries: boolean;
  /** Whether the bot can be connected to a business account. */
  can_connect_to_business: boolean;
  /** Whether the bot has a main Web App. */
  has_main_web_app: boolean;
}

/** Chat types the emulator simulates. */
export type TgChatType = "private" | "group";

/** A chat as the Bot API serialises it. */
export interface TgChat {
  /** Chat id: the user id for private chats, negative for groups. */
  id: number;
  /** Chat type. */
  type: TgChatType;
  /** Group title. */
  title?: string;
  /** Private chat: the user's first name. */
  first_name?: string;
  /** Private chat: the user's username. */
  username?: string;
}

/** A formatting or auto-detected entity inside a text or caption (offsets in UTF-16 units). */
export interface TgMessageEntity {
  /** Entity type: "bold", "bot_command", "url", "text_link", "pre", … */
  type: string;
  /** Offset in UTF-16 code units. */
  offset: number;
  /** Length in UTF-16 code units. */
  length: number;
  /** For "text_link": the URL. */
  url?: string;
  /** For "pre": the programming language. */
  language?: string;
  /** For "custom_emoji": the emoji id. */
  custom_emoji_id?: string;
}

/** One inline keyboard button. */
export interface TgInlineKeyboardButton {
  /** Label. */
  text: string;
  /** Data sent back in a callback query when pressed. */
  callback_data?: string;
  /** URL opened when pressed. */
  url?: string;
}

/** An inline keyboard attached to a message. */
export interface TgInlineKeyboardMarkup {
  /** Rows of buttons. */
  inline_keyboard: TgInlineKeyboardButton[][];
}

/** An uploaded audio file, as the Bot API describes it in a message. */
export interface TgAudio {
  /** Identifier for re-sending the file. */
  file_id: string;
  /** Stable unique identifier. */
  file_unique_id: string;
  /** Duration in seconds (the emulator does not decode audio: 0 unless given). */
  duration: number;
  /** Performer, if sent. */
  performer?: string;
  /** Title, if sent. */
  title?: string;
  /** Original file name. */
  file_name?: string;
  /** MIME type guessed from the file name. */
  mime_type?: string;
  /** Size in bytes (unknown for URLs). */
  file_size?: number;
}

/** An uploaded general file. */
export interface TgDocument {
  /** Identifier for re-sending the file. */
  file_id: string;
  /** Stable unique identifier. */
  file_unique_id: string;
  /** Original file name. */
  file_name?: string;
  /** MIME type guessed from the file name. */
  mime_type?: string;
  /** Size in bytes (unknown for URLs). */
  file_size?: number;
}

/** A message object as the Bot API returns and delivers it. */
export interface TgMessage {
  /** Id, unique and increasing within the chat. */
  message_id: number;
  /** Unix time in seconds. */
  date: number;
  /** The chat. */
  chat: TgChat;
  /** The sender. */
  from: TgUser;
  /** Unix time of the last edit. */
  edit_date?: number;
  /** Text (for text messages), without markup. */
  text?: string;
  /** Entities in `text`. */
  entities?: TgMessageEntity[];
  /** Caption of a file message. */
  caption?: string;
  /** Entities in `caption`. */
  caption_entities?: TgMessageEntity[];
  /** Audio file. */
  audio?: TgAudio;
  /** General file. */
  document?: TgDocument;
  /** Inline keyboard. */
  reply_markup?: TgInlineKeyboardMarkup;
  /** The message this one replies to (one level deep). */
  reply_to_message?: TgMessage;
}

/** A callback query: someone pressed an inline button. */
export interface TgCallbackQuery {
  /** Unique id, to be answered with answerCallbackQuery. */
  id: string;
  /** Who pressed. */
  from: TgUser;
  /** The message carrying the button. */
  message?: TgMessage;
  /** Identifies the chat the button was pressed in. */
  chat_instance: string;
  /** The button's callback_data. */
  data?: string;
}

/** An update delivered through getUpdates or a webhook. */
export interface TgUpdate {
  /** Increasing update id. */
  update_id: number;
  /** A new incoming message. */
  message?: TgMessage;
  /** A callback query. */
  callback_query?: TgCallbackQuery;
}

/** A command registered with setMyCommands. */
export interface TgBotCommand {
  /** Command text without "/". */
  command: string;
  /** Description shown in the menu. */
  description: string;
}

/** A simulated person, as tests describe them (missing fields get defaults). */
export interface SimulatedUser {
  /** User id (also the private chat id). */
  id: number;
  /** First name; defaults to "User <id>". */
  first_name?: string;
  /** Last name. */
  last_name?: string;
  /** Username without "@". */
  username?: string;
  /** Client language. */
  language_code?: string;
}

/** A file the bot sent, as recorded in the transcript. */
export interface SentFileInfo {
  /** The file id the emulator assigned (re-sendable). */
  fileId: string;
  /** File name (from the upload or the URL). */
  fileName?: string;
  /** Size in bytes; undefined when sent by URL. */
  size?: number;
  /** MIME type guessed from the name. */
  mimeType?: string;
  /** The URL, when the bot sent a URL instead of uploading. */
  url?: string;
  /** Audio title, if given. */
  title?: string;
  /** Audio performer, if given. */
  performer?: string;
  /**
   * Size of the audio's thumbnail, when one was uploaded with it as Telegram takes them (a
   * JPEG under 200 kB; Telegram ignores any other).
   */
  thumbnailSize?: number;
}

/** One message of a chat transcript, with every edit applied. */
export interface ChatMessage {
  /** The chat. */
  chatId: number;
  /** Message id within the chat. */
  messageId: number;
  /** Who wrote it. */
  from: "user" | "bot";
  /** The sending user's id (the bot's id for bot messages). */
  senderId: number;
  /** Unix time in seconds of sending. */
  date: number;
  /** Current text without markup (text messages). */
  text?: string;
  /** Current text as the bot sent it, markup included (when a parse_mode was used). */
  rawText?: string;
  /** parse_mode of the current text or caption. */
  parseMode?: string;
  /** Entities of the current text or caption. */
  entities?: TgMessageEntity[];
  /** Current caption without markup (file messages). */
  caption?: string;
  /** Current inline keyboard. */
  replyMarkup?: TgInlineKeyboardMarkup;
  /** How many times the text, caption or keyboard was edited. */
  editCount: number;
  /** The message this one replies to. */
  replyToMessageId?: number;
  /** Audio attachment. */
  audio?: SentFileInfo;
  /** Document attachment. */
  document?: SentFileInfo;
}

/** An uploaded file as recorded in a call's params. */
export interface RecordedFile {
  /** File name from the multipart part. */
  filename: string;
  /** Size in bytes. */
  size: number;
  /** The bytes (empty when `recordFileBytes` is off). */
  bytes: Uint8Array;
}

/** Fault kinds the emulator can inject. */
export type FaultKind = "429" | "500" | "drop" | "drop_response" | "delay" | "hold";

/** One Bot API request the bot made. */
export interface RecordedCall {
  /** Method name as the emulator knows it (canonical case), or as sent when unknown. */
  method: string;
  /**
   * Parameters: the JSON body, or form fields (strings; JSON objects/arrays decoded) with
   * uploaded files (attach:// references resolved) as {@linkcode RecordedFile}.
   */
  params: Record<string, unknown>;
  /** When the request arrived (ms, emulator clock). */
  at: number;
  /** Whether the answer was `ok: true`. */
  ok: boolean;
  /** error_code of a failed answer. */
  errorCode?: number;
  /** description of a failed answer. */
  description?: string;
  /** The injected fault that hit this call, if any. */
  fault?: FaultKind;
}

/** An answerCallbackQuery the bot made. */
export interface CallbackAnswer {
  /** The callback query id. */
  callbackQueryId: string;
  /** The chat the button was in. */
  chatId: number;
  /** The message carrying the button. */
  messageId: number;
  /** Notification text, if any. */
  text?: string;
  /** Whether it was shown as an alert. */
  showAlert: boolean;
}

/** A change in the emulator's state, for live views and waiters. */
export type EmulatorEvent =
  | { type: "message"; chatId: number; message: ChatMessage }
  | { type: "edit"; chatId: number; message: ChatMessage }
  | { type: "delete"; chatId: number; messageId: number }
  | { type: "callback_answer"; chatId: number; answer: CallbackAnswer }
  | { type: "chat_action"; chatId: number; action: string }
  | { type: "call"; call: RecordedCall };

/** A rule for injecting faults into Bot API answers. */
export interface FaultRule {
  /** Method the rule applies to (exact name, case-insensitive, or a pattern); all when absent. */
  method?: string | RegExp;
  /**
   * "429": Too Many Requests with `retryAfter`; "500": Internal Server Error; "drop": the
   * connection is cut before the call runs; "drop_response": the call runs but its answer is cut
   * (the bot cannot tell whether it happened); "delay": the call runs after `delayMs`; "hold":
   * the call is held unanswered and never runs, until the caller hangs up (or the emulator
   * closes): a Telegram that stopped answering at that very moment.
   */
  kind: FaultKind;
  /** retry_after seconds for "429" (default 1). */
  retryAfter?: number;
  /** Delay for "delay" (default 1000 ms). */
  delayMs?: number;
  /** How many calls the rule hits before it expires (default: unlimited). */
  times?: number;
  /** Chance (0–1) that a matching call is hit (default 1), drawn from the seeded RNG. */
  probability?: number;
}

/** Per-chat and per-bot flood limits, modelled on Telegram's. */
export interface FloodLimit {
  /** Sends and edits allowed per chat in any 1-second window. */
  perChatPerSecond: number;
  /** Sends and edits allowed for the whole bot in any 1-second window. */
  perBotPerSecond: number;
  /**
   * retry_after seconds of a flood rejection; during that time every send or edit to the same chat
   * (or, for the bot-wide limit, to any chat) is rejected too. Default: until the window frees up
   * (at least 1).
   */
  retryAfter?: number;
}

/** Options of {@linkcode TelegramEmulator.start}. */
export interface EmulatorOptions {
  /** The bot token the emulator accepts; other tokens get 401. */
  token?: string;
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  hostname?: string;
  /** Overrides of the bot user `getMe` returns. */
  botUser?: Partial<Pick<TgBotUser, "id" | "first_name" | "username">>;
  /** Upload limit per file in bytes (default 50 MB, like the public Bot API). */
  maxUploadBytes?: number;
  /** Flood limit simulation; off by default. */
  floodLimit?: FloodLimit;
  /** Seed of the RNG used by probabilistic faults (default 1). */
  seed?: number;
  /** Clock in ms (default `Date.now`). */
  now?: () => number;
  /** Keep uploaded bytes in recorded calls (default true; the load test turns it off). */
  recordFileBytes?: boolean;
}

/** Counters over everything the bot did. */
export interface EmulatorStats {
  /** All calls, including rejected ones. */
  totalCalls: number;
  /** Calls per method. */
  byMethod: Record<string, number>;
  /** Calls answered with ok: false (including dropped ones). */
  failedCalls: number;
  /** Calls rejected by the flood limit simulation. */
  floodRejections: number;
  /** Calls hit by an injected fault. */
  injectedFaults: number;
}
