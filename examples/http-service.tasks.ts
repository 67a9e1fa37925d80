/**
 * The task of `http-service.ts`: counting primes in a range, with a declared error for a range the
 * service refuses. A task module with no top-level side effects, and no `@effect/platform-node` import:
 * every worker imports this module, and a light one keeps the pool's start-up short.
 */
import { Effect, Schema } from "effect"
import { Task } from "../src/index.ts"

/** The largest range one request may ask for. */
export const MAX_SPAN = 2_000_000

/** A range the service refuses: negative, reversed, or wider than `MAX_SPAN`. */
export class BadRange extends Schema.TaggedError<BadRange>()("BadRange", {
  from: Schema.Number,
  to: Schema.Number,
  reason: Schema.String
}) {}

export const Range = Schema.Struct({ from: Schema.Int, to: Schema.Int })

const isPrime = (n: number): boolean => {
  if (n < 2) return false
  if (n % 2 === 0) return n === 2
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false
  return true
}

/** The number of primes in [from, to). */
export const countPrimes = (from: number, to: number): number => {
  let count = 0
  for (let n = from; n < to; n++) if (isPrime(n)) count++
  return count
}

export const CountPrimes = Task.make("CountPrimes", {
  module: import.meta.url,
  payload: Range,
  success: Schema.Struct({ from: Schema.Int, to: Schema.Int, primes: Schema.Int }),
  error: BadRange,
  run: ({ from, to }) => {
    if (from < 0) return Effect.fail(new BadRange({ from, to, reason: "from must not be negative" }))
    if (to < from) return Effect.fail(new BadRange({ from, to, reason: "to must not be below from" }))
    if (to - from > MAX_SPAN) return Effect.fail(new BadRange({ from, to, reason: `a range may span at most ${MAX_SPAN} numbers` }))
    return Effect.sync(() => ({ from, to, primes: countPrimes(from, to) }))
  }
})
