import {
  assert,
  assertEquals,
  assertMatch,
  assertNotMatch,
  assertStringIncludes,
} from "../_assert.ts";
import type { Job } from "../../src/jobs/model.ts";
import { type JobInput, makeJob, T0 } from "../_fixtures.ts";
import {
  cancelKeyboard,
  confirmKeyboard,
  parseCancelData,
  parseConfirmData,
  summaryKeyboard,
} from "../../src/chat/keyboards.ts";
import {
  escapeHtml,
  formatBytes,
  progressBar,
  TELEGRAM_MESSAGE_LIMIT,
} from "../../src/chat/format.ts";
import { renderJobLine, renderStatus } from "../../src/chat/status.ts";
import { renderSummary, renderSummaryMessages, SUMMARY_MAX_CHARS } from "../../src/chat/summary.ts";
import { visibleLength } from "../../src/chat/format.ts";

/** Text a user would see: tags removed, entities decoded. */
function visible(html: string): string {
  return html.replace(/<[^>]+>/g, "").replaceAll("&lt;", "<").replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"').replaceAll("&amp;", "&");
}

/** Every tag that opens is closed and nothing unescaped slips through. */
function assertWellFormed(html: string): void {
  const stack: string[] = [];
  for (const match of html.matchAll(/<(\/?)([a-z]+)(?:\s[^>]*)?>/g)) {
    const [, closing, tag] = match;
    if (!tag) continue;
    if (closing) assertEquals(stack.pop(), tag, `unbalanced </${tag}> in ${html.slice(0, 200)}`);
    else stack.push(tag);
  }
  assertEquals(stack, [], "unclosed tags");
  assertNotMatch(html.replace(/<\/?(b|i|code|a)(\s+href="[^"<>]*")?>/g, ""), /[<>]/);
  assertNotMatch(html, /&(?!(amp|lt|gt|quot);)/, "bare ampersand");
}

const running = (progress: Partial<Job["progress"]>, extra: JobInput = {}) =>
  makeJob({ state: "running", startedAt: T0, progress, ...extra });

const statusCases: { name: string; job: Job; position?: number; now: number; expect: string }[] = [
  {
    name: "queued with position",
    job: makeJob(),
    position: 3,
    now: T0,
    expect: "⏳ Job <code>abc123</code> is queued (position 3).",
  },
  {
    name: "queued without position",
    job: makeJob(),
    now: T0,
    expect: "⏳ Job <code>abc123</code> is queued.",
  },
  {
    name: "running with title, counts and current track",
    job: running({
      title: "My Playlist",
      total: 12,
      done: 7,
      skipped: 1,
      failed: 1,
      percent: 60,
      current: "Artist – Song",
      currentStatus: "Converting",
    }),
    now: T0 + 125_000,
    expect: [
      "⬇️ Downloading <b>My Playlist</b> (playlist)",
      "▓▓▓▓▓▓░░░░ 60%",
      "7/12 done · 1 skipped · 1 failed",
      "Now: Artist – Song (converting)",
      "Elapsed: 3 min",
      "Job <code>abc123</code>",
    ].join("\n"),
  },
  {
    name: "running before the track list is known names the link kind",
    job: running({}, { kind: "album" }),
    now: T0 + 5_000,
    expect: [
      "⬇️ Downloading an album",
      "🔎 Looking up the track list…",
      "Elapsed: 5 s",
      "Job <code>abc123</code>",
    ].join("\n"),
  },
  {
    name: "running with zero skipped/failed omits them",
    job: running({ total: 4, done: 1, percent: 25 }, { kind: "track" }),
    now: T0 + 1_000,
    expect: [
      "⬇️ Downloading a track",
      "▓▓░░░░░░░░ 25%",
      "1/4 done",
      "Elapsed: 1 s",
      "Job <code>abc123</code>",
    ].join("\n"),
  },
  {
    name: "running with a cancel requested",
    job: running({ total: 2, done: 1, percent: 50 }, { cancelRequested: true }),
    now: T0 + 1_000,
    expect: [
      "⬇️ Downloading a playlist",
      "▓▓▓▓▓░░░░░ 50%",
      "1/2 done",
      "Elapsed: 1 s",
      "⏹ Cancelling…",
    ].join("\n"),
  },
  {
    name: "title with HTML is escaped",
    job: running({ title: "<script>&" }),
    now: T0,
    expect: [
      "⬇️ Downloading <b>&lt;script&gt;&amp;</b> (playlist)",
      "🔎 Looking up the track list…",
      "Elapsed: 1 s",
      "Job <code>abc123</code>",
    ].join("\n"),
  },
  {
    name: "succeeded: short final line",
    job: makeJob({
      state: "succeeded",
      result: { title: "Mix", files: [], totalBytes: 0 },
    }),
    now: T0,
    expect: "✅ Finished <b>Mix</b> (job <code>abc123</code>). Summary below.",
  },
  {
    name: "failed: short final line",
    job: makeJob({ state: "failed" }),
    now: T0,
    expect: "❌ Job <code>abc123</code> failed. Details below.",
  },
  {
    name: "cancelled: short final line",
    job: makeJob({ state: "cancelled" }),
    now: T0,
    expect: "🚫 Job <code>abc123</code> cancelled.",
  },
];

for (const c of statusCases) {
  Deno.test(`renderStatus(): ${c.name}`, () => {
    const { text } = renderStatus(c.job, { position: c.position, now: c.now });
    assertEquals(text, c.expect);
    assertWellFormed(text);
  });
}

Deno.test("renderStatus() leaves out the elapsed time on request", () => {
  const job = running({ total: 2, done: 1, percent: 50 });
  const shown = renderStatus(job, { now: T0 + 60_000 }).text;
  const hidden = renderStatus(job, { now: T0 + 60_000, elapsed: false }).text;
  assertStringIncludes(shown, "\nElapsed: 1 min\n");
  assertEquals(hidden, shown.replace("\nElapsed: 1 min", ""));
});

Deno.test("renderStatus() offers Cancel only while the job can still be cancelled", () => {
  const offered = (job: Job) => renderStatus(job, { now: T0 }).replyMarkup;
  assertEquals(offered(makeJob()), cancelKeyboard("abc123"));
  assertEquals(offered(running({})), cancelKeyboard("abc123"));
  assertEquals(offered(running({}, { cancelRequested: true })), undefined);
  assertEquals(offered(makeJob({ state: "succeeded" })), undefined);
  assertEquals(offered(makeJob({ state: "failed" })), undefined);
  assertEquals(offered(makeJob({ state: "cancelled" })), undefined);
});

Deno.test("renderStatus() stays within Telegram's limit for huge names", () => {
  const huge = '<&">'.repeat(5000);
  const job = running({
    title: huge,
    current: huge,
    currentStatus: huge,
    total: 10_000,
    done: 9_999,
    skipped: 9_999,
    failed: 9_999,
    percent: 99.9,
  });
  const { text } = renderStatus(job, { now: T0 + 86_400_000 });
  assert(text.length < TELEGRAM_MESSAGE_LIMIT, `length ${text.length}`);
  assertStringIncludes(text, "▓▓▓▓▓▓▓▓▓░ 99%");
  assertStringIncludes(visible(text), "…");
  assertWellFormed(text);
});

Deno.test("escapeHtml() escapes markup and attribute quotes", () => {
  assertEquals(escapeHtml(`<script>&"x"`), "&lt;script&gt;&amp;&quot;x&quot;");
  assertEquals(escapeHtml("plain – text"), "plain – text");
});

Deno.test("progressBar() fills one cell per full 10 % and clamps", () => {
  assertEquals(progressBar(0), "░░░░░░░░░░ 0%");
  assertEquals(progressBar(9.9), "░░░░░░░░░░ 9%");
  assertEquals(progressBar(100), "▓▓▓▓▓▓▓▓▓▓ 100%");
  assertEquals(progressBar(140), "▓▓▓▓▓▓▓▓▓▓ 100%");
  assertEquals(progressBar(-5), "░░░░░░░░░░ 0%");
});

Deno.test("formatBytes() uses SI units with one decimal", () => {
  assertEquals(formatBytes(812), "812 B");
  assertEquals(formatBytes(45_300_000), "45.3 MB");
  assertEquals(formatBytes(1_234_567_890), "1.2 GB");
  assertEquals(formatBytes(150_000), "150 kB");
});

Deno.test("parseCancelData() accepts the button's data and nothing else", () => {
  assertEquals(
    parseCancelData(cancelKeyboard("abc123").inline_keyboard[0]![0]!.callback_data),
    "abc123",
  );
  assertEquals(parseCancelData("cancel:k3j4h5g6f7"), "k3j4h5g6f7");
  assertEquals(parseCancelData("cancel:"), null);
  assertEquals(parseCancelData("cancel:ABC123"), null);
  assertEquals(parseCancelData("cancel:abc"), null);
  assertEquals(parseCancelData("cancel:abc123:x"), null);
  assertEquals(parseCancelData("retry:abc123"), null);
  assertEquals(parseCancelData(""), null);
});

function succeeded(overrides: JobInput = {}): Job {
  return makeJob({
    state: "succeeded",
    startedAt: T0,
    finishedAt: T0 + 150_000,
    progress: {
      title: "Road Trip",
      total: 12,
      done: 11,
      failed: 1,
      percent: 100,
      failures: [{ name: "Band – Lost Song", reason: "no matching audio found" }],
    },
    result: {
      title: "Road Trip",
      files: Array.from({ length: 11 }, (_, i) => ({ name: `Song ${i}.mp3`, size: 4_118_182 })),
      totalBytes: 45_300_000,
      totalDurationSeconds: 3_000,
    },
    ...overrides,
  });
}

Deno.test("renderSummary() of a succeeded playlist shows counts, failures, length, size, time and links", () => {
  const links = [
    { name: "Song 0.mp3", url: "https://dl.example/f/0?sig=a&x=1" },
    { name: "Song 1.mp3", url: "https://dl.example/f/1" },
  ];
  const text = renderSummary(succeeded(), { links, now: T0 + 200_000 });
  assertEquals(
    text,
    [
      "✅ <b>Road Trip</b> — 12 tracks",
      "11 downloaded · 0 skipped · 1 failed",
      "Failed:",
      "• Band – Lost Song — no matching audio found",
      "🎧 Length: 50 min",
      "💾 Size: 45.3 MB",
      "⏱ Took 3 min",
      "Job <code>abc123</code>",
      "",
      "📥 Downloads:",
      '• <a href="https://dl.example/f/0?sig=a&amp;x=1">Song 0.mp3</a>',
      '• <a href="https://dl.example/f/1">Song 1.mp3</a>',
    ].join("\n"),
  );
  assertWellFormed(text);
});

Deno.test("renderSummary() omits the length when durations are unknown", () => {
  const job = succeeded();
  const result = { ...job.result!, totalDurationSeconds: undefined };
  const text = renderSummary({ ...job, result }, { links: [], now: T0 });
  assertNotMatch(text, /Length/);
  assertStringIncludes(text, "💾 Size: 45.3 MB");
  assertStringIncludes(text, "No download links available.");
});

Deno.test("renderSummary() presents a single link for many files as the whole set", () => {
  const text = renderSummary(succeeded(), {
    links: [{ name: "Road Trip", url: "https://dl.example/j/abc123/" }],
    now: T0,
  });
  assertStringIncludes(
    text,
    '📦 All 11 files:\n• <a href="https://dl.example/j/abc123/">Road Trip</a>',
  );
});

Deno.test("renderSummary() lists ten failed tracks, then how many more", () => {
  const failures = Array.from({ length: 25 }, (_, i) => ({
    name: `Track ${i}`,
    reason: "no matching audio found",
  }));
  const job = succeeded({ progress: { total: 30, done: 5, failed: 25, failures } });
  const text = renderSummary(job, { links: [], now: T0 });
  assertStringIncludes(text, "• Track 9 — no matching audio found\n…and 15 more");
  assertNotMatch(text, /Track 10\b/);
});

Deno.test("renderSummary() escapes HTML in titles, track names and link names", () => {
  const job = succeeded({
    progress: {
      total: 1,
      done: 0,
      failed: 1,
      failures: [{ name: "<b>bad</b> & co", reason: "no matching audio found" }],
    },
    result: { title: "<script>&", files: [], totalBytes: 0 },
  });
  const text = renderSummary(job, {
    links: [{ name: "<i>x</i>.mp3", url: 'https://e.example/"><script>' }],
    now: T0,
  });
  assertStringIncludes(text, "✅ <b>&lt;script&gt;&amp;</b> — 1 track");
  assertStringIncludes(text, "• &lt;b&gt;bad&lt;/b&gt; &amp; co");
  assertStringIncludes(
    text,
    '<a href="https://e.example/&quot;&gt;&lt;script&gt;">&lt;i&gt;x&lt;/i&gt;.mp3</a>',
  );
  assertWellFormed(text);
});

Deno.test("renderSummary() stays under the limit with 500 failed tracks, 300 files and huge names", () => {
  const huge = '&<>"'.repeat(2_000);
  const failures = Array.from(
    { length: 500 },
    (_, i) => ({ name: `${huge} ${i}`.slice(0, 200), reason: "no matching audio found" }),
  );
  const files = Array.from(
    { length: 300 },
    (_, i) => ({ name: `${huge}${i}.mp3`, size: 9_000_000 }),
  );
  const job = succeeded({
    progress: { title: huge, total: 800, done: 300, failed: 500, failures },
    result: { title: huge, files, totalBytes: 2_700_000_000 },
  });
  const links = files.map((f, i) => ({ name: f.name, url: `https://dl.example/${i}?a=1&b=2` }));
  const text = renderSummary(job, { links, now: T0 });
  assert(visibleLength(text) <= SUMMARY_MAX_CHARS, `length ${visibleLength(text)}`);
  assert(visibleLength(text) < TELEGRAM_MESSAGE_LIMIT);
  assertWellFormed(text);
  const shown = text.match(/<a href=/g)?.length ?? 0;
  assert(shown > 0, "some links are listed");
  assertStringIncludes(text, `… and ${300 - shown} more files`);

  const messages = renderSummaryMessages(job, { links, now: T0 });
  assert(messages.length > 1, "the links that do not fit go into follow-up messages");
  for (const message of messages) {
    assert(visibleLength(message) <= SUMMARY_MAX_CHARS, `length ${visibleLength(message)}`);
    assertWellFormed(message);
  }
  const hrefs = messages.flatMap((m) => [...m.matchAll(/<a href="([^"]+)"/g)].map((x) => x[1]));
  assertEquals(
    hrefs,
    links.map((l) => l.url.replaceAll("&", "&amp;")),
    "every link once, in order",
  );
  assert(!messages.some((m) => m.includes("more files")), "never '… and N more' with follow-ups");
  const listedFailures = text.split("Failed:\n")[1]!.split("\n…and")[0]!.split("\n").length;
  assert(listedFailures >= 1 && listedFailures <= 10, `${listedFailures} failures listed`);
  assertStringIncludes(text, `\n…and ${500 - listedFailures} more\n`);
});

Deno.test("renderSummary() counts every link that did not fit, even a giant URL", () => {
  const links = [
    { name: "a.mp3", url: "https://dl.example/a" },
    { name: "b.mp3", url: `https://dl.example/${"x".repeat(40_000)}` },
  ];
  const text = renderSummary(succeeded(), { links, now: T0 });
  assertStringIncludes(text, '• <a href="https://dl.example/a">a.mp3</a>\n… and 1 more file ');
  const [first, second] = renderSummaryMessages(succeeded(), { links, now: T0 });
  assert(!first?.includes("b.mp3") && second?.includes("b.mp3"), "b.mp3 follows on its own");
});

Deno.test("visibleLength() counts what Telegram counts: no tags, no URLs, one character per entity", () => {
  assertEquals(visibleLength('<a href="https://x.example/?a=1&amp;b=2">a &amp; b</a>'), 5);
  assertEquals(visibleLength("<b>Ü</b> 🎵"), 4, "UTF-16 code units, as Telegram counts");
});

Deno.test("renderSummary() of a failed job gives the reason, the job id and what to try", () => {
  const job = makeJob({
    state: "failed",
    error: {
      code: "no_results",
      userMessage: "Spotify found no songs for this link.",
      detail: "x",
    },
  });
  assertEquals(
    renderSummary(job, { links: [], now: T0 }),
    [
      "❌ Download failed: Spotify found no songs for this link.",
      "Job <code>abc123</code> · playlist",
      "What to try: Check the link, or try another track.",
    ].join("\n"),
  );
});

Deno.test("renderSummary() of a failed job does not repeat advice the message already gives", () => {
  const job = makeJob({
    state: "failed",
    error: { code: "timeout", userMessage: "It took too long. Try a smaller playlist <10 songs." },
  });
  const text = renderSummary(job, { links: [], now: T0 });
  assertEquals(
    text,
    "❌ Download failed: It took too long. Try a smaller playlist &lt;10 songs.\n" +
      "Job <code>abc123</code> · playlist",
  );
  assertNotMatch(text, /never shown|detail/);
});

Deno.test("renderSummary() never shows the technical error detail", () => {
  const job = makeJob({
    state: "failed",
    error: { code: "internal", userMessage: "Something broke.", detail: "Traceback SECRET-PATH" },
  });
  const text = renderSummary(job, { links: [], now: T0 });
  assertNotMatch(text, /SECRET-PATH/);
  assertStringIncludes(
    text,
    "What to try: Try again; if it keeps happening, tell the bot's admin.",
  );
});

/** A job the worker stopped because its playlist has 5 songs, above a limit of 3. */
function waitingForConfirmation(): Job {
  return makeJob({
    state: "failed",
    finishedAt: T0 + 5_000,
    progress: { total: 5, title: "Big List" },
    error: {
      code: "needs_confirmation",
      userMessage:
        'This playlist has 5 tracks, more than the limit of 3 without confirmation. Press "Download all 5 tracks" to go ahead.',
      detail: "5 songs announced",
    },
  });
}

Deno.test("renderSummary() of a job stopped for its size asks, with a 'Download all N tracks' button", () => {
  const job = waitingForConfirmation();
  const text = renderSummary(job, { links: [], now: T0 });
  assertEquals(
    text,
    [
      "✋ This playlist has 5 tracks, more than the limit of 3 without confirmation. " +
      "Press &quot;Download all 5 tracks&quot; to go ahead.",
      "Job <code>abc123</code> · playlist",
    ].join("\n"),
  );
  assertNotMatch(text, /What to try|failed/);
  assertEquals(summaryKeyboard(job), {
    inline_keyboard: [[{ text: "Download all 5 tracks", callback_data: "confirm:abc123" }]],
  });
  assertEquals(renderStatus(job, { now: T0 }).replyMarkup, undefined);
  assertStringIncludes(renderStatus(job, { now: T0 }).text, "waiting for your confirmation");
  assertEquals(
    renderJobLine(job, undefined, T0 + 65_000),
    "<code>abc123</code> · needs confirmation · playlist · <b>Big List</b> · 1 min ago",
  );
});

Deno.test("summaryKeyboard() offers no button for other finished jobs", () => {
  const failed = makeJob({ state: "failed", error: { code: "timeout", userMessage: "Too long." } });
  assertEquals(summaryKeyboard(failed), undefined);
  assertEquals(summaryKeyboard(makeJob({ state: "cancelled" })), undefined);
  assertEquals(summaryKeyboard(makeJob({ state: "succeeded" })), undefined);
});

Deno.test("parseConfirmData() accepts the confirmation button's data and nothing else", () => {
  const data = confirmKeyboard("k3j9x2m1qa", 120).inline_keyboard[0]![0]!.callback_data;
  assertEquals(parseConfirmData(data), "k3j9x2m1qa");
  assertEquals(
    confirmKeyboard("k3j9x2m1qa", undefined).inline_keyboard[0]![0]!.text,
    "Download all tracks",
  );
  for (
    const bad of [
      "cancel:k3j9x2m1qa",
      "confirm:",
      "confirm:ABC123",
      "confirm:k3j9x2m1qa ",
      "confirm:../x",
    ]
  ) {
    assertEquals(parseConfirmData(bad), null, bad);
  }
  assertEquals(parseCancelData(data), null, "a confirmation is never taken for a cancel");
});

Deno.test("renderSummary() of a cancelled job", () => {
  const text = renderSummary(makeJob({ state: "cancelled" }), { links: [], now: T0 });
  assertEquals(text, "🚫 Job <code>abc123</code> cancelled.");
});

Deno.test("renderJobLine() shows id, state, kind, title and age", () => {
  assertEquals(
    renderJobLine(running({ percent: 40.6, title: "Mix" }), undefined, T0 + 300_000),
    "<code>abc123</code> · running 40% · playlist · <b>Mix</b> · 5 min ago",
  );
  assertEquals(
    renderJobLine(makeJob({ kind: "album" }), 2, T0 + 30_000),
    "<code>abc123</code> · queued #2 · album · 30 s ago",
  );
  assertEquals(
    renderJobLine(makeJob({ state: "failed", finishedAt: T0 + 60_000 }), undefined, T0 + 180_000),
    "<code>abc123</code> · failed · playlist · 2 min ago",
  );
  assertMatch(renderJobLine(running({ title: "<x>" }), undefined, T0), /<b>&lt;x&gt;<\/b>/);
});

Deno.test("renderSummary() counts explicit skips and says why list items could not be downloaded", () => {
  const text = renderSummary(
    succeeded({
      progress: { total: 7, done: 4, skippedExplicit: 1, failed: 2, unavailable: 2, percent: 100 },
    }),
    { links: [], now: T0 },
  );
  assertStringIncludes(text, "4 downloaded · 0 skipped · 1 explicit skipped · 2 failed");
  assertStringIncludes(
    text,
    "2 items of the list cannot be downloaded (local files or podcast episodes).",
  );
});

Deno.test("renderStatus() shows a short Spotify wait and a long Spotify pause", () => {
  const running = makeJob({
    state: "running",
    startedAt: T0,
    progress: { total: 2, done: 1, percent: 50, waitingUntil: T0 + 29_000 },
  });
  assertStringIncludes(
    renderStatus(running, { now: T0 }).text,
    "⏳ Spotify asked us to wait 29 s…; the download goes on by itself.",
  );
  const paused = makeJob({ state: "queued", pausedUntil: Date.UTC(2025, 0, 1, 14, 20) });
  const status = renderStatus(paused, { now: T0, position: 1 });
  assertStringIncludes(
    status.text,
    "is paused by Spotify until 14:20 UTC; it will continue by itself (position 1).",
  );
  assertEquals(status.replyMarkup, cancelKeyboard(paused.id), "it can still be cancelled");
});
