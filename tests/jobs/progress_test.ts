import { assertEquals } from "../_assert.ts";
import type { DownloaderEvent } from "../../src/downloader/events.ts";
import type { JobProgress } from "../../src/jobs/model.ts";
import { applyEvent, initialProgress } from "../../src/jobs/progress.ts";

function fold(events: DownloaderEvent[]): JobProgress {
  return events.reduce(applyEvent, initialProgress());
}

const found = (total: number): DownloaderEvent => ({ type: "total", total, title: "Album" });
const downloaded = (name: string): DownloaderEvent => ({ type: "downloaded", name });
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
    name: "a Downloaded line counts a song done and clears it as the current song",
    events: [found(4), track("A", "downloading"), track("A", "done"), downloaded("A")],
    expect: { done: 1, percent: 25, current: undefined, currentStatus: undefined },
  },
  {
    name: "Done and Skipped statuses alone count nothing (their Downloaded/Skipping lines do)",
    events: [found(2), track("A", "done"), track("B", "skipped")],
    expect: { done: 0, skipped: 0, percent: 0 },
  },
  {
    name: "a Skipping line counts a skipped song",
    events: [found(2), { type: "skipped", name: "B", reason: "exists" }, track("B", "skipped")],
    expect: { skipped: 1, percent: 50 },
  },
  {
    name: "an explicit song skipped is counted apart",
    events: [found(2), { type: "skipped", name: "B", reason: "explicit" }],
    expect: { skipped: 0, skippedExplicit: 1, percent: 50 },
  },
  {
    name: "a failure naming its song counts it with the reason",
    events: [found(2), {
      type: "error",
      errorClass: "LookupError",
      message: "No results found for song: A",
      track: "A",
    }],
    expect: { failed: 1, failures: [{ name: "A", reason: "no matching audio found" }] },
  },
  {
    name: "k/N complete counts nothing (threads can skip a k)",
    events: [found(4), { type: "complete", completed: 3, total: 4 }],
    expect: { done: 0, failed: 0, percent: 0 },
  },
  {
    name: "a rate-limit warning is no failed song",
    events: [found(2), { type: "rate_limit", retryAfterSeconds: 29 }],
    expect: { failed: 0, percent: 0 },
  },
  {
    name: "k/N complete gives the total only when nothing better is known",
    events: [{ type: "complete", completed: 1, total: 1 }],
    expect: { total: 1 },
  },
  {
    name: "list items that cannot be downloaded are counted apart from the total",
    events: [{ type: "unavailable", item: "episode" }, found(2)],
    expect: { unavailable: 1, total: 2 },
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
    events: [found(1), downloaded("A"), downloaded("B")],
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
