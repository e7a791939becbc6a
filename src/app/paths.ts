/**
 * Where the bot keeps its data: the data dir, the KV store and the downloads, from the
 * configuration.
 *
 * @module
 */
import { type Config, isKvConnectUrl } from "../config/schema.ts";

/** Resolved filesystem locations. */
export interface AppPaths {
  dataDir: string;
  kvPath: string;
  downloadsDir: string;
}

/** Resolves data, KV and download paths from the configuration. */
export function resolvePaths(config: Config, kvOverride?: string): AppPaths {
  const dataDir = config.storage.data_dir;
  const join = (dir: string, name: string) => `${dir.replace(/\/+$/, "")}/${name}`;
  return {
    dataDir,
    kvPath: kvOverride ?? config.storage.kv_path ?? join(dataDir, "dlbot.kv"),
    downloadsDir: config.storage.downloads_dir ?? join(dataDir, "downloads"),
  };
}

/** Whether a KV path names no local file (in memory, or a KV Connect URL). */
export function isRemoteOrMemory(kvPath: string): boolean {
  return kvPath === ":memory:" || isKvConnectUrl(kvPath);
}

/** Creates the downloads directory and the KV file's parent directory. */
export async function ensureDirectories(paths: AppPaths): Promise<void> {
  await Deno.mkdir(paths.downloadsDir, { recursive: true });
  if (isRemoteOrMemory(paths.kvPath)) return;
  const parent = paths.kvPath.replace(/\/[^/]*$/, "");
  if (parent && parent !== paths.kvPath) await Deno.mkdir(parent, { recursive: true });
}
