/**
 * Dockerfile.bot and .dockerignore: a structural lint (there is no Docker engine here, so the
 * image is never built in tests), plus hadolint when it is installed.
 */
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url).pathname;
const dockerfilePath = `${root}Dockerfile.bot`;

interface Instruction {
  /** Upper-case keyword, e.g. "FROM". */
  keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  args: string;
  /** Index of the build stage (0 = first FROM). */
  stage: number;
}

/** Splits a Dockerfile into instructions: comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let stage = -1;
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (pending === "" && (line === "" || line.startsWith("#"))) continue;
    if (line.startsWith("#")) continue;
    pending += (pending ? " " : "") + line.replace(/\\$/, "").trim();
    if (line.endsWith("\\")) continue;
    const match = /^([A-Za-z]+)\s+(.*)$/.exec(pending);
    assert.ok(match, `cannot parse instruction: ${pending}`);
    const keyword = match[1]!.toUpperCase();
    if (keyword === "FROM") stage++;
    instructions.push({ keyword, args: match[2]!, stage });
    pending = "";
  }
  assert.equal(pending, "", "no dangling continuation at the end");
  return instructions;
}

async function load() {
  const instructions = parseDockerfile(await Deno.readTextFile(dockerfilePath));
  const froms = instructions.filter((i) => i.keyword === "FROM");
  const finalStage = froms.length - 1;
  const final = instructions.filter((i) => i.stage === finalStage);
  return { instructions, froms, final };
}

function hasCommand(name: string): boolean {
  return new Deno.Command("sh", { args: ["-c", `command -v ${name}`], stdout: "null" })
    .outputSync().success;
}

Deno.test("Dockerfile.bot builds in one stage and runs from another, on pinned base images", async () => {
  const { froms } = await load();
  assert.equal(froms.length, 2);
  assert.match(froms[0]!.args, /^denoland\/deno:2\.9\.6 AS build$/);
  assert.match(froms[1]!.args, /^python:3\.12-slim-bookworm AS runtime$/);
  for (const from of froms) {
    const image = from.args.split(/\s+/)[0]!;
    assert.match(image, /^[^:@\s]+:[^:@\s]+(@sha256:[0-9a-f]{64})?$/, `${image} has a tag`);
    assert.doesNotMatch(image, /:latest\b/, `${image} is not :latest`);
  }
});

Deno.test("the build stage type checks and compiles through scripts/build.sh", async () => {
  const { instructions } = await load();
  const build = instructions.filter((i) => i.stage === 0);
  const runs = build.filter((i) => i.keyword === "RUN").map((i) => i.args);
  assert.ok(runs.some((r) => r.includes("deno install --frozen")));
  assert.ok(
    runs.some((r) => r.includes("bash scripts/build.sh") && r.includes("--output /out/dlbot")),
    "compiles with the release build script (same permission flags)",
  );
  for (const copy of build.filter((i) => i.keyword === "COPY")) {
    const sources = copy.args.split(/\s+/).filter((a) => !a.startsWith("--")).slice(0, -1);
    for (const source of sources) {
      await Deno.stat(`${root}${source}`); // throws NotFound for a path the build would miss
    }
  }
});

Deno.test("the runtime stage runs as a non-root user with a /data volume and a healthcheck", async () => {
  const { final } = await load();
  const users = final.filter((i) => i.keyword === "USER");
  assert.ok(users.length > 0, "final stage sets USER");
  const user = users.at(-1)!.args.split(":")[0]!;
  assert.ok(!["root", "0"].includes(user), `USER ${user} is not root`);
  assert.equal(user, "10001");

  const volume = final.find((i) => i.keyword === "VOLUME");
  assert.ok(volume?.args.includes("/data"), "VOLUME /data");
  assert.ok(final.some((i) => i.keyword === "ENV" && /DLBOT_DATA_DIR=\/data\b/.test(i.args)));
  assert.ok(
    final.some((i) => i.keyword === "ENV" && /DLBOT_HTTP_LISTEN=0\.0\.0\.0:8080\b/.test(i.args)),
  );
  assert.ok(final.some((i) => i.keyword === "EXPOSE" && i.args === "8080"));

  const healthcheck = final.find((i) => i.keyword === "HEALTHCHECK");
  assert.ok(healthcheck, "HEALTHCHECK present");
  assert.match(healthcheck.args, /CMD \["\/usr\/local\/bin\/dlbot", "healthcheck"/);

  const entrypoint = final.find((i) => i.keyword === "ENTRYPOINT");
  assert.ok(entrypoint, "ENTRYPOINT present");
  const argv = JSON.parse(entrypoint.args) as string[];
  assert.equal(argv.at(-1), "/usr/local/bin/dlbot");
  assert.equal(argv[0], "/usr/bin/tini", "an init reaps spotDL/ffmpeg children");
  const cmd = final.find((i) => i.keyword === "CMD");
  assert.deepEqual(JSON.parse(cmd?.args ?? "null"), ["run"]);
});

Deno.test("the runtime stage installs pinned spotDL and ffmpeg without leftovers", async () => {
  const { final } = await load();
  const runs = final.filter((i) => i.keyword === "RUN").map((i) => i.args);
  const apt = runs.find((r) => r.includes("apt-get install"));
  assert.ok(apt, "apt-get install present");
  assert.match(apt, /--no-install-recommends/);
  assert.match(apt, /\bffmpeg\b/);
  assert.match(apt, /rm -rf \/var\/lib\/apt\/lists/);
  const pip = runs.find((r) => r.includes("pip install"));
  assert.ok(pip, "pip install present");
  assert.match(pip, /--no-cache-dir/);
  assert.match(pip, /spotdl==\$\{SPOTDL_VERSION\}/);
  const arg = final.find((i) => i.keyword === "ARG" && i.args.startsWith("SPOTDL_VERSION="));
  assert.match(arg?.args ?? "", /^SPOTDL_VERSION=\d+\.\d+\.\d+$/);
  const [major = 0, minor = 0] = (arg?.args.split("=")[1] ?? "").split(".").map(Number);
  assert.ok(major > 4 || (major === 4 && minor >= 6), "spotDL 4.6.0 or newer (Spotify's 2026 API)");
  const copies = final.filter((i) => i.keyword === "COPY").map((i) => i.args);
  assert.ok(
    copies.some((c) => /\/usr\/local\/bin\/deno$/.test(c)),
    "a JavaScript runtime (Deno) for yt-dlp's YouTube support",
  );
});

Deno.test("no ENV or ARG in Dockerfile.bot carries a token or secret value", async () => {
  const { instructions } = await load();
  for (const i of instructions.filter((i) => i.keyword === "ENV" || i.keyword === "ARG")) {
    for (const pair of i.args.split(/\s+/)) {
      const [name, value] = pair.split("=");
      if (/TOKEN|SECRET|PASSWORD/i.test(name ?? "")) {
        assert.ok(!value, `${i.keyword} ${name} must not hold a value in the image`);
      }
    }
  }
  const text = await Deno.readTextFile(dockerfilePath);
  assert.doesNotMatch(text, /\d{5,}:[A-Za-z0-9_-]{30,}/, "no bot token anywhere");
});

Deno.test(".dockerignore keeps VCS, tools, build output, data, tests and local config out", async () => {
  const patterns = (await Deno.readTextFile(`${root}.dockerignore`)).split("\n")
    .map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
  for (const required of [".git", ".tools", "dist", "data", "tests", "config/bot.toml"]) {
    assert.ok(patterns.includes(required), `${required} is excluded`);
  }
  for (const needed of ["deno.json", "deno.lock", "main.ts", "src", "scripts"]) {
    assert.ok(!patterns.includes(needed), `${needed} must stay in the build context`);
  }
});

Deno.test({
  name: "hadolint finds nothing in Dockerfile.bot",
  ignore: !hasCommand("hadolint"),
  async fn() {
    const result = await new Deno.Command("hadolint", { args: [dockerfilePath] }).output();
    const output = new TextDecoder().decode(result.stdout) +
      new TextDecoder().decode(result.stderr);
    assert.equal(result.code, 0, output);
  },
});
