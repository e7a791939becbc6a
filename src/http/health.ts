/**
 * Readiness checks behind `/readyz`: the KV store answers, Telegram was reachable recently, and
 * the downloader can run. Liveness (`/healthz`) needs no checks: answering at all is the signal.
 *
 * @module
 */
import { signingSecretKey } from "../kv/keys.ts";
import { errorText } from "../runtime/error_text.ts";

/** The outcome of one check; extra fields are shown as they are in the `/readyz` JSON. */
export interface CheckResult {
  ok: boolean;
  /** Why the check failed, for the operator. */
  message?: string;
  [detail: string]: unknown;
}

/** The combined readiness of the bot. */
export interface Readiness {
  /** True when every check is ok. */
  ready: boolean;
  checks: Record<string, CheckResult>;
}

/** What the HTTP server asks for `/readyz`. */
export interface HealthChecks {
  /** Runs every check (concurrently); never throws. */
  readiness(): Promise<Readiness>;
}

/** Dependencies and tuning of {@linkcode createHealthChecks}. */
export interface HealthCheckDeps {
  kv: Deno.Kv;
  /** Time (ms since the epoch) of the last successful Telegram API call, if any. */
  telegram: { lastSuccessAt(): number | undefined };
  /** Whether the downloader can run (e.g. its executable exists); cached for `downloaderCacheMs`. */
  downloaderCheck: () => Promise<{ ok: boolean; message?: string }>;
  /** Whether the downloads' disk has room (`storage.min_free_mb`); not checked without it. */
  diskCheck?: () => Promise<{ ok: boolean; message?: string }>;
  /** Longest time without a successful Telegram call that still counts as ready; default 2 min. */
  maxTelegramSilenceMs?: number;
  /** How long a downloader check result is reused; default 60 s. */
  downloaderCacheMs?: number;
  /** How long the KV read may take before KV counts as down; default 2 s. */
  kvTimeoutMs?: number;
  /** Current time in ms since the epoch; for tests. */
  now?: () => number;
}

/** Creates the readiness checks. */
export function createHealthChecks(deps: HealthCheckDeps): HealthChecks {
  const now = deps.now ?? Date.now;
  const maxSilenceMs = deps.maxTelegramSilenceMs ?? 120_000;
  const cacheMs = deps.downloaderCacheMs ?? 60_000;
  const kvTimeoutMs = deps.kvTimeoutMs ?? 2_000;

  let cached: { at: number; result: CheckResult } | undefined;
  let inFlight: Promise<CheckResult> | undefined;

  async function checkKv(): Promise<CheckResult> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<CheckResult>((resolve) => {
      timer = setTimeout(
        () => resolve({ ok: false, message: `no answer within ${kvTimeoutMs} ms` }),
        kvTimeoutMs,
      );
    });
    // A cheap point read of a meta key; its value is not looked at.
    const read = deps.kv.get(signingSecretKey()).then(
      (): CheckResult => ({ ok: true }),
      (error: unknown): CheckResult => ({ ok: false, message: errorText(error) }),
    );
    try {
      return await Promise.race([read, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  function checkTelegram(): CheckResult {
    const last = deps.telegram.lastSuccessAt();
    if (last === undefined) {
      return { ok: false, message: "no successful Telegram API call yet" };
    }
    const agoMs = Math.max(0, now() - last);
    const result: CheckResult = {
      ok: agoMs <= maxSilenceMs,
      last_success_seconds_ago: Math.floor(agoMs / 1000),
    };
    if (!result.ok) {
      result.message = `no successful Telegram API call for ${Math.floor(agoMs / 1000)} s`;
    }
    return result;
  }

  function checkDownloader(): Promise<CheckResult> {
    if (cached && now() - cached.at < cacheMs) return Promise.resolve(cached.result);
    inFlight ??= (async () => {
      let result: CheckResult;
      try {
        const { ok, message } = await deps.downloaderCheck();
        result = message === undefined ? { ok } : { ok, message };
      } catch (error) {
        result = { ok: false, message: errorText(error) };
      }
      cached = { at: now(), result };
      return result;
    })().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  return {
    async readiness() {
      const [kv, downloader, disk] = await Promise.all([
        checkKv(),
        checkDownloader(),
        deps.diskCheck?.().catch((error): CheckResult => ({
          ok: false,
          message: errorText(error),
        })),
      ]);
      const checks: Record<string, CheckResult> = { kv, telegram: checkTelegram(), downloader };
      if (disk !== undefined) checks.disk = disk;
      return { ready: Object.values(checks).every((c) => c.ok), checks };
    },
  };
}
