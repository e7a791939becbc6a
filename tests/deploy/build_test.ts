/**
 * scripts/build.sh: refuses clearly without a usable denort, and with one builds
 * dist-style dlbot-<version>-<target> plus its .sha256, embedding exactly the permissions from
 * scripts/permissions.txt.
 *
 * No real denort can be obtained here (no npm package ships it and Deno's release server is out
 * of reach), so the successful build uses a stand-in base executable (a copy of /bin/true):
 * deno compile appends the program and its metadata to whatever base it is given, which is
 * enough to check the script's type check, flags, naming and checksum. Running the result as
 * dlbot needs the real denort (docs/release.md).
 */
import assert from "node:assert/strict";
import { VERSION } from "../../src/version.ts";

const root = new URL("../../", import.meta.url).pathname;
const buildScript = `${root}scripts/build.sh`;
const hostTarget = Deno.build.target;

interface BuildResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function runBuild(args: string[], env: Record<string, string>): Promise<BuildResult> {
  const output = await new Deno.Command("bash", {
    args: [buildScript, ...args],
    cwd: root,
    env,
    clearEnv: true,
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** A minimal environment: the running Deno on PATH, a private HOME/DENO_DIR, no DENORT_BIN. */
function isolatedEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  const denoDir = Deno.execPath().replace(/\/[^/]+$/, "");
  return {
    PATH: `${denoDir}:/usr/local/bin:/usr/bin:/bin`,
    HOME: home,
    DENO_DIR: `${home}/deno_dir`,
    // Any attempt to download denort would go to a closed port instead of the internet.
    HTTPS_PROXY: "http://127.0.0.1:9",
    HTTP_PROXY: "http://127.0.0.1:9",
    NO_COLOR: "1",
    ...extra,
  };
}

async function listDir(path: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(path)) names.push(entry.name);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names.sort();
}

async function sha256Hex(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("build.sh without DENORT_BIN stops with instructions and downloads nothing", async () => {
  const home = await Deno.makeTempDir({ prefix: "dlbot_build_" });
  try {
    const outDir = `${home}/out`;
    const result = await runBuild(["--out-dir", outDir], isolatedEnv(home));
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /DENORT_BIN is not set/);
    assert.match(result.stderr, /denort/);
    assert.ok(
      result.stderr.includes(`denort-${hostTarget}.zip`),
      `names the release asset:\n${result.stderr}`,
    );
    assert.match(result.stderr, /v2\.9\.6/);
    assert.doesNotMatch(result.stderr + result.stdout, /Download|dl\.deno\.land\/release.*%/);
    assert.deepEqual(await listDir(outDir), []);
    assert.deepEqual(await listDir(`${home}/deno_dir/dl`), []);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("build.sh rejects a DENORT_BIN that is not executable", async () => {
  const home = await Deno.makeTempDir({ prefix: "dlbot_build_" });
  try {
    const denort = `${home}/denort`;
    await Deno.writeTextFile(denort, "not a program");
    await Deno.chmod(denort, 0o644);
    const result = await runBuild(
      ["--out-dir", `${home}/out`],
      isolatedEnv(home, { DENORT_BIN: denort }),
    );
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, new RegExp(`DENORT_BIN=${denort} is not executable`));
    assert.deepEqual(await listDir(`${home}/out`), []);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("build.sh rejects a DENORT_BIN that does not exist", async () => {
  const home = await Deno.makeTempDir({ prefix: "dlbot_build_" });
  try {
    const result = await runBuild(
      ["--out-dir", `${home}/out`],
      isolatedEnv(home, { DENORT_BIN: `${home}/missing/denort` }),
    );
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /missing\/denort does not exist/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("build.sh rejects the full deno CLI passed as DENORT_BIN", async () => {
  const home = await Deno.makeTempDir({ prefix: "dlbot_build_" });
  try {
    const result = await runBuild(
      ["--out-dir", `${home}/out`],
      isolatedEnv(home, { DENORT_BIN: Deno.execPath() }),
    );
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /is the full deno CLI, not denort/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("build.sh rejects an unknown --target before doing any work", async () => {
  const home = await Deno.makeTempDir({ prefix: "dlbot_build_" });
  try {
    const result = await runBuild(["--target", "riscv-toaster"], isolatedEnv(home));
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /unsupported --target 'riscv-toaster'/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

/** The permission flags of scripts/permissions.txt as deno compile's metadata records them. */
async function expectedPermissions(): Promise<Record<string, string[] | null>> {
  const lines = (await Deno.readTextFile(`${root}scripts/permissions.txt`))
    .split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const expected: Record<string, string[] | null> = {};
  for (const kind of ["env", "net", "read", "write", "run", "sys", "ffi"]) {
    expected[`allow_${kind}`] = null;
  }
  for (const line of lines) {
    const match = /^--allow-([a-z]+)(?:=(.*))?$/.exec(line);
    assert.ok(match, `unexpected line in permissions.txt: ${line}`);
    const [, kind, values] = match;
    expected[`allow_${kind}`] = values ? values.split(",") : [];
  }
  return expected;
}

Deno.test({
  name:
    "build.sh writes dlbot-<version>-<target> and its sha256 with exactly the listed permissions",
  async fn() {
    const home = await Deno.makeTempDir({ prefix: "dlbot_build_" });
    try {
      const standIn = `${home}/denort-stand-in`;
      await Deno.copyFile("/bin/true", standIn);
      await Deno.chmod(standIn, 0o755);
      const env = { ...Deno.env.toObject(), DENORT_BIN: standIn, NO_COLOR: "1" };
      const outDir = `${home}/out`;
      const result = await runBuild(["--out-dir", outDir], env);
      assert.equal(result.code, 0, `build failed:\n${result.stdout}\n${result.stderr}`);

      const name = `dlbot-${VERSION}-${hostTarget}`;
      assert.deepEqual(await listDir(outDir), [name, `${name}.sha256`]);
      const binary = `${outDir}/${name}`;
      const sha = await sha256Hex(binary);
      assert.equal(await Deno.readTextFile(`${binary}.sha256`), `${sha}  ${name}\n`);
      assert.match(result.stdout, new RegExp(`built: +${binary}\\n`));
      assert.match(result.stdout, new RegExp(`sha256: ${sha}\\n`));
      assert.match(result.stdout, /== type check\n/);

      const embedded = new TextDecoder("latin1").decode(await Deno.readFile(binary));
      const permissionsJson = /"permissions":(\{[^{}]*\})/.exec(embedded)?.[1];
      assert.ok(permissionsJson, "compile metadata with permissions is embedded");
      const permissions = JSON.parse(permissionsJson) as Record<string, unknown>;
      for (const [key, value] of Object.entries(await expectedPermissions())) {
        assert.deepEqual(permissions[key], value, `${key} in the compiled binary`);
      }
      const features = /"unstable_config":\{[^{}]*"features":(\[[^\]]*\])/.exec(embedded)?.[1];
      assert.ok(features, "unstable features are embedded");
      assert.ok((JSON.parse(features) as string[]).includes("kv"), "--unstable-kv is set");
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  },
});

const realDenort = Deno.env.get("DENORT_BIN");

Deno.test({
  name: "with a real DENORT_BIN the built binary runs --version and check-config",
  // Only where a real denort for this Deno version is available (not on our machines).
  ignore: realDenort === undefined || realDenort === "",
  async fn() {
    const home = await Deno.makeTempDir({ prefix: "dlbot_build_real_" });
    try {
      const outDir = `${home}/out`;
      const result = await runBuild(["--out-dir", outDir], {
        ...Deno.env.toObject(),
        NO_COLOR: "1",
      });
      assert.equal(result.code, 0, `build failed:\n${result.stdout}\n${result.stderr}`);
      const binary = `${outDir}/dlbot-${VERSION}-${hostTarget}`;
      const run = async (args: string[], env: Record<string, string> = {}) => {
        const output = await new Deno.Command(binary, {
          args,
          cwd: home,
          env: { PATH: "/usr/bin:/bin", HOME: home, ...env },
          clearEnv: true,
          stdin: "null",
        }).output();
        const decoder = new TextDecoder();
        return {
          code: output.code,
          out: decoder.decode(output.stdout) + decoder.decode(output.stderr),
        };
      };
      const version = await run(["--version"]);
      assert.equal(version.code, 0, version.out);
      assert.equal(version.out.trim(), VERSION);
      await Deno.writeTextFile(`${home}/bot.toml`, '[downloader]\ncommand = "/bin/true"\n');
      const good = await run(["check-config", "--config", `${home}/bot.toml`], {
        TELEGRAM_BOT_TOKEN: "123456789:AAHfakeTokenForTestsOnly_abcdefghijkl",
        TELEGRAM_ALLOWED_USER_IDS: "42",
      });
      assert.equal(good.code, 0, good.out);
      assert.ok(!good.out.includes("AAHfakeToken"), "the token is not printed");
      await Deno.writeTextFile(`${home}/bad.toml`, "[jobs]\nmax_concurent = 2\n");
      const bad = await run(["check-config", "--config", `${home}/bad.toml`]);
      assert.equal(bad.code, 1, bad.out);
      assert.match(bad.out, /max_concurent/);
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  },
});
