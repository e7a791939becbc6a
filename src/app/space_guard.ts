/**
 * The free-space floor (`storage.min_free_mb`): below it new downloads are refused with "the
 * server is out of space", queued ones wait, `/readyz` says so and the admins are told once; all
 * of it ends by itself once space is freed. Checked at most every ten seconds.
 *
 * @module
 */
import type { Log } from "../log/logger.ts";

/** Free space, as `storage.min_free_mb` judges it. */
export interface SpaceVerdict {
  ok: boolean;
  /** Free bytes, when they could be measured. */
  freeBytes?: number;
}

/** What {@linkcode SpaceGuard} needs. */
export interface SpaceGuardOptions {
  minFreeMb: number;
  /** Free and total bytes of the downloads' disk; undefined when unknown (counts as ok). */
  disk: () => Promise<{ free: number; total: number } | undefined>;
  logger: Log;
  /** Free space went below the floor. */
  onLow?: (freeBytes: number) => void;
  cacheMs?: number;
}

/** Watches the free space of the downloads' disk. */
export class SpaceGuard {
  readonly #options: SpaceGuardOptions;
  #cached?: { at: number; verdict: SpaceVerdict };
  #low = false;

  constructor(options: SpaceGuardOptions) {
    this.#options = options;
  }

  /** The check `/readyz` reports as `disk`: ok, or how much is free against the floor. */
  async readiness(): Promise<{ ok: boolean; message?: string }> {
    const verdict = await this.check();
    if (verdict.ok) return { ok: true };
    return {
      ok: false,
      message: `${Math.floor((verdict.freeBytes ?? 0) / 1_000_000)} MB free, below ` +
        `storage.min_free_mb = ${this.#options.minFreeMb}`,
    };
  }

  /** Whether there is room for downloads now. Never throws. */
  async check(): Promise<SpaceVerdict> {
    const { minFreeMb, logger } = this.#options;
    if (minFreeMb === 0) return { ok: true };
    const cacheMs = this.#options.cacheMs ?? 10_000;
    if (this.#cached && performance.now() - this.#cached.at < cacheMs) return this.#cached.verdict;
    const disk = await this.#options.disk().catch(() => undefined);
    const verdict: SpaceVerdict = disk === undefined
      ? { ok: true }
      : { ok: disk.free >= minFreeMb * 1_000_000, freeBytes: disk.free };
    this.#cached = { at: performance.now(), verdict };
    if (!verdict.ok && !this.#low) {
      this.#low = true;
      logger.warn("the downloads' disk is almost full: new downloads are refused", {
        free_mb: Math.floor((verdict.freeBytes ?? 0) / 1_000_000),
        min_free_mb: minFreeMb,
      });
      this.#options.onLow?.(verdict.freeBytes ?? 0);
    } else if (verdict.ok && this.#low) {
      this.#low = false;
      logger.info("there is room on the downloads' disk again", {
        free_mb: Math.floor((verdict.freeBytes ?? 0) / 1_000_000),
      });
    }
    return verdict;
  }
}
