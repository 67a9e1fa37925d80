/**
 * The task of `manager-sum.ts`: sums one half of a long sequence and writes the result into a shared
 * list held by the parent (a `Manager.list`). A task module on its own, with no top-level side effects.
 */
import { Effect, Schema } from "effect"
import { Manager, SharedError, Task } from "../src/index.ts"

/** The sequence: term i is a hash of i, between 0 and 999 (integers, so every sum is exact). */
export const term = (i: number): number => (Math.imul(i, 2654435761) >>> 0) % 1000

/** Sums the terms in [from, to): plain code, called by the task and by the serial loop. */
export const sumRange = (from: number, to: number): number => {
  let s = 0
  for (let i = from; i < to; i++) s += term(i)
  return s
}

/** Sums [from, to) and stores the sum at `slot` of the shared list. */
export const SumHalf = Task.make("SumHalf", {
  module: import.meta.url,
  payload: Schema.Struct({
    from: Schema.Int,
    to: Schema.Int,
    slot: Schema.Int,
    sums: Manager.listSchema(Schema.Number)
  }),
  success: Schema.Void,
  error: SharedError.SharedError,
  run: ({ from, slot, sums, to }) => Effect.flatMap(Effect.sync(() => sumRange(from, to)), (s) => sums.set(slot, s))
})
