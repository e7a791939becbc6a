/**
 * Assertions in the shape of Deno's @std/assert (which lives on JSR, out of our reach), built on
 * `node:assert` and `node:util`.
 *
 * @module
 */
import { AssertionError } from "node:assert";
import { inspect, isDeepStrictEqual } from "node:util";

function fail(message: string): never {
  throw new AssertionError({ message });
}

/** Asserts a truthy value. */
export function assert(condition: unknown, message = "expected a truthy value"): asserts condition {
  if (!condition) fail(message);
}

/** Deep strict equality. */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  if (!isDeepStrictEqual(actual, expected)) {
    fail(
      `${message ? message + "\n" : ""}values differ\n  actual:   ${
        inspect(actual, { depth: 6 })
      }\n  expected: ${inspect(expected, { depth: 6 })}`,
    );
  }
}

/** Deep strict inequality. */
export function assertNotEquals<T>(actual: T, expected: T, message?: string): void {
  if (isDeepStrictEqual(actual, expected)) {
    fail(message ?? `expected a value other than ${inspect(expected)}`);
  }
}

/** `actual` contains `expected`. */
export function assertStringIncludes(actual: string, expected: string, message?: string): void {
  if (!actual.includes(expected)) {
    fail(message ?? `expected ${inspect(actual)} to include ${inspect(expected)}`);
  }
}

/** `actual` matches the pattern. */
export function assertMatch(actual: string, pattern: RegExp, message?: string): void {
  if (!pattern.test(actual)) fail(message ?? `expected ${inspect(actual)} to match ${pattern}`);
}

/** `actual` does not match the pattern. */
export function assertNotMatch(actual: string, pattern: RegExp, message?: string): void {
  if (pattern.test(actual)) fail(message ?? `expected ${inspect(actual)} not to match ${pattern}`);
}

/** `fn` throws an instance of `ErrorClass`, optionally with `includes` in its message. */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  ErrorClass: new (...args: any[]) => E,
  includes?: string,
): E {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof ErrorClass)) {
      fail(`expected ${ErrorClass.name}, got ${inspect(error)}`);
    }
    if (includes !== undefined && !error.message.includes(includes)) {
      fail(`expected message to include ${inspect(includes)}, got ${inspect(error.message)}`);
    }
    return error;
  }
  fail(`expected ${ErrorClass.name} to be thrown`);
}

/** The promise rejects with an instance of `ErrorClass`, optionally with `includes` in its message. */
export async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  ErrorClass: new (...args: any[]) => E,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (error) {
    if (!(error instanceof ErrorClass)) {
      fail(`expected ${ErrorClass.name}, got ${inspect(error)}`);
    }
    if (includes !== undefined && !error.message.includes(includes)) {
      fail(`expected message to include ${inspect(includes)}, got ${inspect(error.message)}`);
    }
    return error;
  }
  fail(`expected ${ErrorClass.name} to be rejected`);
}
