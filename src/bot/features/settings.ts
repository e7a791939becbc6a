/**
 * /settings: the user's audio format and bitrate, chosen with inline buttons (the current value
 * ticked). Their next downloads use them. A button from someone else's message, from an old
 * keyboard or with a value the admins no longer allow gets a short notice and changes nothing.
 *
 * @module
 */
import { Composer } from "grammy";
import type { BotContext, BotDeps } from "../context.ts";
import { parseSettingData, SETTINGS_DATA, settingsKeyboard } from "../../chat/keyboards.ts";
import type { EffectiveSettings } from "../../jobs/user_settings.ts";
import { command } from "./command.ts";

function settingsText(settings: EffectiveSettings): string {
  return [
    "<b>Your settings</b> (for your next downloads)",
    `Format: ${settings.audio.format} · Bitrate: ${settings.audio.bitrate}`,
    `Albums and playlists: ${
      settings.listsAsAudio ? "links, and every track as audio" : "links only"
    }`,
    "",
    "First row: format. Second row: bitrate. Third row: how lists arrive.",
  ].join("\n");
}

function keyboard(userId: number, settings: EffectiveSettings) {
  return settingsKeyboard(
    userId,
    { ...settings.audio, lists: settings.listsAsAudio ? "on" : "off" },
    settings.choices,
  );
}

const NOTICE = { format: "Format", bitrate: "Bitrate", lists: "Lists" } as const;

/** The /settings command and its buttons. */
export function settingsFeature(deps: BotDeps): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.command(
    "settings",
    command("settings", deps, async (ctx) => {
      const { userId } = ctx.requester;
      const settings = await deps.settings.of(userId);
      await ctx.reply(settingsText(settings), {
        reply_markup: keyboard(userId, settings),
      });
    }),
  );
  composer.callbackQuery(
    SETTINGS_DATA,
    command("settings_button", deps, async (ctx) => {
      const { userId } = ctx.requester;
      const choice = parseSettingData(ctx.callbackQuery.data);
      if (choice === null || choice.userId !== userId) {
        await ctx.answerCallbackQuery({
          text: choice === null
            ? "This button is out of date: send /settings again."
            : "These are someone else's settings: send /settings for yours.",
        });
        return;
      }
      const changed = await deps.settings.set(userId, choice.name, choice.value);
      const settings = await deps.settings.of(userId);
      await ctx.answerCallbackQuery({
        text: changed
          ? `${NOTICE[choice.name]}: ${choice.value}`
          : "That choice is not available any more.",
      });
      await ctx.editMessageText(settingsText(settings), {
        reply_markup: keyboard(userId, settings),
      }).catch(() => {
        // "message is not modified" when nothing changed; the notice said so already.
      });
    }),
  );
  return composer;
}
