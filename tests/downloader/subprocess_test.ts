import { assert, assertEquals, assertStringIncludes } from "../_assert.ts";
import type { DownloaderEvent } from "../../src/downloader/events.ts";
import { inspectOutput } from "../../src/downloader/output_files.ts";
import { spotdlFlags } from "../../src/downloader/factory.ts";
import {
  SubprocessDownloader,
  type SubprocessDownloaderOptions,
} from "../../src/downloader/subprocess.ts";
import type { DownloadOutcome } from "../../src/downloader/types.ts";
import { configSchema, DEFAULT_DOWNLOADER_ARGS } from "../../src/config/schema.ts";
import { exists, waitProcessGone } from "../_test_utils.ts";
import { FAKE_JSONL_DOWNLOADER as FAKE_JSONL, FAKE_SPOTDL } from "../_fixtures.ts";

const PLAYLIST = "https://open.spotify.com/playlist/37i9dQZF1DXcBWIGoYBM5M";

interface RunScene {
  dir: string;
  outputDir: string;
  pidFile: string;
  events: DownloaderEvent[];
  controller: AbortController;
}

async function withRunScene(fn: (h: RunScene) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dlbot_subprocess_" });
  const h: RunScene = {
    dir,
    outputDir: `${dir}/out`,
    pidFile: `${dir}/pids`,
    events: [],
    controller: new AbortController(),
  };
  try {
    await fn(h);
  } finally {
    for (const pid of await readPids(h.pidFile)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // Already gone, as it should be.
      }
    }
    await Deno.remove(dir, { recursive: true });
  }
}

function spotdl(
  h: RunScene,
  env: Record<string, string>,
  overrides: Partial<SubprocessDownloaderOptions> = {},
): SubprocessDownloader {
  return new SubprocessDownloader({
    command: FAKE_SPOTDL,
    args: [...DEFAULT_DOWNLOADER_ARGS, ...spotdlFlags(configSchema.parse({}).downloader)],
    format: "spotdl",
    timeoutMs: 60_000,
    killGraceMs: 5_000,
    env: { FAKE_SPOTDL_DELAY: "0.01", FAKE_SPOTDL_PIDFILE: h.pidFile, ...env },
    ...overrides,
  });
}

function run(
  h: RunScene,
  downloader: SubprocessDownloader,
  url = PLAYLIST,
  onEvent: (event: DownloaderEvent) => void = () => {},
): Promise<DownloadOutcome> {
  return downloader.run({
    url,
    outputDir: h.outputDir,
    signal: h.controller.signal,
    onEvent: (event) => {
      h.events.push(event);
      onEvent(event);
    },
  });
}

async function readPids(pidFile: string): Promise<number[]> {
  try {
    const text = await Deno.readTextFile(pidFile);
    return text.split("\n").filter((line) => line.trim() !== "").map(Number);
  } catch {
    return [];
  }
}

async function assertAllGone(pidFile: string, expectedCount?: number): Promise<void> {
  const pids = await readPids(pidFile);
  assert(pids.length > 0, "no pid recorded");
  if (expectedCount !== undefined) {
    assertEquals(pids.length, expectedCount, `pids recorded: ${pids.join(", ")}`);
  }
  for (const pid of pids) assert(await waitProcessGone(pid), `process ${pid} is still running`);
}

function song(n: "One" | "Two" | "Three"): string {
  return `Artist ${n} - Song ${n}`;
}

function successEvents(n: "One" | "Two" | "Three", k: number, total: number): DownloaderEvent[] {
  const index = { One: 1, Two: 2, Three: 3 }[n];
  return [
    { type: "track", name: song(n), status: "downloading" },
    { type: "track", name: song(n), status: "embedding" },
    { type: "track", name: song(n), status: "done" },
    { type: "complete", completed: k, total },
    {
      type: "downloaded",
      name: song(n),
      sourceUrl: `https://music.youtube.com/watch?v=fake0000${index}`,
    },
  ];
}

Deno.test("run() reports spotDL's events in order and leaves one file per song", async () => {
  await withRunScene(async (h) => {
    const outcome = await run(h, spotdl(h, { FAKE_SPOTDL_TRACKS: "2", FAKE_SPOTDL_BYTES: "4096" }));

    assertEquals(outcome, { kind: "exited", exitCode: 0, stderrTail: [] });
    assertEquals(h.events, [
      { type: "total", total: 2, title: "Fake Playlist", listKind: "Playlist" },
      ...successEvents("One", 1, 2),
      ...successEvents("Two", 2, 2),
    ]);
    assertEquals((await inspectOutput(h.outputDir, { ffprobe: null })).files, [
      {
        name: "Artist One - Song One.mp3",
        size: 4096,
        durationSeconds: 181,
        title: "Artist One - Song One",
      },
      {
        name: "Artist Two - Song Two.mp3",
        size: 4096,
        durationSeconds: 182,
        title: "Artist Two - Song Two",
      },
    ]);
  });
});

