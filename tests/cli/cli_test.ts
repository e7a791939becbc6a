import { assertEquals, assertMatch, assertStringIncludes } from "../_assert.ts";
import { assertCleanOutput, runCli } from "./_spawn.ts";
import { VERSION } from "../../src/version.ts";

const TOKEN = "123456789:AAHfakeTokenForTestsOnly_abcdefghijkl";

Deno.test("--version prints the version and exits 0", async () => {
  const run = await runCli(["--version"]);
  assertEquals(run.code, 0);
  assertEquals(run.stdout.trim(), VERSION);
  assertCleanOutput(run);
});

Deno.test("--help lists the commands; each command has its own --help", async () => {
  const run = await runCli(["--help"]);
  assertEquals(run.code, 0);
  for (const name of ["run", "check-config", "healthcheck"]) assertStringIncludes(run.stdout, name);
  const sub = await runCli(["check-config", "--help"]);
  assertEquals(sub.code, 0);
  assertStringIncludes(sub.stdout, "--json");
  assertStringIncludes(sub.stdout, "TELEGRAM_BOT_TOKEN");
  assertCleanOutput(sub);
});

Deno.test("an unknown command is a usage error with exit code 2", async () => {
  const run = await runCli(["frobnicate"]);
  assertEquals(run.code, 2);
  assertStringIncludes(run.stderr, "unknown command");
});

Deno.test("check-config on a broken file prints every problem and exits 1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/bot.toml`,
      [
        "[telegram]",
        "alowed_user_ids = [1]",
        'api_root = "not a url"',
        "",
        "[jobs]",
        "max_concurrent = 0",
      ].join("\n"),
    );
    const run = await runCli(["check-config", "--config", `${dir}/bot.toml`], {
      env: { TELEGRAM_BOT_TOKEN: TOKEN },
    });
    assertEquals(run.code, 1);
    assertStringIncludes(run.stderr, "telegram.alowed_user_ids");
    assertStringIncludes(run.stderr, "allowed_user_ids");
    assertStringIncludes(run.stderr, "telegram.api_root");
    assertStringIncludes(run.stderr, "jobs.max_concurrent");
    assertMatch(run.stderr, /bot\.toml:6/);
    assertCleanOutput(run);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("check-config on a good config exits 0, prints a summary and never the token", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/bot.toml`, '[downloader]\ncommand = "/bin/true"\n');
    const run = await runCli(["check-config", "--config", `${dir}/bot.toml`], {
      env: { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_ALLOWED_USER_IDS: "42, 43" },
    });
    assertEquals(run.code, 0, run.stderr);
    assertEquals((run.stdout + run.stderr).includes(TOKEN), false);
    assertEquals((run.stdout + run.stderr).includes(TOKEN.split(":")[1]!), false);
    const json = await runCli(["check-config", "--json", "--config", `${dir}/bot.toml`], {
      env: { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_ALLOWED_USER_IDS: "42 43" },
    });
    assertEquals(json.code, 0, json.stderr);
    assertEquals(json.stdout.includes(TOKEN), false);
    JSON.parse(json.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("check-config fails with a hint when the token or the downloader is missing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const run = await runCli(["check-config"], {
      cwd: dir,
      env: { DLBOT_DOWNLOADER_COMMAND: "definitely-not-installed-dl" },
    });
    assertEquals(run.code, 1);
    assertStringIncludes(run.stderr, "telegram.token");
    assertStringIncludes(run.stderr, "TELEGRAM_BOT_TOKEN");
    assertStringIncludes(run.stderr, "definitely-not-installed-dl");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("run without a token and without a terminal refuses with a hint instead of hanging", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const run = await runCli(["run"], { cwd: dir });
    assertEquals(run.code, 1);
    assertStringIncludes(run.stderr, "TELEGRAM_BOT_TOKEN");
    assertStringIncludes(run.stderr, "--sandbox");
    assertCleanOutput(run);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A directory with a stub `spotdl` printing `version` for --version, and maybe an `ffmpeg`. */
async function stubBin(dir: string, version: string, withFfmpeg: boolean): Promise<string> {
  const bin = `${dir}/bin`;
  await Deno.mkdir(bin);
  await Deno.writeTextFile(`${bin}/spotdl`, `#!/bin/sh\necho "${version}"\n`, { mode: 0o755 });
  if (withFfmpeg) await Deno.writeTextFile(`${bin}/ffmpeg`, "#!/bin/sh\n", { mode: 0o755 });
  return bin;
}

