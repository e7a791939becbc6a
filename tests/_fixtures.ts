/**
 * Test fixtures in one place: jobs, users, links, the scripted downloaders, and the environment
 * a child `dlbot` process gets.
 *
 * @module
 */
import type { z } from "zod";
import { type Job, jobResultSchema, jobSchema } from "../src/jobs/model.ts";
import type { Requester } from "../src/jobs/service.ts";
import type { AppLogger } from "../src/log/logger.ts";

/** The repository root, ending in "/". */
const ROOT = new URL("../", import.meta.url).pathname;

/** A fixed instant tests render ages and timestamps from. */
export const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

/** Overrides for {@linkcode makeJob}: any job field, progress fields one by one. */
export type JobInput = Omit<Partial<Job>, "progress" | "result"> & {
  progress?: Partial<Job["progress"]>;
  result?: z.input<typeof jobResultSchema>;
};

/** A valid job (a queued playlist of user 1 in chat 10, created at {@linkcode T0}) with overrides. */
export function makeJob(overrides: JobInput = {}): Job {
  return jobSchema.parse({
    id: "abc123",
    userId: 1,
    chatId: 10,
    url: "https://open.spotify.com/playlist/4aawyAB9vmqN3uQ7FjRGTy",
    kind: "playlist",
    state: "queued",
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  });
}

/** A whitelisted user, as Telegram describes them. */
export const ALICE = { id: 1001, first_name: "Alice", username: "alice" };
/** Another whitelisted user. */
export const BOB = { id: 1002, first_name: "Bob" };
/** An admin. */
export const ADMIN = { id: 1003, first_name: "Ada" };
/** Someone not on the whitelist. */
export const MALLORY = { id: 6666, first_name: "Mallory" };

/** {@linkcode ALICE} as the job layer sees her. */
export const ALICE_REQUESTER: Requester = { userId: ALICE.id, isAdmin: false };

/** A playlist link. */
export const PLAYLIST = "https://open.spotify.com/playlist/37i9dQZF1DXcBWIGoYBM5M";
/** A track link. */
export const TRACK = "https://open.spotify.com/track/4cOdK2wGLETKBW3PvgPWqT";

/** The scripted spotDL (prints what spotDL prints; see its header for the modes). */
export const FAKE_SPOTDL = `${ROOT}tests/fixtures/fake_spotdl`;
/** The scripted ffmpeg of cover extraction (a JPEG when the song has the fake cover marker). */
export const FAKE_FFMPEG = `${ROOT}tests/fixtures/fake_ffmpeg`;
/** The scripted downloader speaking the JSON-lines protocol. */
export const FAKE_JSONL_DOWNLOADER = `${ROOT}tests/fixtures/fake_jsonl_downloader`;

/**
 * The environment of a child process started with `clearEnv`: PATH, HOME and DENO_DIR from this
 * process (so Deno finds its cache), no colours, and `extra` on top.
 */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const denoDir = Deno.env.get("DENO_DIR");
  return {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/tmp",
    ...(denoDir ? { DENO_DIR: denoDir } : {}),
    NO_COLOR: "1",
    ...extra,
  };
}

/** One line an {@linkcode recordingLogger} kept. */
export interface LogRecord {
  level: string;
  message: string;
  props: Record<string, unknown>;
}

/** An app logger that keeps every line (with the fields bound by `with`). */
export function recordingLogger(): { logger: AppLogger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const make = (bound: Record<string, unknown>): AppLogger => {
    const log = (level: string) => (message: string, props: Record<string, unknown> = {}) => {
      records.push({ level, message, props: { ...bound, ...props } });
    };
    return {
      debug: log("debug"),
      info: log("info"),
      warn: log("warn"),
      error: log("error"),
      with: (props) => make({ ...bound, ...props }),
    };
  };
  return { logger: make({}), records };
}