Deno.test("the files of a list come in the list's order, from the playlist file spotDL writes", async () => {
  await withRunScene(async (h) => {
    await run(h, spotdl(h, { FAKE_SPOTDL_TRACKS: "4" }));
    const output = await inspectOutput(h.outputDir, { ffprobe: null });
    assertEquals(output.files.map((f) => f.name), [
      "Artist One - Song One.mp3",
      "Artist Two - Song Two.mp3",
      "Artist Three - Song Three.mp3",
      "Artist Four - Song Four.mp3",
    ], "list order, not alphabetical");
    assertEquals(output.totalDurationSeconds, 181 + 182 + 183 + 184);
  });
});

Deno.test("run() passes the URL as a single argument, never through a shell", async () => {
  await withRunScene(async (h) => {
    const argsFile = `${h.dir}/args`;
    const url = "https://open.spotify.com/playlist/x;touch pwned $(touch pwned2)";
    const outcome = await run(
      h,
      spotdl(h, { FAKE_SPOTDL_TRACKS: "1", FAKE_SPOTDL_ARGSFILE: argsFile }),
      url,
    );

    assertEquals(outcome.kind, "exited");
    assertEquals((await Deno.readTextFile(argsFile)).split("\n").slice(0, 17), [
      "download",
      url,
      "--output",
      "{artists} - {title}.{output-ext}",
      "--simple-tui",
      "--log-level",
      "INFO",
      "--print-errors",
      "--m3u",
      "dlbot-order.m3u8",
      "--format",
      "mp3",
      "--bitrate",
      "128k",
      "--threads",
      "4",
      "--",
    ]);
    assertEquals((await Array.fromAsync(Deno.readDir(h.outputDir))).map((e) => e.name).sort(), [
      "Artist One - Song One.mp3",
      "dlbot-order.m3u8",
    ]);
  });
});

Deno.test("run() reports a song that was not found and still exits 0 like spotDL", async () => {
  await withRunScene(async (h) => {
    const outcome = await run(h, spotdl(h, { FAKE_SPOTDL_MODE: "fail_one" }));

    assertEquals(outcome.kind, "exited");
    assert(outcome.kind === "exited");
    assertEquals(outcome.exitCode, 0);
    assertEquals(outcome.stderrTail, [
      "LookupError: No results found for song: Artist Two - Song Two",
      "https://open.spotify.com/track/fake000000000000000002 - LookupError: No results found for song: Artist Two - Song Two",
    ]);
    assertEquals(h.events, [
      { type: "total", total: 3, title: "Fake Playlist", listKind: "Playlist" },
      ...successEvents("One", 1, 3),
      { type: "complete", completed: 2, total: 3 },
      {
        type: "error",
        errorClass: "LookupError",
        message: "No results found for song: Artist Two - Song Two",
        track: "Artist Two - Song Two",
      },
      ...successEvents("Three", 3, 3),
      {
        type: "song_error",
        songUrl: "https://open.spotify.com/track/fake000000000000000002",
        errorClass: "LookupError",
        message: "No results found for song: Artist Two - Song Two",
        track: "Artist Two - Song Two",
      },
    ]);
    assertEquals(
      (await inspectOutput(h.outputDir, { ffprobe: null })).files.map((f) => f.name),
      ["Artist One - Song One.mp3", "Artist Three - Song Three.mp3"],
    );
  });
});

Deno.test("run() reports a crash with its exit code and the traceback for the log", async () => {
  await withRunScene(async (h) => {
    const outcome = await run(h, spotdl(h, { FAKE_SPOTDL_MODE: "crash" }));

    assert(outcome.kind === "exited", `outcome: ${JSON.stringify(outcome)}`);
    assertEquals(outcome.exitCode, 1);
    assertEquals(outcome.stderrTail, ["KeyError: 'tracks'"]);
    assertEquals(h.events.filter((event) => event.type === "fatal"), [
      { type: "fatal", errorClass: "KeyError", message: "'tracks'" },
    ]);
    assertEquals(h.events.filter((event) => event.type === "error"), []);
  });
});

