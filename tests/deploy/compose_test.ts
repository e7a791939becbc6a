/**
 * deploy/telegram/docker-compose.yml and dlbot.env.example: parsed with the `yaml` package and
 * checked for what a running deployment depends on. (No Docker engine here: nothing is started.)
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { z } from "zod";
import { configSchema } from "../../src/config/schema.ts";
import { ENV_VARS } from "../../src/config/env.ts";

const root = new URL("../../", import.meta.url).pathname;
const composeDir = `${root}deploy/telegram`;
const TOKEN_PATTERN = /\d{5,}:[A-Za-z0-9_-]{30,}/;

const serviceSchema = z.looseObject({
  build: z.looseObject({ context: z.string(), dockerfile: z.string() }),
  image: z.string(),
  restart: z.string(),
  command: z.array(z.string()),
  env_file: z.array(z.string()),
  environment: z.record(z.string(), z.string()),
  secrets: z.array(z.string()),
  volumes: z.array(z.union([z.string(), z.looseObject({ type: z.string(), target: z.string() })])),
  ports: z.array(z.string()),
  healthcheck: z.looseObject({ test: z.array(z.string()) }),
  stop_grace_period: z.string(),
  read_only: z.boolean(),
  tmpfs: z.array(z.string()),
  security_opt: z.array(z.string()),
  cap_drop: z.array(z.string()),
  logging: z.looseObject({
    driver: z.string(),
    options: z.record(z.string(), z.string()),
  }),
});

const composeSchema = z.looseObject({
  services: z.looseObject({ dlbot: serviceSchema }),
  secrets: z.record(z.string(), z.looseObject({ file: z.string() })),
  volumes: z.record(z.string(), z.unknown()),
});

async function loadCompose() {
  const text = await Deno.readTextFile(`${composeDir}/docker-compose.yml`);
  const compose = composeSchema.parse(parse(text));
  return { text, compose, dlbot: compose.services.dlbot };
}

/** Seconds in a compose duration such as "45s", "1m30s". */
function durationSeconds(value: string): number {
  const match = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(value);
  assert.ok(match && value !== "", `duration ${value}`);
  return Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0);
}

Deno.test("compose builds the dlbot service from the repository's Dockerfile.bot", async () => {
  const { dlbot } = await loadCompose();
  assert.equal(dlbot.build.context, "../..");
  assert.equal(dlbot.build.dockerfile, "Dockerfile.bot");
  const dockerfile = await Deno.stat(`${composeDir}/${dlbot.build.context}/Dockerfile.bot`);
  assert.ok(dockerfile.isFile);
  assert.match(dlbot.image, /^dlbot:/);
  assert.equal(dlbot.restart, "unless-stopped");
  assert.deepEqual(dlbot.command, ["run", "--config", "/etc/dlbot/bot.toml"]);
});

Deno.test("compose reads the token from a secret file, never from inline values", async () => {
  const { text, compose, dlbot } = await loadCompose();
  assert.doesNotMatch(text, TOKEN_PATTERN);
  assert.equal(dlbot.environment.TELEGRAM_BOT_TOKEN, undefined);
  assert.equal(dlbot.environment.TELEGRAM_BOT_TOKEN_FILE, "/run/secrets/telegram_bot_token");
  assert.deepEqual(dlbot.secrets, ["telegram_bot_token"]);
  assert.equal(compose.secrets.telegram_bot_token?.file, "./secrets/telegram_bot_token");
  assert.deepEqual(dlbot.env_file, ["dlbot.env"]);
});

Deno.test("dlbot.env.example sets only known variables and leaves the token out", async () => {
  const known = new Set(ENV_VARS.map((v) => v.name));
  const example = await Deno.readTextFile(`${composeDir}/dlbot.env.example`);
  assert.doesNotMatch(example, TOKEN_PATTERN);
  const names = example.split("\n").filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split("=")[0]!);
  assert.ok(names.includes("TELEGRAM_ALLOWED_USER_IDS"));
  for (const name of names) assert.ok(known.has(name), `${name} is a documented dlbot variable`);
  assert.ok(!names.includes("TELEGRAM_BOT_TOKEN"), "the token belongs in the secret file");
});

Deno.test("compose keeps data in a named volume and mounts the config read-only", async () => {
  const { compose, dlbot } = await loadCompose();
  assert.ok(dlbot.volumes.includes("dlbot-data:/data"));
  assert.ok("dlbot-data" in compose.volumes);
  assert.equal(dlbot.environment.DLBOT_DATA_DIR, "/data");
  const config = dlbot.volumes.find((v) =>
    typeof v !== "string" && v.target === "/etc/dlbot/bot.toml"
  );
  assert.ok(config && typeof config !== "string", "bot.toml is bind-mounted");
  assert.equal(config.read_only, true);
});

