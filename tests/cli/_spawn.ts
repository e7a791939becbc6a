/**
 * Runs `main.ts` the way the compiled binary runs: `deno run` with exactly the flags in
 * scripts/permissions.txt.
 *
 * @module
 */

import { mainArgs, REPO_ROOT } from "../_test_utils.ts";
import { childEnv } from "../_fixtures.ts";

/** Result of one CLI run. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `dlbot <args>` from source; `env` replaces the environment except PATH and HOME. */
export async function runCli(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; stdin?: string } = {},
): Promise<CliRun> {
  const command = new Deno.Command(Deno.execPath(), {
    args: mainArgs(...args),
    cwd: options.cwd ?? REPO_ROOT,
    clearEnv: true,
    env: childEnv(options.env),
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  });
  const child = command.spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Fails when output carries noise a user should never see. */
export function assertCleanOutput(run: CliRun): void {
  const all = run.stdout + run.stderr;
  for (const noise of ["DeprecationWarning", "punycode", "node:", "    at "]) {
    if (all.includes(noise)) {
      throw new Error(`unexpected ${JSON.stringify(noise)} in output:\n${all}`);
    }
  }
}
