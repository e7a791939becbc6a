/**
 * A bounded memory of recent ids, for the chat updater's finished jobs and status messages.
 *
 * @module
 */

/** Entries remembered at most. */
const MEMORY = 1000;

/** Adds to a bounded memory (a Set or Map used in insertion order), dropping the oldest. */
export function remember<K, V>(memory: Set<K> | Map<K, V>, key: K, value?: V): void {
  memory.delete(key);
  if (memory instanceof Map) memory.set(key, value as V);
  else memory.add(key);
  if (memory.size > MEMORY) {
    const oldest = memory.keys().next().value;
    if (oldest !== undefined) memory.delete(oldest);
  }
}
