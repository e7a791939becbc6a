/**
 * What each user chose in `/settings` (audio format and bitrate), kept in KV. A stored choice
 * the admins no longer allow (`settings.formats`, `settings.bitrates`) falls back to the default
 * (`downloader.audio_format`, `downloader.bitrate`).
 *
 * @module
 */
import { z } from "zod";
import type { Config } from "../config/schema.ts";
import { retryCas } from "../kv/cas.ts";
import { userSettingsKey } from "../kv/keys.ts";
import type { JobAudio } from "./model.ts";

const storedSchema = z.object({
  format: z.string().max(10).optional(),
  bitrate: z.string().max(10).optional(),
  /** "on": list tracks are also sent as audio; "off": links only. */
  lists: z.enum(["on", "off"]).optional(),
});

/** A setting users can change. */
export type SettingName = "format" | "bitrate" | "lists";

/** A user's settings in effect, with what they may choose. */
export interface EffectiveSettings {
  audio: JobAudio;
  /**
   * What a new job of the user records as its audio settings: `audio`, or undefined when that
   * is the configured default (so such jobs stay what they were before anyone chose).
   */
  chosenAudio?: JobAudio;
  /** The tracks of albums and playlists are also sent as audio. */
  listsAsAudio: boolean;
  choices: Readonly<Record<SettingName, readonly string[]>>;
}

/** Reads and changes users' settings. */
export class UserSettings {
  readonly #kv: Deno.Kv;
  readonly #config: Pick<Config, "downloader" | "settings">;

  constructor(kv: Deno.Kv, config: Pick<Config, "downloader" | "settings">) {
    this.#kv = kv;
    this.#config = config;
  }

  /** What the user may choose from. */
  get choices(): Readonly<Record<SettingName, readonly string[]>> {
    return {
      format: this.#config.settings.formats,
      bitrate: this.#config.settings.bitrates,
      lists: ["on", "off"],
    };
  }

  /** The user's settings in effect. */
  async of(userId: number): Promise<EffectiveSettings> {
    const entry = await this.#kv.get(userSettingsKey(userId));
    const stored = storedSchema.safeParse(entry.value);
    const chosen = stored.success ? stored.data : {};
    const pick = (name: SettingName, fallback: string) => {
      const value = chosen[name];
      return value !== undefined && this.choices[name].includes(value) ? value : fallback;
    };
    const { audio_format, bitrate } = this.#config.downloader;
    const audio = { format: pick("format", audio_format), bitrate: pick("bitrate", bitrate) };
    const isDefault = audio.format === audio_format && audio.bitrate === bitrate;
    return {
      audio,
      ...(isDefault ? {} : { chosenAudio: audio }),
      listsAsAudio: pick("lists", this.#config.settings.lists_as_audio ? "on" : "off") === "on",
      choices: this.choices,
    };
  }

  /** Sets one choice; false (nothing changed) when it is not an allowed value. */
  async set(userId: number, name: SettingName, value: string): Promise<boolean> {
    if (!this.choices[name].includes(value)) return false;
    const key = userSettingsKey(userId);
    return await retryCas("changing a setting", async () => {
      const entry = await this.#kv.get(key);
      const stored = storedSchema.safeParse(entry.value);
      const next = { ...(stored.success ? stored.data : {}), [name]: value };
      return (await this.#kv.atomic().check(entry).set(key, next).commit()).ok ? true : undefined;
    });
  }
}
