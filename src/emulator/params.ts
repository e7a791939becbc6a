/**
 * Parameter schemas of the Bot API methods the emulator implements. Values may arrive as JSON
 * (typed) or as form fields (strings, JSON-encoded objects), so numbers, booleans and objects are
 * coerced the way the Bot API coerces them. Validation failures become Telegram-style 400s.
 *
 * @module
 */
import { z } from "zod";
import { badRequest, type BotApiError } from "./api_error.ts";
import type { RecordedFile } from "./emulator_types.ts";

const integer = z.preprocess(
  (v) => (typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : v),
  z.number().int(),
);

const boolean = z.preprocess(
  (v) => (v === "true" || v === "1" ? true : v === "false" || v === "0" ? false : v),
  z.boolean(),
);

function json<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => {
    if (typeof v !== "string") return v;
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  }, schema);
}

const chatId = z.preprocess(
  (v) => (typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : v),
  z.union([z.number().int(), z.string().min(1)]),
);

const button = z.looseObject({
  text: z.string(),
  callback_data: z.string().optional(),
  url: z.string().optional(),
});

/** reply_markup: an inline keyboard, or another keyboard kind kept as sent. */
const replyMarkup = json(z.looseObject({ inline_keyboard: z.array(z.array(button)).optional() }));

const replyParameters = json(z.looseObject({
  message_id: integer,
  chat_id: chatId.optional(),
  allow_sending_without_reply: boolean.optional(),
}));

const recordedFile = z.custom<RecordedFile>((v) =>
  typeof v === "object" && v !== null && "bytes" in v && "filename" in v
);

/** A file parameter: an upload, or a file_id / URL string. */
const inputFile = z.union([recordedFile, z.string().min(1)]);

const sendCommon = {
  chat_id: chatId,
  reply_markup: replyMarkup.optional(),
  reply_parameters: replyParameters.optional(),
  reply_to_message_id: integer.optional(),
  allow_sending_without_reply: boolean.optional(),
  disable_notification: boolean.optional(),
  protect_content: boolean.optional(),
};

const commandScope = json(z.looseObject({ type: z.string() }));

/** Schemas by method name. */
export const methodParams = {
  getUpdates: z.looseObject({
    offset: integer.optional(),
    limit: integer.optional(),
    timeout: integer.optional(),
  }),
  sendMessage: z.looseObject({
    ...sendCommon,
    text: z.string(),
    parse_mode: z.string().optional(),
  }),
  editMessageText: z.looseObject({
    chat_id: chatId.optional(),
    message_id: integer.optional(),
    inline_message_id: z.string().optional(),
    text: z.string(),
    parse_mode: z.string().optional(),
    reply_markup: replyMarkup.optional(),
  }),
  editMessageCaption: z.looseObject({
    chat_id: chatId.optional(),
    message_id: integer.optional(),
    inline_message_id: z.string().optional(),
    caption: z.string().optional(),
    parse_mode: z.string().optional(),
    reply_markup: replyMarkup.optional(),
  }),
  editMessageReplyMarkup: z.looseObject({
    chat_id: chatId.optional(),
    message_id: integer.optional(),
    inline_message_id: z.string().optional(),
    reply_markup: replyMarkup.optional(),
  }),
  deleteMessage: z.looseObject({ chat_id: chatId, message_id: integer }),
  answerCallbackQuery: z.looseObject({
    callback_query_id: z.string(),
    text: z.string().optional(),
    show_alert: boolean.optional(),
  }),
  sendChatAction: z.looseObject({ chat_id: chatId, action: z.string() }),
  sendAudio: z.looseObject({
    ...sendCommon,
    audio: inputFile,
    caption: z.string().optional(),
    parse_mode: z.string().optional(),
    title: z.string().optional(),
    performer: z.string().optional(),
    duration: integer.optional(),
  }),
  sendMediaGroup: z.looseObject({
    ...sendCommon,
    media: json(z.array(z.looseObject({
      type: z.string(),
      media: z.string().min(1),
      title: z.string().optional(),
      performer: z.string().optional(),
      duration: integer.optional(),
      caption: z.string().optional(),
    }))),
  }),
  sendDocument: z.looseObject({
    ...sendCommon,
    document: inputFile,
    caption: z.string().optional(),
    parse_mode: z.string().optional(),
  }),
  setMyCommands: z.looseObject({
    commands: json(z.array(z.looseObject({ command: z.string(), description: z.string() }))),
    scope: commandScope.optional(),
    language_code: z.string().optional(),
  }),
  getMyCommands: z.looseObject({
    scope: commandScope.optional(),
    language_code: z.string().optional(),
  }),
  deleteMyCommands: z.looseObject({
    scope: commandScope.optional(),
    language_code: z.string().optional(),
  }),
  setWebhook: z.looseObject({
    url: z.string(),
    secret_token: z.string().optional(),
    drop_pending_updates: boolean.optional(),
  }),
  deleteWebhook: z.looseObject({ drop_pending_updates: boolean.optional() }),
} as const;

/** Names of methods with a parameter schema. */
export type MethodWithParams = keyof typeof methodParams;

/** Parsed parameters of a method. */
export type ParamsOf<M extends MethodWithParams> = z.infer<(typeof methodParams)[M]>;

const MISSING: Record<string, string> = {
  chat_id: "chat_id is empty",
  text: "message text is empty",
  message_id: "message identifier is not specified",
  callback_query_id: "query is too old and response timeout expired or query ID is invalid",
  action: "wrong parameter action in request",
  audio: "there is no audio in the request",
  document: "there is no document in the request",
  commands: 'parameter "commands" is required',
  url: 'parameter "url" is required',
};

const INVALID: Record<string, string> = {
  reply_markup: "can't parse reply keyboard markup JSON object",
  reply_parameters: "can't parse reply parameters JSON object",
  commands: "can't parse BotCommand array JSON",
  chat_id: "chat not found",
};

/** Validates `params` for `method`, or throws the 400 Telegram would answer. */
export function parseParams<M extends MethodWithParams>(
  method: M,
  params: Record<string, unknown>,
): ParamsOf<M> {
  const result = methodParams[method].safeParse(params);
  if (result.success) return result.data as ParamsOf<M>;
  throw paramsError(result.error, params);
}

function paramsError(error: z.ZodError, params: Record<string, unknown>): BotApiError {
  const issue = error.issues[0];
  const field = String(issue?.path[0] ?? "parameters");
  if (params[field] === undefined || params[field] === null) {
    return badRequest(MISSING[field] ?? `parameter "${field}" is required`);
  }
  return badRequest(INVALID[field] ?? `wrong parameter ${field} in request`);
}
