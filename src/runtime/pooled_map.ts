/**
 * `items` mapped through `fn` with at most `limit` calls at a time, results in the items' order.
 * Written here rather than imported: `@std/async`'s `pooledMap` is on JSR, which our machines
 * cannot reach, and a dozen lines do not warrant an npm dependency.
 */
export async function pooledMap<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