Deno.test("run() stops a hanging download on cancel, with its children, and removes .part files", async () => {
  await withRunScene(async (h) => {
    const outcome = await run(h, spotdl(h, { FAKE_SPOTDL_MODE: "hang" }), PLAYLIST, (event) => {
      if (event.type === "track" && event.status === "downloading") h.controller.abort();
    });

    assertEquals(outcome, { kind: "cancelled", stderrTail: [] });
    await assertAllGone(h.pidFile, 2);
    assertEquals(await Array.fromAsync(Deno.readDir(h.outputDir)), []);
  });
});

Deno.test("run() on cancel also stops a child that left the process group and held the output pipe", async () => {
  await withRunScene(async (h) => {
    const downloader = spotdl(h, { FAKE_SPOTDL_MODE: "hang", FAKE_SPOTDL_SETSID: "1" });
    const outcome = await run(h, downloader, PLAYLIST, (event) => {
      if (event.type === "track" && event.status === "downloading") h.controller.abort();
    });

    assertEquals(outcome.kind, "cancelled");
    await assertAllGone(h.pidFile, 3);
  });
});

Deno.test("run() kills a downloader that ignores SIGTERM once the grace period ends", async () => {
  await withRunScene(async (h) => {
    const downloader = spotdl(h, { FAKE_SPOTDL_MODE: "hang", FAKE_SPOTDL_IGNORE_TERM: "1" }, {
      killGraceMs: 200,
    });
    const outcome = await run(h, downloader, PLAYLIST, (event) => {
      if (event.type === "track" && event.status === "downloading") h.controller.abort();
    });

    assertEquals(outcome.kind, "cancelled");
    await assertAllGone(h.pidFile, 2);
  });
});

Deno.test("run() stops a download that runs past the timeout", async () => {
  await withRunScene(async (h) => {
    const outcome = await run(h, spotdl(h, { FAKE_SPOTDL_MODE: "hang" }, { timeoutMs: 500 }));

    assertEquals(outcome, { kind: "timeout", stderrTail: [] });
    await assertAllGone(h.pidFile);
    assertEquals(await Array.fromAsync(Deno.readDir(h.outputDir)), []);
  });
});

Deno.test("run() surfaces Spotify rate limiting so the caller can stop the waiting spotDL", async () => {
  await withRunScene(async (h) => {
    const outcome = await run(
      h,
      spotdl(h, { FAKE_SPOTDL_MODE: "rate_limit", FAKE_SPOTDL_RETRY_AFTER: "7200" }),
      PLAYLIST,
      (event) => {
        if (event.type === "rate_limit") h.controller.abort();
      },
    );

    assertEquals(outcome, {
      kind: "cancelled",
      stderrTail: [
        "WARNING:root:Your application has reached a rate/request limit. Retry will occur after: 7200",
      ],
    });
    assertEquals(h.events, [
      { type: "total", total: 3, title: "Fake Playlist", listKind: "Playlist" },
      { type: "rate_limit", retryAfterSeconds: 7200 },
    ]);
    await assertAllGone(h.pidFile, 2);
  });
});

Deno.test("run() with an already aborted signal starts nothing", async () => {
  await withRunScene(async (h) => {
    h.controller.abort();
    assertEquals(await run(h, spotdl(h, {})), { kind: "cancelled", stderrTail: [] });
    assertEquals(await readPids(h.pidFile), []);
  });
});

Deno.test("run() reports a missing or non-executable command as missing", async () => {
  await withRunScene(async (h) => {
    const missing = await run(h, spotdl(h, {}, { command: "spotdl", env: { PATH: h.dir } }));
    assert(missing.kind === "missing", JSON.stringify(missing));
    assertStringIncludes(missing.message, "spotdl was not found on PATH");

    await Deno.writeTextFile(`${h.dir}/not-exec`, "#!/bin/sh\n");
    const notExec = await run(h, spotdl(h, {}, { command: `${h.dir}/not-exec` }));
    assert(notExec.kind === "missing", JSON.stringify(notExec));
    assertStringIncludes(notExec.message, "does not exist or is not executable");
  });
});

Deno.test("check() finds the executable or explains how to install spotDL", async () => {
  await withRunScene(async (h) => {
    assertEquals(await spotdl(h, {}).check(), { ok: true, path: FAKE_SPOTDL });

    assertEquals(await spotdl(h, {}, { command: "spotdl", env: { PATH: h.dir } }).check(), {
      ok: false,
      message: "spotdl was not found on PATH",
      hint: "install it with `pipx install spotdl` (and ffmpeg: `spotdl --download-ffmpeg` or " +
        "your package manager), or set downloader.command in config/bot.toml",
    });

    const custom = await spotdl(h, {}, { command: "my-wrapper", env: { PATH: h.dir } }).check();
    assert(!custom.ok);
    assertEquals(custom.message, "my-wrapper was not found on PATH");
    assertStringIncludes(custom.hint, "downloader.command");
  });
});