Deno.test("compose probes readiness on the port the bot listens on, published on loopback", async () => {
  const { dlbot } = await loadCompose();
  const port = dlbot.environment.DLBOT_HTTP_LISTEN?.split(":").at(-1);
  assert.equal(dlbot.environment.DLBOT_HTTP_LISTEN, "0.0.0.0:8080");
  assert.deepEqual(dlbot.ports, [`127.0.0.1:${port}:${port}`]);
  const test = dlbot.healthcheck.test;
  assert.equal(test[0], "CMD");
  assert.deepEqual(test.slice(1, 3), ["/usr/local/bin/dlbot", "healthcheck"]);
  assert.ok(test.includes(`http://127.0.0.1:${port}/readyz`));
});

Deno.test("compose gives the bot more time to stop than its shutdown grace", async () => {
  const { dlbot } = await loadCompose();
  const defaults = configSchema.parse({});
  const needed = defaults.shutdown.grace_seconds + defaults.downloader.kill_grace_seconds;
  const granted = durationSeconds(dlbot.stop_grace_period);
  assert.ok(granted > needed, `stop_grace_period ${granted}s must exceed ${needed}s`);
});

Deno.test("compose runs the container locked down, with bounded logs", async () => {
  const { dlbot } = await loadCompose();
  assert.equal(dlbot.read_only, true);
  assert.ok(dlbot.tmpfs.some((t) => t.split(":")[0] === "/tmp"), "tmpfs on /tmp");
  assert.ok(dlbot.security_opt.includes("no-new-privileges:true"));
  assert.deepEqual(dlbot.cap_drop, ["ALL"]);
  assert.equal(dlbot.logging.driver, "json-file");
  assert.match(dlbot.logging.options["max-size"] ?? "", /^\d+[kmg]$/);
});

Deno.test("compose's optional worker runs downloads only, on the same volume, locked down the same", async () => {
  const text = await Deno.readTextFile(`${composeDir}/docker-compose.yml`);
  const compose = z.looseObject({
    services: z.looseObject({
      dlbot: serviceSchema,
      worker: serviceSchema.omit({ build: true }).extend({
        ports: z.array(z.string()).optional(),
        profiles: z.array(z.string()),
      }),
    }),
  }).parse(parse(text));
  const { dlbot, worker } = compose.services;
  assert.deepEqual(worker.profiles, ["workers"], "only with --profile workers");
  assert.deepEqual(worker.command, ["run", "--role", "worker", "--config", "/etc/dlbot/bot.toml"]);
  assert.equal(worker.image, dlbot.image);
  assert.ok(worker.volumes.includes("dlbot-data:/data"), "the same data as the bot");
  assert.deepEqual(worker.secrets, dlbot.secrets);
  assert.equal(worker.ports, undefined, "nothing published: the bot serves the files");
  assert.equal(worker.read_only, true);
  assert.deepEqual(worker.cap_drop, dlbot.cap_drop);
  assert.deepEqual(worker.security_opt, dlbot.security_opt);
  assert.equal(worker.stop_grace_period, dlbot.stop_grace_period);
});

Deno.test("compose's optional denokv server keeps its token out of the file and its data in a volume", async () => {
  const text = await Deno.readTextFile(`${composeDir}/docker-compose.yml`);
  const compose = z.looseObject({
    services: z.looseObject({
      denokv: z.looseObject({
        profiles: z.array(z.string()),
        image: z.string(),
        command: z.array(z.string()),
        env_file: z.array(z.string()),
        volumes: z.array(z.string()),
        ports: z.array(z.string()).optional(),
      }),
    }),
    volumes: z.record(z.string(), z.unknown()),
  }).parse(parse(text));
  const { denokv } = compose.services;
  assert.deepEqual(denokv.profiles, ["denokv"], "only with --profile denokv");
  assert.match(denokv.image, /^ghcr\.io\/denoland\/denokv/);
  assert.deepEqual(denokv.command.slice(0, 3), ["--sqlite-path", "/data/denokv.sqlite", "serve"]);
  assert.ok(!denokv.command.includes("--access-token"), "the token comes from kv.env");
  assert.deepEqual(denokv.env_file, ["kv.env"]);
  assert.ok(denokv.volumes.includes("denokv-data:/data"));
  assert.ok("denokv-data" in compose.volumes);
  assert.equal(denokv.ports, undefined, "reached by the other containers, published by choice");
  assert.ok(!/DENO_KV_ACCESS_TOKEN=\w/.test(text), "no token written in the compose file");
});
