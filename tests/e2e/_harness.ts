/**
 * Starts the whole application (`createApp`, the production composition root) against the Bot API
 * emulator, with a scripted spotDL on the configured command path.
 *
 * @module
 */
import "../../src/runtime/quiet_node_warnings.ts";
import { type App, createApp } from "../../src/app/create_app.ts";
import { type Config, type ConfigInput, configSchema } from "../../src/config/schema.ts";
import { type AppLogger, silentLogger } from "../../src/log/logger.ts";
import { type ChatMessage, TelegramEmulator } from "../../src/emulator/mod.ts";
import { ADMIN, ALICE, BOB, FAKE_SPOTDL } from "../_fixtures.ts";

export { ADMIN, ALICE, BOB, FAKE_SPOTDL, MALLORY, PLAYLIST, TRACK } from "../_fixtures.ts";

/** A running bot and its emulator. */
export interface TestBot {
  app: App;
  emulator: TelegramEmulator;
  config: Config;
  dataDir: string;
  /** Base URL of the bot's HTTP server. */
  httpBase: string;
  /** Stops the app and emulator and removes the data dir (unless `keepData`). */
  close(options?: { keepData?: boolean }): Promise<void>;
}

/** Options for {@linkcode startTestBot}. */
export interface TestBotOptions {
  /** Environment for the fake downloader (FAKE_SPOTDL_MODE, FAKE_SPOTDL_TRACKS, …). */
  downloaderEnv?: Record<string, string>;
  /** Extra config, merged over the test defaults. */
  config?: (base: ConfigInput) => ConfigInput;
  /** Re-use a data dir (restart tests). */
  dataDir?: string;
  /** Re-use an emulator (restart tests). */
  emulator?: TelegramEmulator;
  /** The app's clock (milliseconds since the epoch); real time by default. */
  now?: () => number;
  /** Where the app logs; silent by default. */
  logger?: AppLogger;
  /**
   * Pace calls to a chat as on Telegram (one a second). Off by default: the emulator has no
   * flood limits unless a test sets them, and tests would only wait on the clock.
   */
  telegramPace?: boolean;
  /**
   * Telegram's limits on both sides: a fresh emulator that floods as Telegram does (1 message a
   * second per chat, 30 per bot) and the bot at Telegram's pace. Implies `telegramPace`.
   */
  telegramLimits?: boolean;
  /**
   * Least time between any two of the bot's calls (a slow Telegram's pace), to make outgoing
   * backlogs for certain; Telegram's 35 ms by default.
   */
  botWidePaceMs?: number;
  /** How often webhook mode probes Telegram. */
  webhookProbeMs?: number;
  /** The downloads' disk as the app measures it (default: the real one). */
  disk?: () => Promise<{ free: number; total: number } | undefined>;
  /** How long a free-space measurement is reused (0 with `disk`; the app's default otherwise). */
  diskCacheMs?: number;
}

/** Telegram's flood limits, as the emulator enforces them with `telegramLimits`. */
export const TELEGRAM_FLOOD_LIMIT = { perChatPerSecond: 1, perBotPerSecond: 30 };

/** The pace of calls to one chat in tests that do not check pacing itself. */
export const TEST_CHAT_PACE = { privateMs: 20, groupMs: 60 };

/** Starts the real app against a fresh emulator; `close()` tears everything down. */
export async function startTestBot(options: TestBotOptions = {}): Promise<TestBot> {
  const emulator = options.emulator ?? await TelegramEmulator.start(
    options.telegramLimits ? { floodLimit: TELEGRAM_FLOOD_LIMIT } : {},
  );
  const dataDir = options.dataDir ?? await Deno.makeTempDir({ prefix: "dlbot-e2e-" });
  const base: ConfigInput = {
    telegram: {
      api_root: emulator.apiRoot,
      allowed_user_ids: [ALICE.id, BOB.id],
      admin_user_ids: [ADMIN.id],
    },
    http: { listen: "127.0.0.1:0", public_base_url: "http://files.example.test/dl" },
    storage: { data_dir: dataDir },
    downloader: {
      command: FAKE_SPOTDL,
      env: { FAKE_SPOTDL_DELAY: "0.02", ...options.downloaderEnv },
      kill_grace_seconds: 1,
    },
    jobs: { lease_seconds: 5 },
    shutdown: { grace_seconds: 1 },
  };
  const config = configSchema.parse(options.config ? options.config(base) : base);
  const app = await createApp({
    config,
    logger: options.logger ?? silentLogger,
    token: emulator.token,
    now: options.now,
    chatPace: options.telegramPace || options.telegramLimits
      ? undefined
      : { ...TEST_CHAT_PACE, botWideMs: options.botWidePaceMs },
    pollRetryMs: 200,
    webhookProbeMs: options.webhookProbeMs,
    disk: options.disk,
    diskCacheMs: options.disk ? 0 : options.diskCacheMs,
  });
  await app.start();
  const httpBase = `http://${app.httpAddress.hostname}:${app.httpAddress.port}`;
  return {
    app,
    emulator,
    config,
    dataDir,
    httpBase,
    async close(closeOptions) {
      await app.stop();
      if (!options.emulator) await emulator.close();
      if (!closeOptions?.keepData && !options.dataDir) {
        await Deno.remove(dataDir, { recursive: true });
      }
    },
  };
}

/** Rewrites a public download link to the test server's address. */
export function localUrl(bot: TestBot, publicUrl: string): string {
  return publicUrl.replace("http://files.example.test/dl", bot.httpBase);
}

/** The job id shown in a bot message (`<code>id</code>`), from the message or its raw HTML. */
export function jobIdFrom(message: ChatMessage | string | undefined): string {
  const raw = typeof message === "string" || message === undefined ? message : message.rawText;
  const match = raw?.match(/<code>([a-z0-9]{6,32})<\/code>/);
  if (!match?.[1]) throw new Error(`no job id in ${JSON.stringify(raw)}`);
  return match[1];
}

/** The links (href) in a bot message, HTML-unescaped. */
export function linksIn(message: ChatMessage): string[] {
  return [...(message.rawText ?? "").matchAll(/href="([^"]+)"/g)].map((m) =>
    m[1]!.replaceAll("&amp;", "&")
  );
}

/** The links of a message to single files (`/files/…`), in the order shown. */
export function fileLinksIn(message: ChatMessage): string[] {
  return linksIn(message).filter((link) => new URL(link).pathname.includes("/files/"));
}

/**
 * The status message once the chat updater gave it its Cancel button (it is sent without one,
 * so a copy left by a lost answer has none).
 */
export function withCancelButton(bot: TestBot, message: ChatMessage): Promise<ChatMessage> {
  return bot.emulator.waitFor(() => {
    const current = bot.emulator.chat(message.chatId).find((m) =>
      m.messageId === message.messageId
    );
    return current?.replyMarkup?.inline_keyboard[0]?.[0]?.text === "Cancel" ? current : undefined;
  }, { intervalMs: 10, message: `message ${message.messageId} gets its Cancel button` });
}