Deno.test("run() speaks the JSON-lines protocol with a custom command", async () => {
  await withRunScene(async (h) => {
    const downloader = new SubprocessDownloader({
      command: FAKE_JSONL,
      args: ["{url}", "--output-dir", "{output_dir}"],
      format: "jsonl",
      timeoutMs: 60_000,
      killGraceMs: 1_000,
      env: { FAKE_JSONL_DELAY: "0.01" },
    });
    const outcome = await run(h, downloader);

    assertEquals(outcome, {
      kind: "exited",
      exitCode: 0,
      stderrTail: [
        `fake_jsonl_downloader: starting ${PLAYLIST}`,
        "this line is not JSON and is reported as unknown",
      ],
    });
    const known = h.events.filter((event) => event.type !== "unknown");
    assertEquals(known, [
      { type: "total", total: 2, title: "JSON Playlist", listKind: "Playlist" },
      { type: "track", name: "Artist 1 - Song 1", status: "downloading" },
      { type: "track", name: "Artist 1 - Song 1", status: "done" },
      { type: "percent", percent: 50 },
      { type: "downloaded", name: "Artist 1 - Song 1", sourceUrl: "https://example.com/audio/1" },
      { type: "track", name: "Artist 2 - Song 2", status: "downloading" },
      { type: "track", name: "Artist 2 - Song 2", status: "done" },
      { type: "percent", percent: 100 },
      { type: "downloaded", name: "Artist 2 - Song 2", sourceUrl: "https://example.com/audio/2" },
    ]);
    const unknown = h.events.flatMap((event) => event.type === "unknown" ? [event.line] : []);
    assertEquals(unknown.sort(), [
      `fake_jsonl_downloader: starting ${PLAYLIST}`,
      "this line is not JSON and is reported as unknown",
    ]);
    assertEquals(
      (await inspectOutput(h.outputDir, { ffprobe: null })).files.map((f) => f.name),
      ["Artist 1 - Song 1.mp3", "Artist 2 - Song 2.mp3"],
    );
  });
});

Deno.test("run() reports a failing JSON-lines downloader's error event and exit code", async () => {
  await withRunScene(async (h) => {
    const downloader = new SubprocessDownloader({
      command: FAKE_JSONL,
      args: ["{url}", "--output-dir", "{output_dir}"],
      format: "jsonl",
      timeoutMs: 60_000,
      killGraceMs: 1_000,
      env: { FAKE_JSONL_DELAY: "0.01", FAKE_JSONL_MODE: "fail" },
    });
    const outcome = await run(h, downloader);

    assert(outcome.kind === "exited");
    assertEquals(outcome.exitCode, 1);
    assertEquals(outcome.stderrTail.at(-1), "fake_jsonl_downloader: giving up");
    assertEquals(h.events.filter((event) => event.type === "error"), [{
      type: "error",
      errorClass: "DownloadError",
      message: "source unavailable",
      track: "Artist 2 - Song 2",
    }]);
  });
});

Deno.test("a spotDL config.json asking for DEBUG lines changes nothing: the bot's flags win", async () => {
  await withRunScene(async (h) => {
    const home = `${h.dir}/admin-home`;
    await Deno.mkdir(`${home}/.config/spotdl`, { recursive: true });
    await Deno.writeTextFile(`${home}/.config/spotdl/config.json`, '{"log_level": "DEBUG"}');
    const outcome = await run(h, spotdl(h, { HOME: home, FAKE_SPOTDL_TRACKS: "2" }));
    assertEquals(outcome.kind, "exited");
    assertEquals(h.events.filter((e) => e.type === "unknown"), []);
    assertEquals(h.events.filter((e) => e.type === "downloaded").length, 2);
  });
});

Deno.test("each run gets a HOME of its own beside its directory, removed when it ends", async () => {
  await withRunScene(async (h) => {
    const argsFile = `${h.dir}/env`;
    await run(h, spotdl(h, { FAKE_SPOTDL_TRACKS: "1", FAKE_SPOTDL_ARGSFILE: argsFile }));
    assertEquals(await exists(`${h.outputDir}.home`), false, "the run's HOME is gone");
    const inside = await Array.fromAsync(Deno.readDir(h.outputDir));
    assertEquals(
      inside.map((e) => e.name).sort(),
      ["Artist One - Song One.mp3", "dlbot-order.m3u8"],
      "no temp files left",
    );
  });
});
