/**
 * systemd/dlbot.service: the directives an admin relies on (paths, credentials, restart and
 * stop behaviour, hardening), checked by parsing the unit, plus `systemd-analyze verify` when
 * the machine has it.
 */
import assert from "node:assert/strict";
import { configSchema } from "../../src/config/schema.ts";
import { ENV_VARS } from "../../src/config/env.ts";

const root = new URL("../../", import.meta.url).pathname;
const unitPath = `${root}systemd/dlbot.service`;

type Unit = Map<string, Map<string, string[]>>;

/** Parses a unit file: sections of `Key=Value` lines; keys may repeat; `#`/`;` start comments. */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  const lines = text.replace(/\\\n/g, " ").split("\n");
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[([A-Za-z]+)\]$/.exec(line);
    if (header) {
      section = new Map();
      unit.set(header[1]!, section);
      continue;
    }
    const eq = line.indexOf("=");
    assert.ok(section && eq > 0, `line ${index + 1} is neither a section nor Key=Value: ${line}`);
    const key = line.slice(0, eq);
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1)]);
  }
  return unit;
}

async function loadUnit(): Promise<{ text: string; service: Map<string, string[]>; unit: Unit }> {
  const text = await Deno.readTextFile(unitPath);
  const unit = parseUnit(text);
  const service = unit.get("Service");
  assert.ok(service, "has a [Service] section");
  return { text, service, unit };
}

/** The single value of a directive that must appear exactly once. */
function one(service: Map<string, string[]>, key: string): string {
  const values = service.get(key);
  assert.equal(values?.length, 1, `${key}= appears exactly once`);
  return values[0]!;
}

function hasCommand(name: string): boolean {
  return new Deno.Command("sh", { args: ["-c", `command -v ${name}`], stdout: "null" })
    .outputSync().success;
}

Deno.test("the unit runs dlbot from /usr/local/bin with /etc/dlbot/bot.toml, checking it first", async () => {
  const { service } = await loadUnit();
  assert.equal(one(service, "Type"), "simple");
  assert.equal(
    one(service, "ExecStartPre"),
    "/usr/local/bin/dlbot check-config --config /etc/dlbot/bot.toml",
  );
  assert.equal(one(service, "ExecStart"), "/usr/local/bin/dlbot run --config /etc/dlbot/bot.toml");
  assert.equal(one(service, "Restart"), "on-failure");
  assert.equal(one(service, "RestartSec"), "5");
});

Deno.test("the unit keeps state in /var/lib/dlbot under a dynamic user and reads /etc/dlbot", async () => {
  const { service } = await loadUnit();
  assert.equal(one(service, "DynamicUser"), "yes");
  assert.equal(one(service, "StateDirectory"), "dlbot");
  assert.equal(one(service, "ConfigurationDirectory"), "dlbot");
  assert.equal(one(service, "EnvironmentFile"), "-/etc/dlbot/dlbot.env");
  const environment = service.get("Environment") ?? [];
  assert.ok(environment.includes("DLBOT_DATA_DIR=%S/dlbot"), "data dir is the StateDirectory");
  assert.equal(service.get("User"), undefined, "no fixed User= next to DynamicUser=");
});

Deno.test("the unit passes the token and signing secret as systemd credentials", async () => {
  const { service, text } = await loadUnit();
  assert.deepEqual(service.get("LoadCredential"), [
    "telegram_bot_token:/etc/dlbot/telegram_bot_token",
    "signing_secret:/etc/dlbot/signing_secret",
  ]);
  assert.doesNotMatch(text, /\d{5,}:[A-Za-z0-9_-]{30,}/, "no bot token written in the unit");
  assert.ok(
    !(service.get("Environment") ?? []).some((e) => /TOKEN|SECRET/.test(e.split("=")[0]!)),
    "no secret in Environment=",
  );
});

Deno.test("the unit waits longer than the bot's shutdown grace before SIGKILL", async () => {
  const { service } = await loadUnit();
  const defaults = configSchema.parse({});
  const needed = defaults.shutdown.grace_seconds + defaults.downloader.kill_grace_seconds;
  assert.equal(one(service, "KillSignal"), "SIGTERM");
  assert.equal(one(service, "KillMode"), "mixed", "SIGTERM goes to dlbot, not to every child");
  const stop = Number(one(service, "TimeoutStopSec"));
  assert.ok(stop > needed, `TimeoutStopSec=${stop} must exceed ${needed} s`);
});

