/**
 * Telegram's file ids of uploaded job files, in KV (see `UploadedFiles`).
 *
 * @module
 */
import { z } from "zod";
import { uploadedFileKey } from "../kv/keys.ts";
import type { UploadedFiles } from "./service.ts";

const entrySchema = z.object({ fileId: z.string().min(1).max(200) });

/** The file ids in KV; each expires with the retention of finished jobs. */
export class KvUploadedFiles implements UploadedFiles {
  readonly #kv: Deno.Kv;
  readonly #retentionMs: number;

  constructor(kv: Deno.Kv, retentionMs: number) {
    this.#kv = kv;
    this.#retentionMs = retentionMs;
  }

  async get(jobId: string, fileName: string): Promise<string | undefined> {
    const entry = await this.#kv.get(uploadedFileKey(jobId, fileName));
    const parsed = entrySchema.safeParse(entry.value);
    return parsed.success ? parsed.data.fileId : undefined;
  }

  async set(jobId: string, fileName: string, fileId: string): Promise<void> {
    if (fileId.length > 200) return;
    await this.#kv.set(uploadedFileKey(jobId, fileName), { fileId }, {
      expireIn: this.#retentionMs,
    });
  }
}
