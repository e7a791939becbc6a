import { assertEquals } from "../_assert.ts";
import { buildArgs, resolveExecutable } from "../../src/downloader/command.ts";
import { DEFAULT_DOWNLOADER_ARGS } from "../../src/config/schema.ts";
import { FAKE_SPOTDL } from "../_fixtures.ts";

Deno.test("buildArgs fills {url} and leaves spotDL's own placeholders; the default output is relative", () => {
  assertEquals(
    buildArgs(DEFAULT_DOWNLOADER_ARGS, {
      url: "https://open.spotify.com/playlist/abc",
      output_dir: "/data/jobs/j1",
    }),
    [
      "download",
      "https://open.spotify.com/playlist/abc",
      "--output",
      "{artists} - {title}.{output-ext}",
    ],
  );
});

Deno.test("buildArgs keeps a hostile value as one argument, untouched", () => {
  const url = "https://x/;rm -rf / $(reboot) `id` && echo 'hi' \"there\"";
  const args = buildArgs(["download", "{url}", "--flag={url}"], { url, output_dir: "/tmp/o" });
  assertEquals(args, ["download", url, `--flag=${url}`]);
});

Deno.test("buildArgs substitutes in one pass: placeholders inside values stay literal", () => {
  assertEquals(
    buildArgs(["{url}", "{output_dir}"], { url: "https://x/{output_dir}", output_dir: "/o/{url}" }),
    ["https://x/{output_dir}", "/o/{url}"],
  );
});

Deno.test("buildArgs treats $ patterns in values literally and repeats placeholders", () => {
  assertEquals(
    buildArgs(["{url}|{url}", "{unknown}", "{ url }"], { url: "a$&b$1", output_dir: "/o" }),
    ["a$&b$1|a$&b$1", "{unknown}", "{ url }"],
  );
});

Deno.test("resolveExecutable finds commands on PATH, checks paths, and rejects the rest", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/bin1`);
    await Deno.mkdir(`${dir}/bin2`);
    await Deno.writeTextFile(`${dir}/bin1/tool`, "not executable\n");
    await Deno.writeTextFile(`${dir}/bin2/tool`, "#!/bin/sh\n");
    await Deno.chmod(`${dir}/bin2/tool`, 0o755);
    await Deno.mkdir(`${dir}/bin2/adir`);
    const path = `${dir}/missing::${dir}/bin1:${dir}/bin2/`;

    assertEquals(await resolveExecutable("tool", path), `${dir}/bin2/tool`);
    assertEquals(await resolveExecutable("adir", path), null);
    assertEquals(await resolveExecutable("nope", path), null);
    assertEquals(await resolveExecutable("tool", undefined), null);
    assertEquals(await resolveExecutable("", path), null);
    assertEquals(await resolveExecutable(`${dir}/bin2/tool`, ""), `${dir}/bin2/tool`);
    assertEquals(await resolveExecutable(`${dir}/bin2/../bin2/./tool`, ""), `${dir}/bin2/tool`);
    assertEquals(await resolveExecutable(`${dir}/bin1/tool`, path), null);
    assertEquals(await resolveExecutable(`${dir}/bin2/nothing`, path), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resolveExecutable resolves a relative path against the working directory", async () => {
  const expected = FAKE_SPOTDL;
  const depth = Deno.cwd().split("/").filter((part) => part !== "").length;
  const relative = "../".repeat(depth) + expected.slice(1);
  assertEquals(await resolveExecutable(relative, ""), expected);
});

Deno.test("buildArgs fills {output_dir} inside an argument", () => {
  assertEquals(
    buildArgs(["--output", "{output_dir}/{title}.mp3"], { url: "u", output_dir: "/d" }),
    [
      "--output",
      "/d/{title}.mp3",
    ],
  );
});
