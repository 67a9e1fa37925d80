// The README's example program, as a user runs it (`node readme.ts`, type stripping, the built package),
// with two lines added: it prints when the first task's result arrived, in ms since the process started,
// and how long the task itself took in its worker. Its task module is itself (the import.meta.main guard).
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { Task, WorkerPool } from "effect-parallel"

const countPrimes = (from: number, to: number) => {
  let n = 0
  for (let i = Math.max(from, 2); i < to; i++) {
    let prime = true
    for (let d = 2; d * d <= i && prime; d++) prime = i % d !== 0
    if (prime) n++
  }
  return n
}

export class BadRange extends Schema.TaggedError<BadRange>()("BadRange", { from: Schema.Number }) {}

export const CountPrimes = Task.make("CountPrimes", {
  module: import.meta.url,
  payload: Schema.Struct({ from: Schema.Number, to: Schema.Number }),
  success: Schema.Struct({ count: Schema.Number, millis: Schema.Number }),
  error: BadRange,
  run: ({ from, to }) =>
    from < 0 ? Effect.fail(new BadRange({ from })) : Effect.sync(() => {
      const t0 = performance.now()
      const count = countPrimes(from, to)
      return { count, millis: performance.now() - t0 }
    })
})

const program = Effect.gen(function*() {
  const one = yield* CountPrimes({ from: 0, to: 1_000_000 })
  console.log(JSON.stringify({ first: performance.now(), task: one.millis, count: one.count }))
})

if (import.meta.main) program.pipe(Effect.provide(WorkerPool.layer({ size: "cores" })), NodeRuntime.runMain)
