/**
 * SharedLock and SharedArray across workers: exact counts under contention, interruption at every step,
 * release by crashes (R1, R8), on threads, processes and in-process.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber } from "effect"
import { SharedArray, SharedError, SharedLock } from "../src/index.ts"
import { backends } from "./conformance/backends.ts"
import { AtomicIncrements, DieHolding, LockedIncrements, SumShared, TryLock } from "./fixtures/shared-tasks.ts"

describe("SharedLock in one isolate", () => {
  it.live("acquire, release, acquireIfAvailable, isLocked, over-release", () =>
    Effect.gen(function*() {
      const lock = yield* SharedLock.make
      assert.isFalse(yield* SharedLock.isLocked(lock))
      yield* SharedLock.acquire(lock)
      assert.isTrue(yield* SharedLock.isLocked(lock))
      assert.isFalse(yield* SharedLock.acquireIfAvailable(lock))
      const timeout = yield* Effect.flip(SharedLock.acquire(lock, { timeout: "30 millis" }))
      assert.instanceOf(timeout, SharedError.SharedError)
      assert.strictEqual(timeout.reason._tag, "Timeout")
      yield* SharedLock.release(lock)
      const over = yield* Effect.flip(SharedLock.release(lock))
      assert.strictEqual(over.reason._tag, "OverRelease")
      assert.isTrue(yield* SharedLock.acquireIfAvailable(lock))
      yield* SharedLock.release(lock)
    }))

  it.live("a waiter interrupted at any step leaves the lock free (R1)", () =>
    Effect.gen(function*() {
      const lock = yield* SharedLock.make
      for (let steps = 0; steps < 40; steps++) {
        yield* SharedLock.acquire(lock)
        const waiter = yield* Effect.forkChild(SharedLock.withLock(lock)(Effect.void), { startImmediately: true })
        for (let i = 0; i < steps; i++) yield* Effect.yieldNow
        if (steps % 2 === 0) yield* SharedLock.release(lock)
        yield* Fiber.interrupt(waiter)
        if (steps % 2 === 1) yield* SharedLock.release(lock)
        assert.isFalse(yield* SharedLock.isLocked(lock), `leaked after ${steps} steps`)
      }
    }))
})

for (const backend of backends) {
  const pool = (size = 2) => backend.layer({ size, interruptGrace: "300 millis" })
  const times = backend.name === "processes" ? 500 : 20_000

  describe(`SharedLock and SharedArray on ${backend.name}`, () => {
    it.live(`2 workers x ${times} lock-protected increments give the exact count`, () =>
      Effect.gen(function*() {
        const lock = yield* SharedLock.make
        const counter = yield* SharedArray.make("Int32", 1)
        yield* Effect.forEach([1, 2], () => LockedIncrements({ lock, counter, times }), { concurrency: "unbounded" })
        assert.strictEqual(yield* SharedArray.get(counter, 0), 2 * times)
        assert.isFalse(yield* SharedLock.isLocked(lock))
      }).pipe(Effect.provide(pool())))

    it.live(`2 workers x ${times} atomic adds give the exact count`, () =>
      Effect.gen(function*() {
        const counter = yield* SharedArray.make("Int32", 1)
        yield* Effect.forEach([1, 2], () => AtomicIncrements({ counter, times }), { concurrency: "unbounded" })
        assert.strictEqual(yield* SharedArray.get(counter, 0), 2 * times)
      }).pipe(Effect.provide(pool())))

    it.live("a worker sees the parent's shared array", () =>
      Effect.gen(function*() {
        const data = yield* SharedArray.make("Float64", 1000)
        const view = yield* SharedArray.view(data)
        for (let i = 0; i < view.length; i++) view[i] = i
        assert.strictEqual(yield* SumShared({ data }), 499_500)
      }).pipe(Effect.provide(pool(1))))

    it.live.skipIf(!backend.isolated)(
      backend.isolated ? "a lock held by a worker that dies is released (R8)" : "a lock held by a worker that dies is released (R8) (skipped in-process: a crash would end the test process)",
      () =>
        Effect.gen(function*() {
          const lock = yield* SharedLock.make
          const died = yield* Effect.exit(DieHolding({ lock }))
          assert.isTrue(Exit.isFailure(died))
          assert.isFalse(yield* SharedLock.isLocked(lock), "released when the worker died")
          assert.isTrue(yield* TryLock({ lock, millis: 2000 }))
        }).pipe(Effect.provide(pool()))
    )
  })
}
