/**
 * SharedRLock: re-entry by its holder fiber, exclusion of every other fiber (same isolate or another
 * worker), interruption at every step (R1), release by crashes (R8), on threads, processes and in-process.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber } from "effect"
import { SharedArray, SharedRLock } from "../src/index.ts"
import { backends } from "./conformance/backends.ts"
import { DieHoldingRLock, RLockedIncrements, RLockInterruptEverywhere, RLockTwoFibers, TryRLock } from "./fixtures/shared-tasks-2.ts"

describe("SharedRLock in one isolate", () => {
  it.live("its holder takes it again; each acquire needs its release; over-release fails", () =>
    Effect.gen(function*() {
      const lock = yield* SharedRLock.make
      assert.isFalse(yield* SharedRLock.isLocked(lock))
      yield* SharedRLock.acquire(lock)
      yield* SharedRLock.acquire(lock)
      assert.isTrue(yield* SharedRLock.acquireIfAvailable(lock), "the holder takes it without waiting")
      assert.isTrue(yield* SharedRLock.isHeld(lock))
      yield* SharedRLock.release(lock)
      yield* SharedRLock.release(lock)
      assert.isTrue(yield* SharedRLock.isLocked(lock), "one hold left")
      yield* SharedRLock.release(lock)
      assert.isFalse(yield* SharedRLock.isLocked(lock))
      const over = yield* Effect.flip(SharedRLock.release(lock))
      assert.strictEqual(over.reason._tag, "OverRelease")
      // nested withLock
      const depth = yield* SharedRLock.withLock(lock)(SharedRLock.withLock(lock)(SharedRLock.withLock(lock)(Effect.succeed(3))))
      assert.strictEqual(depth, 3)
      assert.isFalse(yield* SharedRLock.isLocked(lock))
    }))

  it.live("another fiber of the same isolate is another owner: it waits, times out, and cannot release", () =>
    Effect.gen(function*() {
      const lock = yield* SharedRLock.make
      yield* SharedRLock.acquire(lock)
      const other = yield* Effect.forkChild(
        Effect.gen(function*() {
          const isHeld = yield* SharedRLock.isHeld(lock)
          const ifAvailable = yield* SharedRLock.acquireIfAvailable(lock)
          const timeout = (yield* Effect.flip(SharedRLock.acquire(lock, { timeout: "20 millis" }))).reason._tag
          const release = (yield* Effect.flip(SharedRLock.release(lock))).reason._tag
          return { isHeld, ifAvailable, timeout, release }
        })
      )
      assert.deepStrictEqual(yield* Fiber.join(other), { isHeld: false, ifAvailable: false, timeout: "Timeout", release: "OverRelease" })
      const waiter = yield* Effect.forkChild(SharedRLock.withLock(lock)(Effect.succeed("got it")), { startImmediately: true })
      yield* Effect.sleep("20 millis")
      assert.isUndefined(waiter.pollUnsafe(), "waits while another fiber holds it")
      yield* SharedRLock.release(lock)
      assert.strictEqual(yield* Fiber.join(waiter), "got it")
      assert.isFalse(yield* SharedRLock.isLocked(lock))
    }))

  it.live("a waiter interrupted at any step leaves the lock free (R1)", () =>
    Effect.gen(function*() {
      const lock = yield* SharedRLock.make
      for (let steps = 0; steps < 40; steps++) {
        yield* SharedRLock.acquire(lock)
        yield* SharedRLock.acquire(lock)
        const waiter = yield* Effect.forkChild(SharedRLock.withLock(lock)(Effect.void), { startImmediately: true })
        for (let i = 0; i < steps; i++) yield* Effect.yieldNow
        yield* SharedRLock.release(lock)
        if (steps % 2 === 0) yield* SharedRLock.release(lock)
        yield* Fiber.interrupt(waiter)
        if (steps % 2 === 1) yield* SharedRLock.release(lock)
        assert.isFalse(yield* SharedRLock.isLocked(lock), `leaked after ${steps} steps`)
      }
    }))
})

for (const backend of backends) {
  const pool = (size = 2) => backend.layer({ size, interruptGrace: "300 millis" })
  const times = backend.name === "processes" ? 300 : 5_000

  describe(`SharedRLock on ${backend.name}`, () => {
    it.live(`2 workers x ${times} increments under a lock taken 3 times each give the exact count`, () =>
      Effect.gen(function*() {
        const lock = yield* SharedRLock.make
        const counter = yield* SharedArray.make("Int32", 1)
        yield* Effect.forEach([1, 2], () => RLockedIncrements({ lock, counter, times, depth: 3 }), { concurrency: "unbounded" })
        assert.strictEqual(yield* SharedArray.get(counter, 0), 2 * times)
        assert.isFalse(yield* SharedRLock.isLocked(lock))
      }).pipe(Effect.provide(pool())))

    it.live("two fibers of one worker are two owners", () =>
      Effect.gen(function*() {
        const lock = yield* SharedRLock.make
        const seen = yield* RLockTwoFibers({ lock })
        assert.deepStrictEqual(seen, [
          "held:true",
          "other held:false",
          "other ifAvailable:false",
          "other timeout:Timeout",
          "after one release, other done:false",
          "other acquired",
          "over:OverRelease"
        ])
        assert.isFalse(yield* SharedRLock.isLocked(lock))
      }).pipe(Effect.provide(pool(1))))

    it.live("the parent holding the lock excludes the workers until it releases", () =>
      Effect.gen(function*() {
        const lock = yield* SharedRLock.make
        yield* SharedRLock.acquire(lock)
        assert.isFalse(yield* TryRLock({ lock, millis: 50 }))
        const waiting = yield* Effect.forkChild(TryRLock({ lock, millis: 10_000 }), { startImmediately: true })
        yield* Effect.sleep("50 millis")
        yield* SharedRLock.release(lock)
        assert.isTrue(yield* Fiber.join(waiting))
      }).pipe(Effect.provide(pool())))

    it.live("a waiter in a worker interrupted at any step leaves the lock free (R1)", () =>
      Effect.gen(function*() {
        const lock = yield* SharedRLock.make
        const leaks = yield* RLockInterruptEverywhere({ lock, rounds: backend.name === "processes" ? 12 : 30 })
        assert.deepStrictEqual(leaks, [])
        assert.isFalse(yield* SharedRLock.isLocked(lock))
      }).pipe(Effect.provide(pool(1))))

    it.live.skipIf(!backend.isolated)(
      backend.isolated
        ? "a lock held (3 times) by a worker that dies is released (R8)"
        : "a lock held (3 times) by a worker that dies is released (R8) (skipped in-process: a crash would end the test process)",
      () =>
        Effect.gen(function*() {
          const lock = yield* SharedRLock.make
          const died = yield* Effect.exit(DieHoldingRLock({ lock }))
          assert.isTrue(Exit.isFailure(died))
          assert.isFalse(yield* SharedRLock.isLocked(lock), "released when the worker died")
          assert.isTrue(yield* TryRLock({ lock, millis: 2000 }))
        }).pipe(Effect.provide(pool()))
    )
  })
}
