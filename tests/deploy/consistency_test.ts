/**
 * Versions and paths repeated across the deployment files agree, so the docs an admin follows
 * describe what the build and the image really use.
 */
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url).pathname;
const read = (path: string) => Deno.readTextFile(`${root}${path}`);

function only(values: Iterable<string>, what: string): string {
  const unique = [...new Set(values)];
  assert.equal(unique.length, 1, `one ${what} everywhere, found: ${unique.join(", ")}`);
  return unique[0]!;
}

Deno.test("the Deno version is the same in scripts/deno, scripts/build.sh and Dockerfile.bot", async () => {
  const fromWrapper = /^version="([^"]+)"$/m.exec(await read("scripts/deno"))?.[1];
  const fromBuild = /^deno_version_expected="([^"]+)"$/m.exec(await read("scripts/build.sh"))?.[1];
  const fromImage = /^FROM denoland\/deno:(\S+) AS build$/m.exec(await read("Dockerfile.bot"))?.[1];
  assert.ok(fromWrapper && fromBuild && fromImage);
  only([fromWrapper, fromBuild, fromImage], "Deno version");
});

Deno.test("the spotDL version in the docs and the unit matches the image's pin", async () => {
  const pinned = /^ARG SPOTDL_VERSION=(\S+)$/m.exec(await read("Dockerfile.bot"))?.[1];
  assert.ok(pinned, "Dockerfile.bot pins SPOTDL_VERSION");
  const mentions: string[] = [];
  for (const path of ["docs/deploy.md", "systemd/dlbot.service"]) {
    const text = await read(path);
    const found = [...text.matchAll(/spotdl==(\d+\.\d+\.\d+)/g)].map((m) => m[1]!);
    assert.ok(found.length > 0, `${path} says which spotDL to install`);
    mentions.push(...found);
  }
  assert.equal(only(mentions, "spotDL version"), pinned);
  assert.match(await read("docs/deploy.md"), new RegExp(`spotDL ${pinned.replace(/\./g, "\\.")}`));
});

Deno.test("every repository file docs/deploy.md points to exists", async () => {
  const text = await read("docs/deploy.md");
  const paths = [
    ...text.matchAll(
      /`((?:systemd|deploy|config|docs|scripts)\/[A-Za-z0-9_./-]+|Dockerfile\.bot)`/g,
    ),
  ].map((m) => m[1]!);
  assert.ok(paths.length >= 6, `found ${paths.length} paths`);
  for (const path of new Set(paths)) {
    const info = await Deno.stat(`${root}${path}`).catch(() => undefined);
    assert.ok(info, `${path} (named in docs/deploy.md) exists`);
  }
});

Deno.test("the docs' stop timeout matches the unit and the compose file", async () => {
  const unitStop = /^TimeoutStopSec=(\d+)$/m.exec(await read("systemd/dlbot.service"))?.[1];
  const composeStop = /stop_grace_period: (\d+)s/.exec(
    await read("deploy/telegram/docker-compose.yml"),
  )?.[1];
  assert.ok(unitStop && composeStop);
  const seconds = only([unitStop, composeStop], "stop timeout");
  assert.match(await read("docs/deploy.md"), new RegExp(`allows ${seconds} s before SIGKILL`));
});
