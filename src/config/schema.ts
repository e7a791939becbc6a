/**
 * The configuration schema: one zod pass over the merged TOML file and environment.
 * `Config` is derived from it; nothing else declares configuration types.
 *
 * Keys use snake_case as in `config/bot.example.toml`. Every object is strict, so an unknown key
 * (a typo) is an error rather than silently ignored.
 *
 * @module
 */
import { z } from "zod";

/** Public Telegram Bot API root; override with `TELEGRAM_API_ROOT` for a self-hosted server. */
export const DEFAULT_API_ROOT = "https://api.telegram.org";

/**
 * Default downloader arguments: spotDL with one file per song. The output template is relative:
 * spotDL runs inside the job's directory, and a template through a dot-directory would be
 * rewritten by spotDL (`.local` → `local`). The flags the bot relies on are added after these
 * (`spotdlFlags` in `src/downloader/subprocess.ts`).
 */
export const DEFAULT_DOWNLOADER_ARGS: readonly string[] = [
  "download",
  "{url}",
  "--output",
  "{artists} - {title}.{output-ext}",
];

const userId = z.number().int().positive();

/** True for https URLs, and for http URLs whose host is loopback (localhost, 127.0.0.0/8, ::1). */
function isHttpsOrLoopback(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  if (protocol === "https:") return true;
  return hostname === "localhost" || hostname === "[::1]" || /^127(\.\d{1,3}){3}$/.test(hostname);
}

const telegramSchema = z.strictObject({
  /** Bot token from @BotFather. Prefer TELEGRAM_BOT_TOKEN(_FILE) or systemd credentials. */
  token: z.string().regex(/^\d+:[A-Za-z0-9_-]{20,}$/, {
    message: "does not look like a bot token (expected <digits>:<35 characters>)",
  }).optional(),
  api_root: z.url({ protocol: /^https?$/ }).default(DEFAULT_API_ROOT),
  allowed_user_ids: z.array(userId).default([]),
  admin_user_ids: z.array(userId).default([]),
  /** Upload limit for sending files into the chat; 50 MB on the public Bot API. */
  upload_limit_mb: z.number().positive().max(2000).default(50),
  mode: z.enum(["polling", "webhook"]).default("polling"),
  webhook: z.strictObject({
    /**
     * Public HTTPS URL Telegram posts updates to (path served by the bot's HTTP server). Plain
     * http is accepted only for a loopback host: a self-hosted Bot API server (or an emulator) on
     * the same machine, where the secret token never crosses a network.
     */
    url: z.url({ protocol: /^https?$/ }).refine(isHttpsOrLoopback, {
      message: "must be an https URL (plain http only for a loopback host such as 127.0.0.1)",
    }).optional(),
    /** Shared secret Telegram sends in X-Telegram-Bot-Api-Secret-Token. */
    secret_token: z.string().regex(/^[A-Za-z0-9_-]{16,256}$/, {
      message: "must be 16-256 characters of A-Z, a-z, 0-9, _ and -",
    }).optional(),
  }).prefault({}),
});

const httpSchema = z.strictObject({
  /** host:port the HTTP server (files, /metrics, /healthz, /readyz, webhook) listens on. */
  listen: z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, {
    message: "must be host:port, e.g. 127.0.0.1:8080",
  }).refine((listen) => !/:\d+$/.test(listen) || Number(listen.split(":").at(-1)) <= 65_535, {
    message: "has a port above 65535 (ports are 1-65535; 0 picks a free one)",
  }).default("127.0.0.1:8080"),
  /** Public prefix in front of the HTTP server, used in download links. */
  public_base_url: z.url({ protocol: /^https?$/ }).optional(),
  /** HMAC secret for signed download links. Generated and kept in KV when unset. */
  signing_secret: z.string().min(32, { message: "must be at least 32 characters" }).optional(),
  /** How long a download link stays valid. */
  link_ttl_hours: z.number().positive().max(24 * 365).default(72),
});

/** Whether a `storage.kv_path` names a denokv server (KV Connect) rather than a file. */
export function isKvConnectUrl(kvPath: string): boolean {
  return /^https?:\/\//.test(kvPath);
}

const storageSchema = z.strictObject({
  /** Directory for the KV file and downloads. Relative paths resolve against the working dir. */
  data_dir: z.string().min(1).default("./data"),
  /** Deno KV location: a file path, ":memory:", or an http(s) URL of a denokv server. */
  kv_path: z.string().min(1).optional(),
  /**
   * Secret: the denokv server's access token, for an http(s) `kv_path`. Prefer
   * DENO_KV_ACCESS_TOKEN(_FILE) or the systemd credential kv_access_token.
   */
  kv_access_token: z.string().min(1).optional(),
  /** Where finished downloads are kept; default <data_dir>/downloads. */
  downloads_dir: z.string().min(1).optional(),
  /**
   * Below this much free space on the downloads' disk, new downloads are refused and queued ones
   * wait (readiness reports it, admins are told); 0 turns the check off.
   */
  min_free_mb: z.number().int().min(0).default(500),
});

