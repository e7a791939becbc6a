/**
 * Fixed texts the bot sends. HTML parse mode.
 *
 * @module
 */
import { EXAMPLE_LINK } from "../links/spotify.ts";
import { escapeHtml } from "../chat/format.ts";

/** Commands for Telegram's menu (setMyCommands) and /help. */
export const COMMANDS: readonly { command: string; description: string }[] = [
  { command: "download", description: "Download a Spotify track, album or playlist" },
  { command: "status", description: "Your jobs, or one job: /status <job id>" },
  { command: "cancel", description: "Cancel a job: /cancel <job id>" },
  { command: "settings", description: "Audio format and bitrate of your downloads" },
  { command: "help", description: "How to use this bot" },
];

/** /help text. */
export const HELP_TEXT = [
  "<b>dlbot</b> downloads music from Spotify links.",
  "",
  "/download &lt;link&gt; — start a download (or just paste a link)",
  "/status — your recent jobs",
  "/status &lt;job id&gt; — one job in detail",
  "/cancel &lt;job id&gt; — stop a queued or running job",
  "/settings — audio format and bitrate of your downloads",
  "/help — this text",
  "",
  "Links can be tracks, albums, playlists or artists, for example:",
  EXAMPLE_LINK,
  "",
  "You will see live progress, then a summary with download links.",
].join("\n");

/** /start text. */
export function startText(firstName: string | undefined): string {
  const greeting = firstName ? `Hi ${escapeHtml(firstName)}!` : "Hi!";
  return `${greeting} Send me a Spotify link and I will download it for you.\n\n${HELP_TEXT}`;
}

/** The one answer an outsider gets. */
export function refusalText(userId: number): string {
  return [
    "Sorry, this bot is private and you are not on its list of allowed users.",
    `Your Telegram user id is <code>${userId}</code>. If you should have access, send this id to the bot's admin.`,
  ].join("\n");
}

/** Generic answer when something broke on our side. */
export const INTERNAL_ERROR_TEXT =
  "Something went wrong on our side. Please try again in a moment; if it keeps happening, tell the bot's admin.";
