/**
 * Silences Node's deprecation warnings before any npm package loads.
 *
 * grammY's npm build pulls `node-fetch`, whose `whatwg-url` dependency requires the deprecated
 * `punycode` module; under Deno that prints a DEP0040 warning on every start. Import this module
 * first (see `main.ts`) so user-facing output stays clean.
 *
 * @module
 */
import process from "node:process";

(process as { noDeprecation?: boolean }).noDeprecation = true;
