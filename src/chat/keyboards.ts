/**
 * The inline buttons under job messages and the callback-data protocol behind them: each button is
 * built here and its data parsed here, so the two cannot drift apart.
 *
 * @module
 */
import { JOB_ID_SOURCE } from "../jobs/ids.ts";
import { needsConfirmation } from "../jobs/errors.ts";
import type { Job } from "../jobs/model.ts";

/** Inline keyboard with one Cancel button; structurally a Bot API `InlineKeyboardMarkup`. */
export interface CancelKeyboard {
  inline_keyboard: { text: string; callback_data: string }[][];
}

/** Any inline keyboard of callback buttons (Cancel, "Download all N tracks"). */
export type InlineKeyboard = CancelKeyboard;

/** The Cancel button for a job. */
export function cancelKeyboard(jobId: string): CancelKeyboard {
  return { inline_keyboard: [[{ text: "Cancel", callback_data: `cancel:${jobId}` }]] };
}

/** Callback data of a Cancel button; group 1 is the job id (for `composer.callbackQuery`). */
export const CANCEL_DATA = new RegExp(`^cancel:(${JOB_ID_SOURCE})$`);

/** The job id in a Cancel button's callback data, or null when the data is something else. */
export function parseCancelData(data: string): string | null {
  return CANCEL_DATA.exec(data)?.[1] ?? null;
}

/** The "Download all N tracks" button under the question of a job stopped for its size. */
export function confirmKeyboard(jobId: string, total: number | undefined): InlineKeyboard {
  const text = total === undefined ? "Download all tracks" : `Download all ${total} tracks`;
  return { inline_keyboard: [[{ text, callback_data: `confirm:${jobId}` }]] };
}

/** Callback data of a "Download all N tracks" button; group 1 is the job id. */
export const CONFIRM_DATA = new RegExp(`^confirm:(${JOB_ID_SOURCE})$`);

/** The job id in a "Download all N tracks" button's callback data, or null for other data. */
export function parseConfirmData(data: string): string | null {
  return CONFIRM_DATA.exec(data)?.[1] ?? null;
}

/**
 * The buttons under a finished job's summary: "Download all N tracks" for a job stopped for
 * its size; none otherwise.
 */
export function summaryKeyboard(job: Job): InlineKeyboard | undefined {
  return needsConfirmation(job) ? confirmKeyboard(job.id, job.progress.total) : undefined;
}

/** One `/settings` choice in a button: whose settings, which one, and the value. */
export interface SettingChoice {
  userId: number;
  name: "format" | "bitrate" | "lists";
  value: string;
}

const LETTERS = { format: "f", bitrate: "b", lists: "l" } as const;
const NAMES = { f: "format", b: "bitrate", l: "lists" } as const;

/** Callback data of a settings button: `set:<user id>:<f|b|l>:<value>`. */
const SETTING_DATA = /^set:(\d{1,15}):([fbl]):([a-z0-9]{1,10})$/;
/** Matches settings buttons (for `composer.callbackQuery`). */
export const SETTINGS_DATA = /^set:/;

/** The settings message's buttons: one row per setting, the current value ticked. */
export function settingsKeyboard(
  userId: number,
  current: { format: string; bitrate: string; lists: "on" | "off" },
  choices: { format: readonly string[]; bitrate: readonly string[] },
): InlineKeyboard {
  const label = (name: SettingChoice["name"], value: string) =>
    name !== "lists" ? value : value === "on" ? "🎵 List tracks as audio" : "🔗 Links only";
  const row = (name: SettingChoice["name"], values: readonly string[]) =>
    values.map((value) => ({
      text: value === current[name] ? `✓ ${label(name, value)}` : label(name, value),
      callback_data: `set:${userId}:${LETTERS[name]}:${value}`,
    }));
  return {
    inline_keyboard: [
      row("format", choices.format),
      row("bitrate", choices.bitrate),
      row("lists", ["on", "off"]),
    ],
  };
}

/** The choice in a settings button's data; null for anything else (stale, tampered). */
export function parseSettingData(data: string): SettingChoice | null {
  const match = SETTING_DATA.exec(data);
  if (!match) return null;
  const [, user = "", letter = "f", value = ""] = match;
  return { userId: Number(user), name: NAMES[letter as keyof typeof NAMES], value };
}
