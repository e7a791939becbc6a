/**
 * Splitting a byte stream into lines the way a terminal would show them: `\n`, `\r\n` and a lone
 * `\r` (progress redraws) all end a line.
 *
 * @module
 */

/** A line longer than this is emitted in pieces, so a runaway writer cannot exhaust memory. */
export const MAX_LINE_LENGTH = 64 * 1024;

/** Incremental line splitter; feed chunks, then `flush()` at the end of the stream. */
export class LineSplitter {
  #buffer = "";
  #afterCarriageReturn = false;

  /** Adds a chunk of text; returns the lines it completed. */
  push(chunk: string): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk.charCodeAt(i);
      if (ch === 10 /* \n */) {
        if (this.#afterCarriageReturn && i === start && this.#buffer === "") {
          // Second half of a "\r\n" pair: the line already ended at "\r".
          start = i + 1;
          this.#afterCarriageReturn = false;
          continue;
        }
        lines.push(this.#buffer + chunk.slice(start, i));
        this.#buffer = "";
        start = i + 1;
        this.#afterCarriageReturn = false;
      } else if (ch === 13 /* \r */) {
        lines.push(this.#buffer + chunk.slice(start, i));
        this.#buffer = "";
        start = i + 1;
        this.#afterCarriageReturn = true;
      } else {
        this.#afterCarriageReturn = false;
      }
    }
    this.#buffer += chunk.slice(start);
    while (this.#buffer.length > MAX_LINE_LENGTH) {
      lines.push(this.#buffer.slice(0, MAX_LINE_LENGTH));
      this.#buffer = this.#buffer.slice(MAX_LINE_LENGTH);
    }
    return lines;
  }

  /** Returns the unterminated last line, if any. */
  flush(): string[] {
    const rest = this.#buffer;
    this.#buffer = "";
    this.#afterCarriageReturn = false;
    return rest === "" ? [] : [rest];
  }
}

/**
 * Reads a byte stream to its end, calling `onLine` for each line (UTF-8, invalid bytes replaced).
 * Aborting `signal` cancels the stream (for pipes held open by a process that will not exit).
 */
export async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const splitter = new LineSplitter();
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  const cancel = () => {
    reader.cancel().catch(() => {});
  };
  signal?.addEventListener("abort", cancel, { once: true });
  try {
    if (signal?.aborted) {
      await reader.cancel();
      return;
    }
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const line of splitter.push(value)) onLine(line);
    }
    for (const line of splitter.flush()) onLine(line);
  } finally {
    signal?.removeEventListener("abort", cancel);
    reader.releaseLock();
  }
}
