/**
 * A Telegram Bot API emulator, as a library for the sandbox (`run --sandbox`), the tests and the
 * load test: long polling and webhooks, messages, edits, uploads and callback queries, with
 * Telegram's HTML parsing, flood limits and injectable faults. Product code other than the
 * sandbox never imports it.
 *
 * - {@linkcode TelegramEmulator}: the server, the simulated users and what they see.
 * - The types of its chats, events, options and faults.
 * - {@linkcode formatText}: Telegram's HTML parse mode, for tests that render bot texts.
 *
 * @module
 */
export { TelegramEmulator } from "./emulator.ts";
export type { SendTextOptions } from "./bot_api.ts";
export type * from "./emulator_types.ts";
export { formatText } from "./formatting.ts";
