import { assertEquals } from "../_assert.ts";
import { LineSplitter, MAX_LINE_LENGTH, readLines } from "../../src/downloader/lines.ts";

Deno.test("LineSplitter ends lines at \\n, \\r\\n and a lone \\r, across chunk borders", () => {
  const splitter = new LineSplitter();
  const lines = [
    ...splitter.push("one\ntwo\r"),
    ...splitter.push("\nthree\rfo"),
    ...splitter.push("ur\r\n\nfive"),
    ...splitter.flush(),
  ];
  assertEquals(lines, ["one", "two", "three", "four", "", "five"]);
});

Deno.test("LineSplitter cuts an endless line into bounded pieces", () => {
  const splitter = new LineSplitter();
  const lines = splitter.push("x".repeat(MAX_LINE_LENGTH * 2 + 5));
  assertEquals(lines.map((l) => l.length), [MAX_LINE_LENGTH, MAX_LINE_LENGTH]);
  assertEquals(splitter.flush(), ["xxxxx"]);
});

Deno.test("readLines decodes UTF-8 split across chunks", async () => {
  const bytes = new TextEncoder().encode("Beyoncé – Halo\nÍdolo");
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes.slice(0, 6));
      controller.enqueue(bytes.slice(6, 19));
      controller.enqueue(bytes.slice(19));
      controller.close();
    },
  });
  const lines: string[] = [];
  await readLines(stream, (line) => lines.push(line));
  assertEquals(lines, ["Beyoncé – Halo", "Ídolo"]);
});
