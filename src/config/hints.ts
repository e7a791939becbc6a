/**
 * How to fix a key: hints shown under a problem with that key.
 *
 * @module
 */

/** Per-key hints, shown under a problem with that key. Keys are dotted schema leaf paths. */
export const KEY_HINTS: Readonly<Record<string, string>> = {
  "telegram.token":
    "get it from @BotFather; prefer TELEGRAM_BOT_TOKEN, TELEGRAM_BOT_TOKEN_FILE or systemd LoadCredential=telegram_bot_token over the file",
  "telegram.api_root":
    'an http(s) URL without a path, e.g. "https://api.telegram.org" or a self-hosted Bot API server',
  "telegram.allowed_user_ids":
    "numeric Telegram user ids, e.g. [123456789]; ask the user to send /start to the bot to see their id",
  "telegram.admin_user_ids":
    "numeric Telegram user ids, e.g. [123456789]; admins should also be in allowed_user_ids",
  "telegram.upload_limit_mb":
    "50 for the public Bot API; up to 2000 with a self-hosted Bot API server",
  "telegram.mode":
    '"polling" (no public URL needed) or "webhook" (needs telegram.webhook.url and secret_token)',
  "telegram.webhook.url":
    'the public https URL Telegram posts updates to, e.g. "https://bot.example.org/telegram/webhook" ' +
    "(plain http only for a Bot API server on the same machine: 127.0.0.1 or localhost)",
  "telegram.webhook.secret_token":
    "16-256 characters of A-Z, a-z, 0-9, _ and -; e.g. the output of `openssl rand -hex 32`",
  "http.listen": 'host:port, e.g. "127.0.0.1:8080" or "0.0.0.0:8080" in a container',
  "http.public_base_url":
    'the URL users reach the HTTP server at, e.g. "https://dl.example.org"; used in download links',
  "http.signing_secret":
    "at least 32 random characters, e.g. `openssl rand -hex 32`; or leave unset to generate one",
  "http.link_ttl_hours": "hours a download link stays valid, e.g. 72",
  "storage.data_dir": 'a directory the bot may write to, e.g. "./data" or "/var/lib/dlbot"',
  "storage.kv_path":
    'a file path, ":memory:", or the http(s) URL of a denokv server; unset keeps KV in data_dir',
  "storage.kv_access_token":
    "the denokv server's --access-token: set DENO_KV_ACCESS_TOKEN or DENO_KV_ACCESS_TOKEN_FILE",
  "storage.downloads_dir": "a directory for finished downloads; default <data_dir>/downloads",
  "downloader.command": 'executable name on PATH or absolute path, e.g. "spotdl"',
  "downloader.args":
    'a list of strings; {url} and {output_dir} are replaced, e.g. ["download", "{url}"]',
  "downloader.output_format":
    '"spotdl" for spotDL\'s --simple-tui output, "jsonl" for one JSON object per line',
  "downloader.timeout_minutes": "minutes before a download is stopped, e.g. 60",
  "downloader.kill_grace_seconds": "seconds between SIGTERM and SIGKILL, 0-300",
  "downloader.env": 'a table of strings, e.g. [downloader.env] then SPOTDL_CACHE = "/tmp/cache"',
  "rate_limit.busy_backlog": "messages waiting to go out before commands get 'busy'; 0 disables",
  "downloader.share_songs": "true or false: re-use songs earlier downloads have",
  "jobs.max_concurrent": "a whole number from 1 to 1000 (across every worker)",
  "jobs.max_active_per_user": "a whole number from 1 to 1000",
  "jobs.max_queue_length": "a whole number from 1 to 100000",
  "jobs.max_attempts": "a whole number from 1 to 10",
  "jobs.lease_seconds": "a whole number of seconds from 5 to 3600",
  "jobs.dedupe_hours": "hours a finished download is reused for the same link; 0 disables",
  "jobs.retention_days": "days finished jobs and files are kept, e.g. 7",
  "jobs.confirm_above_tracks":
    "a whole number ≥ 0: lists with more songs than this need the user's confirmation; 0 disables",
  "rate_limit.commands_capacity": "a whole number ≥ 1: commands a user may send in a burst",
  "rate_limit.commands_per_minute": "commands per minute refilled, e.g. 30",
  "rate_limit.downloads_capacity": "a whole number ≥ 1: downloads a user may start in a burst",
  "rate_limit.downloads_per_hour": "downloads per hour refilled, e.g. 30",
  "log.level": '"debug", "info", "warning" or "error"',
  "log.format": '"auto" (text on a terminal, JSON otherwise), "json" or "text"',
  "shutdown.grace_seconds": "seconds running jobs get to finish after SIGTERM, 0-3600",
  "sandbox.user_id": "the numeric user id the terminal chat speaks as, e.g. 10000",
};

/** The hint for a key path or its nearest ancestor (array indexes ignored). */
export function hintFor(path: readonly PropertyKey[]): string | undefined {
  const keys = path.filter((s): s is string => typeof s === "string");
  for (let k = keys.length; k > 0; k--) {
    const hint = KEY_HINTS[keys.slice(0, k).join(".")];
    if (hint !== undefined) return hint;
  }
  return undefined;
}
