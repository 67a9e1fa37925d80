/**
 * Tasks for `threads-vs-processes.ts`: one that waits, one that computes. No top-level side effects.
 */
import { Effect, Schema } from "effect"
import { Task } from "../src/index.ts"

/** Waits `ms` milliseconds without using the CPU: a stand-in for a network call or a database query. */
export const Nap = Task.make("Nap", {
  module: import.meta.url,
  payload: Schema.Number,
  success: Schema.Number,
  run: (ms) => Effect.sleep(ms).pipe(Effect.as(ms))
})

/** Pure CPU work: `rounds` rounds of an integer hash, starting from `seed`. Same input, same output, anywhere. */
export const crunch = (seed: number, rounds: number): number => {
  let x = seed | 0
  for (let i = 0; i < rounds; i++) {
    x ^= x >>> 16
    x = Math.imul(x, 0x7feb352d)
    x ^= x >>> 15
    x = Math.imul(x, 0x846ca68b)
    x ^= x >>> 16
  }
  return x >>> 0
}

export const Crunch = Task.make("Crunch", {
  module: import.meta.url,
  payload: Schema.Struct({ seed: Schema.Int, rounds: Schema.Int }),
  success: Schema.Number,
  run: ({ rounds, seed }) => Effect.sync(() => crunch(seed, rounds))
})
