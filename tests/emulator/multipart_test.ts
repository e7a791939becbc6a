import { assertEquals, assertThrows } from "../_assert.ts";
import { multipartBoundary, MultipartError, parseMultipart } from "../../src/emulator/multipart.ts";

const encoder = new TextEncoder();

function concat(...parts: (string | Uint8Array)[]): Uint8Array {
  const chunks = parts.map((p) => (typeof p === "string" ? encoder.encode(p) : p));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

Deno.test("parseMultipart reads grammY's compact headers and binary file content", () => {
  const bytes = new Uint8Array([0, 13, 10, 45, 45, 255]);
  const body = concat(
    "--XYZ\r\n",
    'content-disposition:form-data;name="chat_id"\r\n\r\n42',
    "\r\n--XYZ\r\n",
    'content-disposition:form-data;name="abc";filename=a b.mp3\r\n',
    "content-type:application/octet-stream\r\n\r\n",
    bytes,
    "\r\n--XYZ--\r\n",
  );
  const parsed = parseMultipart(body, "XYZ");
  assertEquals(parsed.fields, new Map([["chat_id", "42"]]));
  assertEquals(parsed.files, new Map([["abc", { filename: "a b.mp3", bytes }]]));
});

Deno.test("parseMultipart reads what FormData sends", async () => {
  const form = new FormData();
  form.set("caption", "héllo");
  form.set("document", new File([new Uint8Array([1, 2, 3])], "x.bin"));
  const request = new Request("http://localhost/", { method: "POST", body: form });
  const boundary = multipartBoundary(request.headers.get("content-type") ?? "");
  const parsed = parseMultipart(new Uint8Array(await request.arrayBuffer()), boundary ?? "");
  assertEquals(parsed.fields.get("caption"), "héllo");
  assertEquals(parsed.files.get("document"), {
    filename: "x.bin",
    bytes: new Uint8Array([1, 2, 3]),
  });
});

Deno.test("parseMultipart refuses a body without its closing boundary", () => {
  const body = encoder.encode('--XYZ\r\ncontent-disposition: form-data; name="a"\r\n\r\nvalue');
  assertThrows(() => parseMultipart(body, "XYZ"), MultipartError, "closing boundary");
});
