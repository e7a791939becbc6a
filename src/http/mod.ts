/**
 * The bot's HTTP side: the server and its routes, signed download links, file serving and
 * readiness checks.
 *
 * @module
 */
export {
  createHttpHandler,
  type HttpHandler,
  type HttpHandlerDeps,
  type HttpLogger,
  type HttpServerOptions,
  parseListenAddress,
  type RequestContext,
  type RunningHttpServer,
  startHttpServer,
  type WebhookRoute,
} from "./server.ts";
export {
  fileLinkPath,
  type FileLinkTarget,
  isServableFileName,
  JOB_ID_PATTERN,
  LinkSigner,
  type LinkSignerOptions,
  type LinkVerdict,
  loadOrCreateSigningSecret,
  parseFileLinkPath,
  publicFileUrl,
} from "./signing.ts";
export { contentTypeFor, serveFile, type ServeFileOptions } from "./file_response.ts";
export {
  type CheckResult,
  createHealthChecks,
  type HealthCheckDeps,
  type HealthChecks,
  type Readiness,
} from "./health.ts";