/** An audio format spotDL writes (`--format`). */
const audioFormat = z.enum(["mp3", "m4a", "opus", "ogg", "flac", "wav"]);
/** A spotDL `--bitrate`. */
const bitrate = z.string().regex(/^(\d{2,3}k|auto|disable)$/, {
  message: 'must be like "128k" or "320k", or "auto" / "disable"',
});

const downloaderSchema = z.strictObject({
  /** Executable name (looked up on PATH) or absolute path. */
  command: z.string().min(1).default("spotdl"),
  /** Argument array; placeholders {url} and {output_dir} are substituted. Never run via a shell. */
  args: z.array(z.string()).default([...DEFAULT_DOWNLOADER_ARGS]),
  /** Output protocol: spotDL's --simple-tui lines, or one JSON object per line. */
  output_format: z.enum(["spotdl", "jsonl"]).default("spotdl"),
  /** A job running longer than this is stopped and reported as timed out. */
  timeout_minutes: z.number().positive().default(60),
  /** Time between SIGTERM and SIGKILL when stopping the downloader. */
  kill_grace_seconds: z.number().min(0).max(300).default(10),
  /** Extra environment variables for the downloader process. */
  env: z.record(z.string(), z.string()).default({}),
  /**
   * Spotify waits up to this long are sat out by spotDL (the status shows it); a longer one
   * pauses every job until it ends, and they continue by themselves.
   */
  spotify_wait_max_seconds: z.number().int().min(0).max(86_400).default(120),
  /** spotDL's `--format`: the default of users who chose none (`/settings`). */
  audio_format: audioFormat.default("mp3"),
  /** spotDL's `--bitrate`: e.g. "128k", "320k", or "auto" / "disable"; the users' default. */
  bitrate: bitrate.default("128k"),
  /** spotDL's `--threads`: songs downloaded at once per job. */
  threads: z.number().int().min(1).max(16).default(4),
  /**
   * Songs any earlier download has (same track, format and bitrate) are re-used, not downloaded
   * again, whoever asked and in whichever list (spotDL only; not with `{list-…}` in file names).
   */
  share_songs: z.boolean().default(true),
});

const settingsSchema = z.strictObject({
  /** The formats users may choose in `/settings` (must hold `downloader.audio_format`). */
  formats: z.array(audioFormat).min(1).default(["mp3", "m4a", "opus", "flac"]),
  /** The bitrates users may choose (must hold `downloader.bitrate`). */
  bitrates: z.array(bitrate).min(1).default(["128k", "192k", "256k", "320k", "auto"]),
  /** Whether the tracks of albums and playlists are also sent as audio, for users who chose none. */
  lists_as_audio: z.boolean().default(false),
});

const librarySchema = z.strictObject({
  /**
   * A music library to place every finished track in too (hard links when possible):
   * `<dir>/<album artist>/<album>/<nn - title>.<ext>`, never overwriting a different file.
   */
  dir: z.string().min(1).optional(),
  /** A Subsonic server (Navidrome, Airsonic, Gonic) to ask for a rescan after each placement. */
  subsonic_url: z.url({ protocol: /^https?$/ }).optional(),
  subsonic_user: z.string().min(1).optional(),
  /** Secret: prefer DLBOT_SUBSONIC_PASSWORD(_FILE) or the systemd credential subsonic_password. */
  subsonic_password: z.string().min(1).optional(),
});

const jobsSchema = z.strictObject({
  /** Downloads running at once across the whole bot. */
  max_concurrent: z.number().int().min(1).max(1000).default(2),
  /** Queued plus running jobs one user may have. */
  max_active_per_user: z.number().int().min(1).max(1000).default(3),
  /** Queued jobs in total; beyond this new downloads get a "busy, try later" answer. */
  max_queue_length: z.number().int().min(1).max(100_000).default(100),
  /** Attempts per job (a crash or restart mid-run uses one). */
  max_attempts: z.number().int().min(1).max(10).default(2),
  /** How long a worker's claim on a job lasts without renewal. */
  lease_seconds: z.number().int().min(5).max(3600).default(30),
  /** A succeeded job for the same link is reused for this long instead of downloading again. */
  dedupe_hours: z.number().min(0).default(24),
  /** Finished jobs and their files are deleted after this long. */
  retention_days: z.number().positive().default(7),
  /**
   * A list with more songs than this stops before downloading and asks the user to confirm
   * (a button); 0 disables the check.
   */
  confirm_above_tracks: z.number().int().min(0).default(100),
  /**
   * Users whose turns in the queue come more often, by user id: weight 2 gets two turns for
   * everyone else's one (default 1 each).
   */
  user_weights: z.record(
    z.string().regex(/^\d{1,15}$/, { message: "keys must be user ids" }),
    z.number().min(1).max(100),
  )
    .default({}),
});

