/**
 * Shutdown signals, the one way: the first SIGTERM or SIGINT asks for a graceful stop, a second
 * one exits at once with status 130 (after `onRepeat` had its say).
 *
 * @module
 */

/** What {@linkcode onShutdownSignals} calls. */
export interface ShutdownHandlers {
  /** The first signal: begin a graceful stop. */
  onFirst(signal: Deno.Signal): void;
  /** A second signal, just before the process exits with 130. */
  onRepeat(signal: Deno.Signal): void;
}

/** Listens for SIGTERM and SIGINT; returns the function that stops listening. */
export function onShutdownSignals(handlers: ShutdownHandlers): () => void {
  let received = 0;
  const signals: Deno.Signal[] = ["SIGTERM", "SIGINT"];
  const listeners = signals.map((signal) => {
    const listener = () => {
      received++;
      if (received > 1) {
        handlers.onRepeat(signal);
        Deno.exit(130);
      }
      handlers.onFirst(signal);
    };
    Deno.addSignalListener(signal, listener);
    return [signal, listener] as const;
  });
  return () => {
    for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
  };
}
