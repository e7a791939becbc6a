import { assertEquals } from "../_assert.ts";
import type { DownloaderEvent } from "../../src/downloader/events.ts";
import type { JobProgress } from "../../src/jobs/model.ts";
import { applyEvent, initialProgress } from "../../src/jobs/progress.ts";

function fold(events: DownloaderEvent[]): JobProgress {
  return events.reduce(applyEvent, initialProgress());
}

const found = (total: number): DownloaderEvent => ({ type: "total", total, title: "Album" });
const track = (name: string, status: Extract<DownloaderEvent, { type: "track" }>["status"]) => ({
  type: "track" as const,
  name,
  status,
});

const cases: {
  name: string;
  events: DownloaderEvent[];
  expect: Partial<JobProgress>;
}[] = [
  { name: "nothing said yet", events: [], expect: { percent: 0, done: 0 } },
  {
    name: "Found N sets the total and the title",
    events: [found(4)],
    expect: { total: 4, percent: 0, title: "Album" },
  },
  {
    name: "a song downloading counts a fifth of a song",
    events: [found(4), track("A", "downloading")],
    expect: { percent: 5, current: "A", currentStatus: "Downloading" },
  },
  {
    name: "converting counts 0.6 of a song",
    events: [found(4), track("A", "downloading"), track("A", "converting")],
    expect: { percent: 15, currentStatus: "Converting" },
  },
  {
    name: "embedding counts 0.9 of a song",
    events: [found(2), track("A", "embedding")],
    expect: { percent: 45, currentStatus: "Embedding metadata" },
  },
  {
    name: "done songs count whole and clear the current song",
    events: [found(4), track("A", "downloading"), track("A", "done")],
    expect: { done: 1, percent: 25, current: undefined, currentStatus: undefined },
  },
  {
    name: "skipped songs count as finished",
    events: [found(2), track("A", "skipped")],
    expect: { skipped: 1, percent: 50 },
  },
  {
    name: "a song's Error status counts as failed and records its name",
    events: [found(2), track("A", "error")],
    expect: { failed: 1, failedTracks: ["A"], percent: 50 },
  },
  {
    name: "the exception line after an Error status is not counted twice",
    events: [
      found(2),
      track("A", "error"),
      { type: "complete", completed: 1, total: 2 },
      {
        type: "error",
        errorClass: "LookupError",
        message: "No results found for song: A",
        track: "A",
      },
    ],
    expect: { failed: 1, failedTracks: ["A"], percent: 50 },
  },
  {
    name: "a song counted by k/N complete without a status is a failure, named by the next error",
    events: [
      found(3),
      track("A", "done"),
      { type: "complete", completed: 1, total: 3 },
      { type: "complete", completed: 2, total: 3 },
      {
        type: "error",
        errorClass: "LookupError",
        message: "No results found for song: B",
        track: "B",
      },
    ],
    expect: { done: 1, failed: 1, failedTracks: ["B"] },
  },
  {
    name: "an exception line naming a song counts it when nothing else did",
    events: [
      found(3),
      { type: "error", errorClass: "LookupError", message: "No results found for song: B - C" },
    ],
    expect: { failed: 1, failedTracks: ["B - C"] },
  },
  {
    name: "exception lines naming no song count nothing (network retries)",
    events: [
      found(3),
      { type: "error", errorClass: "NetworkError", message: "Connection reset by peer" },
      { type: "error", errorClass: "NetworkError", message: "Connection reset by peer" },
    ],
    expect: { failed: 0, failedTracks: [], percent: 0 },
  },
  {
    name: "a rate-limit line is not a failed song",
    events: [
      found(3),
      {
        type: "error",
        errorClass: "RateLimit",
        message: "Your application has reached a rate/request limit.",
        retryAfterSeconds: 3600,
      },
      { type: "error", errorClass: "RateLimit", message: "http status: 429 for song: X" },
    ],
    expect: { failed: 0, failedTracks: [] },
  },
  {
    name: "Found N wins over the k/N complete count",
    events: [found(3), { type: "complete", completed: 1, total: 0 }],
    expect: { total: 3 },
  },
  {
    name: "k/N complete gives the total only when nothing better is known",
    events: [{ type: "complete", completed: 1, total: 4 }],
    expect: { total: 4 },
  },
  {
    name: "an implausible k/N (1/0) is ignored",
    events: [{ type: "complete", completed: 1, total: 0 }],
    expect: { total: undefined },
  },
  {
    name: "Downloaded and Skipping lines do not count again",
    events: [
      found(2),
      track("A", "done"),
      { type: "downloaded", name: "A", sourceUrl: "https://music.youtube.com/watch?v=x" },
      track("B", "skipped"),
      { type: "skipped", name: "B", reason: "file already exists" },
    ],
    expect: { done: 1, skipped: 1, percent: 100 },
  },
  {
    name: "percent events (JSON lines) set percent directly",
    events: [{ type: "percent", percent: 42.5 }],
    expect: { percent: 42.5 },
  },
  {
    name: "percent never exceeds 100",
    events: [{ type: "percent", percent: 250 }],
    expect: { percent: 100 },
  },
  {
    name: "more finished songs than announced stays at 100",
    events: [found(1), track("A", "done"), track("B", "done")],
    expect: { done: 2, percent: 100 },
  },
  {
    name: "percent does not go backwards when a later song starts",
    events: [found(2), track("A", "embedding"), track("B", "downloading")],
    expect: { percent: 45, current: "B" },
  },
  {
    name: "unknown lines change nothing",
    events: [found(2), { type: "unknown", line: "whatever" }],
    expect: { total: 2, percent: 0 },
  },
];

for (const c of cases) {
  Deno.test(`applyEvent(): ${c.name}`, () => {
    const progress = fold(c.events);
    const picked = Object.fromEntries(
      Object.keys(c.expect).map((key) => [key, progress[key as keyof JobProgress]]),
    );
    assertEquals(picked, c.expect);
  });
}