Deno.test("the unit applies the hardening set and leaves W+X memory allowed for V8", async () => {
  const { service } = await loadUnit();
  const expected: Record<string, string> = {
    ProtectSystem: "strict",
    ProtectHome: "yes",
    PrivateTmp: "yes",
    PrivateDevices: "yes",
    NoNewPrivileges: "yes",
    RestrictAddressFamilies: "AF_INET AF_INET6 AF_UNIX",
    ProtectKernelTunables: "yes",
    ProtectKernelModules: "yes",
    ProtectKernelLogs: "yes",
    ProtectControlGroups: "yes",
    RestrictNamespaces: "yes",
    LockPersonality: "yes",
    RestrictRealtime: "yes",
    RestrictSUIDSGID: "yes",
    SystemCallArchitectures: "native",
    CapabilityBoundingSet: "",
    UMask: "0077",
  };
  for (const [key, value] of Object.entries(expected)) {
    assert.equal(one(service, key), value, `${key}=`);
  }
  assert.equal(service.get("MemoryDenyWriteExecute"), undefined, "V8's JIT needs W+X memory");
});

Deno.test("the unit's PATH reaches spotDL under /opt and python/ffmpeg in /usr/bin", async () => {
  const { service } = await loadUnit();
  const path = (service.get("Environment") ?? []).find((e) => e.startsWith("PATH="));
  assert.ok(path, "Environment=PATH=… is set");
  const dirs = path.slice("PATH=".length).split(":");
  for (const dir of ["/opt/spotdl/bin", "/usr/local/bin", "/usr/bin"]) {
    assert.ok(dirs.includes(dir), `${dir} on PATH`);
  }
  assert.ok(
    dirs.every((d) => !d.startsWith("/home") && !d.startsWith("/root")),
    "ProtectHome hides home dirs",
  );
});

Deno.test("the unit and systemd/dlbot.env.example only set variables dlbot knows", async () => {
  const known = new Set(ENV_VARS.map((v) => v.name));
  const { service } = await loadUnit();
  const fromUnit = (service.get("Environment") ?? []).map((e) => e.split("=")[0]!)
    .filter((name) => /^(DLBOT|TELEGRAM)_|^PUBLIC_BASE_URL$/.test(name));
  const example = await Deno.readTextFile(`${root}systemd/dlbot.env.example`);
  const fromExample = example.split("\n").filter((l) => /^[A-Z_]+=/.test(l))
    .map((l) => l.split("=")[0]!);
  assert.ok(fromExample.length > 0, "the example sets something");
  for (const name of [...fromUnit, ...fromExample]) {
    assert.ok(known.has(name), `${name} is a documented dlbot variable`);
  }
  assert.ok(!fromExample.some((n) => /TOKEN|SECRET$/.test(n)), "no secret in the env file");
});

Deno.test({
  name: "systemd-analyze verify accepts the unit (Exec paths swapped for /bin/true)",
  ignore: !hasCommand("systemd-analyze"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "dlbot_unit_" });
    try {
      // The dlbot binary is not installed here; verify would only report that.
      const text = (await Deno.readTextFile(unitPath))
        .replace(/^ExecStartPre=.*$/m, "ExecStartPre=/bin/true")
        .replace(/^ExecStart=.*$/m, "ExecStart=/bin/true");
      await Deno.writeTextFile(`${dir}/dlbot.service`, text);
      const result = await new Deno.Command("systemd-analyze", {
        args: ["verify", "--man=no", `${dir}/dlbot.service`],
        env: { SYSTEMD_LOG_COLOR: "0" },
      }).output();
      const stderr = new TextDecoder().decode(result.stderr);
      assert.equal(result.code, 0, stderr);
      assert.equal(stderr.trim(), "", "no warnings (unknown keys, bad values)");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "the logrotate snippet parses (logrotate -d)",
  ignore: !hasCommand("logrotate"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "dlbot_logrotate_" });
    try {
      const result = await new Deno.Command("logrotate", {
        args: ["-d", "-s", `${dir}/state`, `${root}systemd/logrotate.dlbot`],
      }).output();
      const stderr = new TextDecoder().decode(result.stderr);
      assert.equal(result.code, 0, stderr);
      assert.doesNotMatch(stderr, /^error:/m);
      assert.match(stderr, /rotating pattern: \/var\/log\/dlbot\/\*\.log/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
