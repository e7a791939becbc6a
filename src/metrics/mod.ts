/**
 * Prometheus metrics: see {@link ./metrics.ts}.
 *
 * @module
 */
export { createMetrics } from "./metrics.ts";
export type { JobMetricsSink, Metrics, RejectionReason } from "./metrics.ts";
