/**
 * The downloader: runs spotDL (or any executable speaking spotDL's output or the JSON-lines
 * protocol) as a subprocess and turns its output into typed progress events.
 *
 * @module
 */
export type { DownloaderEvent, OutputParser, TrackStatus } from "./events.ts";
export type { Downloader, DownloaderCheck, DownloadOutcome, DownloadRequest } from "./types.ts";
export { stripAnsi } from "./ansi.ts";
export { type ArgValues, buildArgs, resolveExecutable } from "./command.ts";
export { probeFile } from "./ffprobe.ts";
export { type JsonLine, jsonLineSchema, JsonLinesParser } from "./jsonl_parser.ts";
export { LineSplitter, readLines } from "./lines.ts";
export {
  AUDIO_EXTENSIONS,
  type InspectOptions,
  inspectOutput,
  type ListedFile,
  listOutputFiles,
  type OutputSummary,
  removePartialFiles,
} from "./output_files.ts";
export { createParser, type OutputFormat } from "./parser.ts";
export { SpotdlParser } from "./spotdl_parser.ts";
export {
  DEFAULT_CHILD_ENV,
  type DownloaderLogger,
  SubprocessDownloader,
  type SubprocessDownloaderOptions,
} from "./subprocess.ts";
export { downloaderFromConfig, spotdlFlags } from "./factory.ts";