Deno.test("check-config fails when spotDL's ffmpeg is missing, and warns about an old spotDL", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const env = {
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_ALLOWED_USER_IDS: "42",
      PUBLIC_BASE_URL: "https://dl.example.test",
    };
    const noFfmpeg = await stubBin(`${dir}`, "4.6.0", false);
    const missing = await runCli(["check-config"], {
      cwd: dir,
      // Only the stubs on PATH: a system ffmpeg cannot be found.
      env: { ...env, PATH: noFfmpeg, DLBOT_DOWNLOADER_COMMAND: `${noFfmpeg}/spotdl` },
    });
    assertEquals(missing.code, 1, missing.stderr);
    assertStringIncludes(missing.stderr, "ffmpeg was not found on PATH");
    assertStringIncludes(missing.stderr, "apt install ffmpeg");

    await Deno.remove(noFfmpeg, { recursive: true });
    const bin = await stubBin(dir, "4.4.3", true);
    const old = await runCli(["check-config"], {
      cwd: dir,
      env: { ...env, PATH: bin, DLBOT_DOWNLOADER_COMMAND: `${bin}/spotdl` },
    });
    assertEquals(old.code, 0, old.stderr);
    assertStringIncludes(old.stderr, "warning: spotDL 4.4.3 is older than 4.6.0");

    await Deno.writeTextFile(`${bin}/spotdl`, '#!/bin/sh\necho "4.6.0"\n', { mode: 0o755 });
    const current = await runCli(["check-config"], {
      cwd: dir,
      env: { ...env, PATH: bin, DLBOT_DOWNLOADER_COMMAND: `${bin}/spotdl` },
    });
    assertEquals(current.code, 0, current.stderr);
    assertEquals(current.stderr.includes("warning:"), false, current.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** `dlbot run` with a token against a dead API root (start-up must fail before it matters). */
async function runWith(dir: string, env: Record<string, string> = {}) {
  return await runCli(["run"], {
    cwd: dir,
    env: {
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_ALLOWED_USER_IDS: "42",
      TELEGRAM_API_ROOT: "http://127.0.0.1:9",
      DLBOT_DATA_DIR: `${dir}/data`,
      DLBOT_HTTP_LISTEN: "127.0.0.1:0",
      DLBOT_DOWNLOADER_COMMAND: "/bin/true",
      ...env,
    },
  });
}

/** One line naming `what`, exit 1, no stack trace. */
function assertOneLineFailure(run: { code: number; stderr: string }, what: string): void {
  assertEquals(run.code, 1, run.stderr);
  assertStringIncludes(run.stderr, what);
  assertEquals(/^\s+at /m.test(run.stderr), false, `no stack trace:\n${run.stderr}`);
  assertEquals(run.stderr.includes("Uncaught"), false, run.stderr);
}

Deno.test("a KV store that is a directory or damaged stops start-up with one clear line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/data/dlbot.kv`, { recursive: true });
    const directory = await runWith(dir);
    assertOneLineFailure(directory, `cannot open the KV store at ${dir}/data/dlbot.kv`);

    await Deno.remove(`${dir}/data/dlbot.kv`);
    await Deno.writeTextFile(`${dir}/data/dlbot.kv`, "this is not sqlite ".repeat(500));
    const damaged = await runWith(dir);
    assertOneLineFailure(damaged, "cannot open the KV store");
    assertStringIncludes(damaged.stderr, "move it aside");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a listen port in use stops start-up with one line naming the address", async () => {
  const dir = await Deno.makeTempDir();
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const address = `127.0.0.1:${busy.addr.port}`;
    const run = await runWith(dir, { DLBOT_HTTP_LISTEN: address });
    assertOneLineFailure(run, `cannot listen on ${address}`);
    assertStringIncludes(run.stderr, "another process uses this port");
  } finally {
    busy.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("check-config rejects a listen port above 65535", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const run = await runCli(["check-config"], {
      cwd: dir,
      env: {
        TELEGRAM_BOT_TOKEN: TOKEN,
        TELEGRAM_ALLOWED_USER_IDS: "42",
        DLBOT_HTTP_LISTEN: "127.0.0.1:99999",
        DLBOT_DOWNLOADER_COMMAND: "/bin/true",
      },
    });
    assertEquals(run.code, 1);
    assertStringIncludes(run.stderr, "http.listen");
    assertStringIncludes(run.stderr, "port above 65535");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("check-config passes an empty allowlist and an unset PUBLIC_BASE_URL with warnings", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const run = await runCli(["check-config"], {
      cwd: dir,
      env: { TELEGRAM_BOT_TOKEN: TOKEN, DLBOT_DOWNLOADER_COMMAND: "/bin/true" },
    });
    assertEquals(run.code, 0, run.stderr);
    assertStringIncludes(run.stderr, "warning: telegram.allowed_user_ids is empty");
    assertStringIncludes(run.stderr, "warning: PUBLIC_BASE_URL (http.public_base_url) is not set");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
