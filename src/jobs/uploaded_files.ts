/**
 * Telegram's file ids of uploaded job files, in KV (see `UploadedFiles`).
 *
 * @module
 */
import { z } from "zod";
import { uploadedFileKey, uploadedSongKey } from "../kv/keys.ts";
import type { UploadedFile, UploadedFiles } from "./service.ts";

const entrySchema = z.object({ fileId: z.string().min(1).max(200) });

/** The file ids in KV; each expires with the retention of finished jobs. */
export class KvUploadedFiles implements UploadedFiles {
  readonly #kv: Deno.Kv;
  readonly #retentionMs: number;

  constructor(kv: Deno.Kv, retentionMs: number) {
    this.#kv = kv;
    this.#retentionMs = retentionMs;
  }

  async get(jobId: string, file: UploadedFile): Promise<string | undefined> {
    const entry = await this.#kv.get(keyOf(jobId, file));
    const parsed = entrySchema.safeParse(entry.value);
    return parsed.success ? parsed.data.fileId : undefined;
  }

  async set(jobId: string, file: UploadedFile, fileId: string): Promise<void> {
    if (fileId.length > 200) return;
    await this.#kv.set(keyOf(jobId, file), { fileId }, { expireIn: this.#retentionMs });
  }
}

function keyOf(jobId: string, file: UploadedFile): Deno.KvKey {
  return file.songKey === undefined
    ? uploadedFileKey(jobId, file.name)
    : uploadedSongKey(file.songKey);
}