const rateLimitSchema = z.strictObject({
  /** Commands per user: bucket size and refill. */
  commands_capacity: z.number().int().min(1).default(20),
  commands_per_minute: z.number().positive().default(30),
  /** New downloads per user: bucket size and refill. */
  downloads_capacity: z.number().int().min(1).default(5),
  downloads_per_hour: z.number().positive().default(30),
  /** Refusals one outsider gets per day (each shows their id); everything else is ignored. */
  outsider_refusals_per_day: z.number().int().min(1).max(100).default(1),
  /**
   * With this many replies waiting to go out (30 leave a second: 150 is 5 s; progress edits go
   * after replies and do not count), a new command is not run:
   * its user hears "busy, try again in a minute" (once a minute), and updates keep being read.
   * 0 turns it off.
   */
  busy_backlog: z.number().int().min(0).max(100_000).default(150),
});

const linksSchema = z.strictObject({
  /** Where `spotify.link/…` short links are resolved (tests point it at a local server). */
  short_link_base: z.url({ protocol: /^https?$/ }).default("https://spotify.link"),
  /** Links taken from one message; each becomes a job. */
  max_per_message: z.number().int().min(1).max(20).default(5),
});

const logSchema = z.strictObject({
  level: z.enum(["debug", "info", "warning", "error"]).default("info"),
  /** "auto": readable text on a TTY, JSON lines otherwise. */
  format: z.enum(["auto", "json", "text"]).default("auto"),
});

const shutdownSchema = z.strictObject({
  /** How long running jobs may finish after SIGTERM before they are stopped and re-queued. */
  grace_seconds: z.number().min(0).max(3600).default(20),
});

const sandboxSchema = z.strictObject({
  /** The user id the terminal chat speaks as (added to the whitelist in sandbox mode). */
  user_id: userId.default(10_000),
});

/** The whole configuration file, after environment overrides. */
export const configSchema = z.strictObject({
  telegram: telegramSchema.prefault({}),
  http: httpSchema.prefault({}),
  storage: storageSchema.prefault({}),
  downloader: downloaderSchema.prefault({}),
  jobs: jobsSchema.prefault({}),
  settings: settingsSchema.prefault({}),
  library: librarySchema.prefault({}),
  rate_limit: rateLimitSchema.prefault({}),
  links: linksSchema.prefault({}),
  log: logSchema.prefault({}),
  shutdown: shutdownSchema.prefault({}),
  sandbox: sandboxSchema.prefault({}),
}).superRefine((c, ctx) => {
  if (!c.settings.formats.includes(c.downloader.audio_format)) {
    ctx.addIssue({
      code: "custom",
      path: ["settings", "formats"],
      message: `must include downloader.audio_format ("${c.downloader.audio_format}"), the default`,
    });
  }
  if (!c.settings.bitrates.includes(c.downloader.bitrate)) {
    ctx.addIssue({
      code: "custom",
      path: ["settings", "bitrates"],
      message: `must include downloader.bitrate ("${c.downloader.bitrate}"), the default`,
    });
  }
  if (c.library.subsonic_url && !(c.library.subsonic_user && c.library.subsonic_password)) {
    ctx.addIssue({
      code: "custom",
      path: ["library", "subsonic_user"],
      message: "library.subsonic_user and library.subsonic_password are needed with subsonic_url",
    });
  }
  if (c.storage.kv_path !== undefined && isKvConnectUrl(c.storage.kv_path)) {
    if (!c.storage.kv_access_token) {
      ctx.addIssue({
        code: "custom",
        path: ["storage", "kv_access_token"],
        message: "is required with a denokv URL in storage.kv_path",
      });
    }
  }
  if (c.telegram.mode === "webhook") {
    if (!c.telegram.webhook.url) {
      ctx.addIssue({
        code: "custom",
        path: ["telegram", "webhook", "url"],
        message: 'is required when telegram.mode is "webhook"',
      });
    }
    if (!c.telegram.webhook.secret_token) {
      ctx.addIssue({
        code: "custom",
        path: ["telegram", "webhook", "secret_token"],
        message: 'is required when telegram.mode is "webhook"',
      });
    }
  }
}, {
  // Run even when other sections have problems, so every problem is reported at once; skip
  // only when [telegram] itself (or the whole document) is malformed.
  when: (payload) =>
    !payload.issues.some((issue) =>
      issue.code !== "unrecognized_keys" &&
      ((issue.path ?? []).length === 0 || issue.path?.[0] === "telegram")
    ),
});

/** Validated configuration. */
export type Config = z.infer<typeof configSchema>;
/** Configuration as written (before defaults). */
export type ConfigInput = z.input<typeof configSchema>;
