/**
 * dlbot's entry point. The first import silences Node deprecation warnings before grammY's
 * npm dependencies load; everything else lives in `src/cli/main.ts`.
 *
 * @module
 */
import "./src/runtime/quiet_node_warnings.ts";
import { main } from "./src/cli/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
