/**
 * Telling the bot's admins (`telegram.admin_user_ids`) about problems of the server, in a direct
 * message: at most one per kind per hour, across restarts and instances (the last one is
 * remembered in KV). The users' messages say the admin has been told; this makes it true.
 *
 * @module
 */
import { escapeHtml } from "../chat/format.ts";
import { adminAlertKey } from "../kv/keys.ts";
import type { Log } from "../log/logger.ts";
import { errorText } from "../runtime/error_text.ts";

/** Kinds of alerts; each is sent at most once per hour. */
export type AlertKind =
  | "downloader_missing"
  | "downloader_failing"
  | "spotify_pause"
  | "telegram_outage"
  | "disk_low"
  | "library";

/** The part of the Bot API the alerts use. */
export interface AlertApi {
  sendMessage(chatId: number, text: string): Promise<unknown>;
}

/** What {@linkcode AdminAlerts} needs. */
export interface AdminAlertsDeps {
  kv: Deno.Kv;
  api: AlertApi;
  adminIds: readonly number[];
  logger: Log;
  /** Quiet time per kind after an alert; default one hour. */
  quietMs?: number;
}

/** Sends alerts to the admins. */
export class AdminAlerts {
  readonly #deps: AdminAlertsDeps;

  constructor(deps: AdminAlertsDeps) {
    this.#deps = deps;
  }

  /**
   * Tells every admin `text` (plain, escaped here), unless an alert of this kind went out in the
   * last hour. Never throws; returns whether it was sent.
   */
  async alert(kind: AlertKind, text: string): Promise<boolean> {
    const { kv, adminIds, logger } = this.#deps;
    if (adminIds.length === 0) return false;
    try {
      const quietMs = this.#deps.quietMs ?? 3_600_000;
      const claimed = await kv.atomic()
        .check({ key: adminAlertKey(kind), versionstamp: null })
        .set(adminAlertKey(kind), { at: Date.now() }, { expireIn: quietMs })
        .commit();
      if (!claimed.ok) return false;
      let told = 0;
      for (const adminId of adminIds) {
        try {
          await this.#deps.api.sendMessage(adminId, `⚠️ <b>dlbot</b>: ${escapeHtml(text)}`);
          told++;
        } catch (error) {
          // Telegram lets a bot write only to people who have started it.
          logger.warn("could not tell an admin (has the admin sent /start?)", {
            kind,
            admin_id: adminId,
            error: errorText(error),
          });
        }
      }
      // Nobody heard it: the next alert of this kind may try again.
      if (told === 0) await kv.delete(adminAlertKey(kind));
      else logger.info("admins told", { kind, admins: told });
      return told > 0;
    } catch (error) {
      logger.warn("could not tell the admins", { kind, error: errorText(error) });
      return false;
    }
  }
}
