/**
 * Zip streaming: a job of `--tracks` files totalling `--mb` megabytes (sparse files, so making
 * them costs nothing) is zipped through the real HTTP route (`/jobs/<id>/<title>.zip`, signed)
 * and read by a client that throws the bytes away. Prints throughput and the process's peak RSS
 * next to its RSS before, sampled every 20 ms: memory must not grow with the album's size.
 *
 * ```sh
 * scripts/deno run -A scripts/bench/zip.ts [--mb 1024] [--tracks 100]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { createHttpHandler } from "../../src/http/server.ts";
import { bundleLinkPath, LinkSigner } from "../../src/http/signing.ts";
import { createMetrics } from "../../src/metrics/metrics.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { mb: { type: "string", default: "1024" }, tracks: { type: "string", default: "100" } },
});
const totalBytes = Number(values.mb) * 1024 * 1024;
const tracks = Number(values.tracks);
const jobId = "benchzip01";
const root = await Deno.makeTempDir({ prefix: "dlbot-bench-zip-" });
try {
  await Deno.mkdir(`${root}/${jobId}`);
  for (let i = 0; i < tracks; i++) {
    const file = await Deno.open(`${root}/${jobId}/Track ${String(i + 1).padStart(3, "0")}.mp3`, {
      write: true,
      create: true,
    });
    await file.truncate(Math.floor(totalBytes / tracks));
    file.close();
  }
  const signer = await LinkSigner.fromSecret("bench-secret-bench-secret");
  const handler = createHttpHandler({
    signer,
    downloadsDir: root,
    health: {
      liveness: () => ({ ok: true }),
      readiness: () => Promise.resolve({ ready: true, checks: {} }),
    } as never,
    metrics: createMetrics(),
  });
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    (r) => handler(r),
  );
  const path = await signer.sign(bundleLinkPath(jobId, "Bench Album", "zip"), 4_000_000_000);
  const before = Deno.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, Deno.memoryUsage().rss);
  }, 20);
  const started = performance.now();
  const response = await fetch(`http://127.0.0.1:${server.addr.port}${path}`);
  let received = 0;
  for await (const chunk of response.body ?? []) received += chunk.length;
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  await server.shutdown();
  const mib = (n: number) => (n / 1024 / 1024).toFixed(0);
  console.log(
    `zip of ${tracks} files, ${mib(totalBytes)} MiB: ${mib(received)} MiB in ${
      seconds.toFixed(1)
    } s ` +
      `= ${(received / 1024 / 1024 / seconds).toFixed(0)} MiB/s; Content-Length ${
        response.headers.get("content-length")
      }; RSS before ${mib(before)} MiB, peak ${mib(peak)} MiB`,
  );
} finally {
  await Deno.remove(root, { recursive: true });
}
