/**
 * Fault injection rules for the emulator, drawn from a seeded RNG so runs are reproducible.
 *
 * @module
 */
import type { FaultRule } from "./emulator_types.ts";

/** A deterministic PRNG (mulberry32) returning numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ActiveRule {
  rule: FaultRule;
  remaining: number;
}

/** The active fault rules; the first matching rule that fires decides a call's fate. */
export class FaultInjector {
  #rules: ActiveRule[] = [];
  readonly #random: () => number;

  constructor(seed: number) {
    this.#random = seededRandom(seed);
  }

  /** Adds a rule after the existing ones. */
  add(rule: FaultRule): void {
    if (rule.probability !== undefined && !(rule.probability >= 0 && rule.probability <= 1)) {
      throw new RangeError(`fault probability must be within 0..1, got ${rule.probability}`);
    }
    if (rule.times !== undefined && !(Number.isInteger(rule.times) && rule.times > 0)) {
      throw new RangeError(`fault times must be a positive integer, got ${rule.times}`);
    }
    this.#rules.push({ rule, remaining: rule.times ?? Infinity });
  }

  /** Removes every rule. */
  clear(): void {
    this.#rules = [];
  }

  /** The rule that hits a call to `method`, if any (consuming one of its `times`). */
  pick(method: string): FaultRule | undefined {
    for (const active of this.#rules) {
      const { rule } = active;
      if (!matches(rule.method, method)) continue;
      if (rule.probability !== undefined && this.#random() >= rule.probability) continue;
      active.remaining--;
      if (active.remaining <= 0) this.#rules = this.#rules.filter((r) => r !== active);
      return rule;
    }
    return undefined;
  }
}

function matches(pattern: string | RegExp | undefined, method: string): boolean {
  if (pattern === undefined) return true;
  if (typeof pattern === "string") return pattern.toLowerCase() === method.toLowerCase();
  pattern.lastIndex = 0;
  return pattern.test(method);
}
