/**
 * dlbot's entry point. The first import silences Node deprecation warnings before grammY's
 * npm dependencies load; everything else lives in `src/cli.ts`.
 *
 * @module
 */
import "./src/runtime/quiet_node_warnings.ts";
import { main } from "./src/cli.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
