/** Users' settings: only allowed values are stored, and a value no longer allowed falls back. */
import { assertEquals } from "../_assert.ts";
import { configSchema } from "../../src/config/schema.ts";
import { UserSettings } from "../../src/jobs/user_settings.ts";
import { parseSettingData, settingsKeyboard } from "../../src/chat/keyboards.ts";

Deno.test("a setting outside the allowed choices is refused, and one no longer allowed falls back", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const wide = new UserSettings(kv, configSchema.parse({}));
    assertEquals(await wide.set(7, "format", "wma"), false, "not a choice");
    assertEquals((await wide.of(7)).chosenAudio, undefined, "nothing chosen: the defaults");
    assertEquals(await wide.set(7, "format", "flac"), true);
    assertEquals((await wide.of(7)).audio, { format: "flac", bitrate: "128k" });
    const narrow = new UserSettings(kv, configSchema.parse({ settings: { formats: ["mp3"] } }));
    assertEquals((await narrow.of(7)).audio.format, "mp3", "flac is no longer allowed");
  } finally {
    kv.close();
  }
});

Deno.test("settings buttons carry whose settings they are; anything else is not a settings button", () => {
  const keyboard = settingsKeyboard(42, { format: "mp3", bitrate: "128k", lists: "off" }, {
    format: ["mp3", "flac"],
    bitrate: ["128k"],
  });
  const flac = keyboard.inline_keyboard[0]?.[1];
  assertEquals(flac?.text, "flac");
  assertEquals(parseSettingData(flac?.callback_data ?? ""), {
    userId: 42,
    name: "format",
    value: "flac",
  });
  assertEquals(keyboard.inline_keyboard[0]?.[0]?.text, "✓ mp3");
  for (const stale of ["set:", "set:42:x:mp3", "set:42:f:MP3;rm", "cancel:abc123"]) {
    assertEquals(parseSettingData(stale), null, stale);
  }
});

Deno.test("check-config: the allowed choices must include the defaults", () => {
  const result = configSchema.safeParse({
    downloader: { audio_format: "flac" },
    settings: { formats: ["mp3"], bitrates: ["320k"] },
  });
  assertEquals(result.success, false);
  const paths = result.error?.issues.map((i) => i.path.join(".")).sort();
  assertEquals(paths, ["settings.bitrates", "settings.formats"]);
});
