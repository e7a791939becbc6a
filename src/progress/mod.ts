/**
 * Job progress as the chat sees it: rendering, the coalescing chat updater and the observer
 * fan-out.
 *
 * @module
 */
export {
  type CancelKeyboard,
  cancelKeyboard,
  confirmKeyboard,
  escapeHtml,
  type FileLink,
  formatBytes,
  type InlineKeyboard,
  needsConfirmation,
  parseCancelData,
  parseConfirmData,
  progressBar,
  type RenderedStatus,
  renderJobLine,
  renderStatus,
  renderSummary,
  SUMMARY_MAX_CHARS,
  summaryKeyboard,
  TELEGRAM_MESSAGE_LIMIT,
  truncate,
} from "./render.ts";
export {
  type ChatApi,
  type ChatApiAudioOptions,
  type ChatApiSendOptions,
  type ChatApiTextOptions,
  ChatUpdater,
  type ChatUpdaterDeps,
  type Sleep,
  type UpdaterLogger,
} from "./chat_updater.ts";
export { type FanoutLogger, type JobListener, ObserverFanout, ProgressBroker } from "./broker.ts";
