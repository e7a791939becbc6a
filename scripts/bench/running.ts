/**
 * Command replies and progress freshness while many downloads run: the load test's running phase
 * (`scripts/loadtest/running_phase.ts`) on its own. Prints `/help` latency, progress age on
 * arrival and flood rejections.
 *
 * ```sh
 * scripts/deno run -A scripts/bench/running.ts [--jobs 200] [--askers 50] [--seconds 30]
 * ```
 *
 * @module
 */
import "../../src/runtime/quiet_node_warnings.ts";
import { parseArgs } from "node:util";
import { formatRunningPhase, runRunningPhase } from "../loadtest/running_phase.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    jobs: { type: "string", default: "200" },
    askers: { type: "string", default: "50" },
    seconds: { type: "string", default: "30" },
  },
});
const result = await runRunningPhase({
  jobs: Number(values.jobs),
  askers: Number(values.askers),
  seconds: Number(values.seconds),
});
console.log(formatRunningPhase(result).trimEnd());
