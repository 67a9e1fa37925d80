/**
 * The kernel of the speedup example: the longest Collatz chain in a range of starting numbers. A task module
 * on its own, with no top-level side effects: the program and every worker import it, nothing runs on import.
 *
 * The chain of n is n, n/2 (n even) or 3n + 1 (n odd), … down to 1. Chain lengths are irregular (27 takes 111
 * steps, 28 takes 18), so ranges of the same size cost about the same but no two numbers do: work that is
 * CPU-bound, fine-grained, and does not divide evenly by hand.
 */
import { Effect, Schema } from "effect"
import { Task } from "../src/index.ts"

/**
 * Steps from `start` down to 1. Values stay below 2^53 (exact in a double) for every start below about 10^15.
 *
 * The parity test is `floor(n / 2) * 2 === n`, not `n % 2`: chains pass 2^31, where V8 leaves small
 * integers for doubles, and `%` on doubles is a slow library call (about 5x slower here at a million starts).
 */
export const collatzSteps = (start: number): number => {
  let n = start
  let steps = 0
  while (n !== 1) {
    const half = Math.floor(n / 2)
    n = half * 2 === n ? half : 3 * n + 1
    steps++
  }
  return steps
}

export const Longest = Schema.Struct({ start: Schema.Int, steps: Schema.Int })
export type Longest = typeof Longest.Type

/** The start in [from, to) with the longest chain (the smallest such start on ties). */
export const longestChain = (from: number, to: number): Longest => {
  let best: Longest = { start: from, steps: -1 }
  for (let start = Math.max(1, from); start < to; start++) {
    const steps = collatzSteps(start)
    if (steps > best.steps) best = { start, steps }
  }
  return best
}

/** The same function as a task. */
export const LongestChain = Task.make("LongestChain", {
  module: import.meta.url,
  payload: Schema.Struct({ from: Schema.Int, to: Schema.Int }),
  success: Longest,
  run: ({ from, to }) => Effect.sync(() => longestChain(from, to))
})

/** The longest of many results (the smallest start on ties, as for one range). */
export const longestOf = (results: ReadonlyArray<Longest>): Longest =>
  results.reduce((a, b) => (b.steps > a.steps || (b.steps === a.steps && b.start < a.start) ? b : a))
