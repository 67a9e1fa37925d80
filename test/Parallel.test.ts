import { assert, describe, it } from "@effect/vitest"
import { Cause, Data, Effect, Exit, Fiber, Latch } from "effect"
import { Parallel, WorkerError, WorkerPool } from "../src/index.ts"

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

  it.effect("an invalid concurrency dies with a WorkerError naming the option (a bug, not an outcome)", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Parallel.forEach([1], Effect.succeed, { concurrency: 0 }))
      assert.isTrue(Exit.isFailure(exit))
      const defect = Cause.squash((exit as Exit.Failure<unknown, unknown>).cause)
      assert.instanceOf(defect, WorkerError.WorkerError)
      assert.strictEqual((defect as WorkerError.WorkerError).reason._tag, "InvalidOption")
      assert.include((defect as WorkerError.WorkerError).message, "concurrency")
      assert.include((defect as WorkerError.WorkerError).message, "got 0")
    }))

  it.effect("the error type is exactly f's: no WorkerError unless f runs tasks", () =>
    Effect.gen(function*() {
      // compile-time checks: these assignments fail to type-check if forEach widens the error type
      const none: Effect.Effect<Array<number>, never> = Parallel.forEach([1, 2], (n) => Effect.succeed(n + 1))
      const own: Effect.Effect<Array<number>, Oops> = Parallel.forEach([1], (n) => n > 0 ? Effect.succeed(n) : Effect.fail(new Oops()))
      const collected: Effect.Effect<Array<WorkerPool.BatchResult<number, Oops>>, never> = Parallel.forEach(
        [1],
        (n) => n > 0 ? Effect.succeed(n) : Effect.fail(new Oops()),
        { mode: "result" }
      )
      assert.deepStrictEqual(yield* none, [2, 3])
      assert.deepStrictEqual(yield* own, [1])
      assert.strictEqual((yield* collected)[0]!._tag, "Success")
    }))

  it.effect("mode \"result\" runs every item and returns each value, typed error or defect in input order", () =>
    Effect.gen(function*() {
      let ran = 0
      const results = yield* Parallel.forEach([1, -2, 3, 0, 5], (n, i) =>
        Effect.suspend(() => {
          ran++
          if (n < 0) return Effect.fail(new Oops())
          if (n === 0) return Effect.die(new RangeError(`zero at ${i}`))
          return Effect.succeed(n * 10)
        }), { concurrency: 2, mode: "result" })
      assert.strictEqual(ran, 5, "a failure does not stop the others")
      assert.deepStrictEqual(results.map((r) => [r._tag, r.index]), [
        ["Success", 0],
        ["Failure", 1],
        ["Success", 2],
        ["Defect", 3],
        ["Success", 4]
      ])
      const failure = results[1]!
      assert.isTrue(failure._tag === "Failure" && failure.error instanceof Oops)
      const defect = results[3]!
      assert.isTrue(defect._tag === "Defect" && defect.defect instanceof RangeError)
      const values = results.flatMap((r) => r._tag === "Success" ? [r.value] : [])
      assert.deepStrictEqual(values, [10, 30, 50])
      const summary = WorkerPool.summarize(results)
      assert.deepStrictEqual(summary, { total: 5, succeeded: 3, failed: { Oops: 1, Defect: 1 }, retried: 0 })
    }))

  it.effect("mode \"result\" cannot be combined with discard", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Parallel.forEach([1], Effect.succeed, { mode: "result", discard: true } as never) as Effect.Effect<unknown>
      )
      const defect = Cause.squash((exit as Exit.Failure<unknown, unknown>).cause) as WorkerError.WorkerError
      assert.strictEqual(defect.reason._tag, "InvalidOption")
      assert.include(defect.message, "discard")
    }))

  it.live("interrupting a mode \"result\" forEach interrupts every item still running (R1)", () =>
    Effect.gen(function*() {
      const allStarted = yield* Latch.make()
      let started = 0
      let interrupted = 0
      const fiber = yield* Effect.forkChild(
        Parallel.forEach([1, 2, 3], () =>
          Effect.andThen(
            Effect.suspend(() => ++started === 3 ? allStarted.open : Effect.void),
            Effect.never
          ).pipe(Effect.onInterrupt(() => Effect.sync(() => interrupted++))), {
          concurrency: "unbounded",
          mode: "result"
        })
      )
      yield* allStarted.await
      yield* Fiber.interrupt(fiber)
      assert.strictEqual(interrupted, 3)
    }))
})

class Oops extends Data.TaggedError("Oops")<{}> {}
