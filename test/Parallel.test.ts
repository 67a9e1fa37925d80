import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Latch } from "effect"
import { Parallel, WorkerError } from "../src/index.ts"

describe("Parallel", () => {
  it.effect("forEach keeps input order and never runs more than `concurrency` at once", () =>
    Effect.gen(function*() {
      let active = 0
      let peak = 0
      const out = yield* Parallel.forEach([5, 4, 3, 2, 1, 0], (n, i) =>
        Effect.gen(function*() {
          active++
          peak = Math.max(peak, active)
          yield* Effect.yieldNow
          active--
          return n * 10 + i
        }), { concurrency: 2 })
      assert.deepStrictEqual(out, [50, 41, 32, 23, 14, 5])
      assert.strictEqual(peak, 2)
    }))

  it.effect("\"unbounded\" starts everything at once; \"cores\" uses the usable core count", () =>
    Effect.gen(function*() {
      const latch = yield* Latch.make()
      let started = 0
      const fiber = yield* Effect.forkChild(
        Parallel.forEach([1, 2, 3, 4, 5, 6, 7, 8], (): Effect.Effect<void> => Effect.andThen(Effect.sync(() => started++), latch.await), {
          concurrency: "unbounded",
          discard: true
        })
      )
      while (started < 8) yield* Effect.yieldNow
      yield* latch.open
      yield* Fiber.join(fiber)
      const cores = yield* Parallel.cores
      assert.isAtLeast(cores, 1)
    }))

  it.effect("an invalid concurrency is a typed error naming the option", () =>
    Effect.gen(function*() {
      const e = yield* Effect.flip(Parallel.forEach([1], Effect.succeed, { concurrency: 0 }))
      assert.instanceOf(e, WorkerError.WorkerError)
      assert.strictEqual(e.reason._tag, "InvalidOption")
      assert.include(e.message, "concurrency")
    }))
})
