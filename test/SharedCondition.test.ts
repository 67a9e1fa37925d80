/**
 * SharedCondition: await releases the lock and takes it back (after a notify, a timeout or an
 * interruption), awaitFor loops on a predicate, notifies are never lost to waiters that gave up, and a
 * producer and consumers coordinate across workers; on threads, processes and in-process.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber } from "effect"
import { SharedArray, SharedCondition, SharedLock, SharedRLock } from "../src/index.ts"
import { backends } from "./conformance/backends.ts"
import { ConditionAwaitOnce, ConditionConsume, ConditionInterruptEverywhere, ConditionProduce, DieWaitingOnCondition } from "./fixtures/shared-tasks-2.ts"

const waitUntil = (check: Effect.Effect<boolean, unknown>, what: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 200; i++) {
      if (yield* check) return
      yield* Effect.sleep("10 millis")
    }
    return yield* Effect.die(new Error(`never happened: ${what}`))
  })

describe("SharedCondition in one isolate", () => {
  it.live("await releases the lock, wakes on notify and holds the lock again when it returns", () =>
    Effect.gen(function*() {
      const lock = yield* SharedRLock.make
      const cond = yield* SharedCondition.make({ lock })
      const waiter = yield* Effect.forkChild(
        SharedCondition.withLock(cond)(
          Effect.gen(function*() {
            yield* SharedRLock.acquire(lock) // held twice: await must release both holds
            yield* SharedCondition.await(cond)
            const held = yield* SharedRLock.isHeld(lock)
            yield* SharedRLock.release(lock)
            return held
          })
        ),
        { startImmediately: true }
      )
      yield* waitUntil(Effect.map(SharedCondition.waiting(cond), (n) => n === 1), "the waiter waits")
      assert.isFalse(yield* SharedRLock.isLocked(lock), "the lock is free while waiting")
      yield* SharedCondition.withLock(cond)(SharedCondition.notify(cond))
      assert.isTrue(yield* Fiber.join(waiter), "held again after await")
      assert.isFalse(yield* SharedRLock.isLocked(lock))
    }))

  it.live("await without the lock fails with OverRelease and leaves no waiter", () =>
    Effect.gen(function*() {
      const cond = yield* SharedCondition.make()
      const e = yield* Effect.flip(SharedCondition.await(cond))
      assert.strictEqual(e.reason._tag, "OverRelease")
      assert.strictEqual(yield* SharedCondition.waiting(cond), 0)
    }))

  it.live("a timed-out await fails with Timeout, holding the lock again; awaitFor re-checks its predicate", () =>
    Effect.gen(function*() {
      const lock = yield* SharedLock.make
      const cond = yield* SharedCondition.make({ lock })
      const timedOut = yield* SharedCondition.withLock(cond)(
        Effect.gen(function*() {
          const e = yield* Effect.flip(SharedCondition.await(cond, { timeout: "20 millis" }))
          return [e.reason._tag, yield* SharedLock.isLocked(lock)] as const
        })
      )
      assert.deepStrictEqual(timedOut, ["Timeout", true])
      assert.isFalse(yield* SharedLock.isLocked(lock))
      let n = 0
      const counter = Effect.sync(() => n >= 3)
      const waiter = yield* Effect.forkChild(SharedCondition.withLock(cond)(SharedCondition.awaitFor(cond, counter)), { startImmediately: true })
      for (let i = 0; i < 3; i++) {
        yield* waitUntil(Effect.map(SharedCondition.waiting(cond), (w) => w === 1), "the waiter waits")
        yield* SharedCondition.withLock(cond)(Effect.andThen(Effect.sync(() => n++), SharedCondition.notifyAll(cond)))
      }
      yield* Fiber.join(waiter)
      const never = yield* Effect.flip(SharedCondition.withLock(cond)(SharedCondition.awaitFor(cond, Effect.succeed(false), { timeout: "30 millis" })))
      assert.strictEqual(never.reason._tag, "Timeout")
    }))

  it.live("notify wakes the longest waiting first; notifyAll wakes all", () =>
    Effect.gen(function*() {
      const cond = yield* SharedCondition.make()
      const woken: Array<number> = []
      const waiters = yield* Effect.forEach([1, 2, 3], (k) =>
        Effect.gen(function*() {
          const f = yield* Effect.forkChild(
            SharedCondition.withLock(cond)(Effect.andThen(SharedCondition.await(cond), Effect.sync(() => woken.push(k)))),
            { startImmediately: true }
          )
          yield* waitUntil(Effect.map(SharedCondition.waiting(cond), (w) => w === k), `waiter ${k} waits`)
          return f
        }))
      yield* SharedCondition.notify(cond)
      yield* Fiber.join(waiters[0]!)
      assert.deepStrictEqual(woken, [1])
      yield* SharedCondition.notifyAll(cond)
      yield* Fiber.joinAll(waiters)
      assert.deepStrictEqual(woken.sort(), [1, 2, 3])
    }))

  it.live("a waiter interrupted at any step holds no lock afterwards and leaves no waiter; a notify it received goes on (R1)", () =>
    Effect.gen(function*() {
      const lock = yield* SharedRLock.make
      const cond = yield* SharedCondition.make({ lock })
      for (let steps = 0; steps < 40; steps++) {
        const waiter = yield* Effect.forkChild(SharedCondition.withLock(cond)(SharedCondition.await(cond)), { startImmediately: true })
        for (let i = 0; i < steps; i++) yield* Effect.yieldNow
        if (steps % 2 === 0) yield* SharedCondition.notify(cond)
        yield* Fiber.interrupt(waiter)
        assert.isFalse(yield* SharedRLock.isLocked(lock), `the lock leaked after ${steps} steps`)
        assert.strictEqual(yield* SharedCondition.waiting(cond), 0, `a waiter was left after ${steps} steps`)
      }
      // a notify received by a waiter that then gave up is passed on to the next waiter
      const first = yield* Effect.forkChild(SharedCondition.withLock(cond)(SharedCondition.await(cond)), { startImmediately: true })
      yield* waitUntil(Effect.map(SharedCondition.waiting(cond), (w) => w === 1), "the first waits")
      const second = yield* Effect.forkChild(SharedCondition.withLock(cond)(SharedCondition.await(cond)), { startImmediately: true })
      yield* waitUntil(Effect.map(SharedCondition.waiting(cond), (w) => w === 2), "the second waits")
      yield* SharedRLock.acquire(lock) // the first cannot take the lock back yet
      yield* SharedCondition.notify(cond)
      const stopping = yield* Effect.forkChild(Fiber.interrupt(first), { startImmediately: true })
      yield* SharedRLock.release(lock)
      yield* Fiber.join(stopping)
      yield* Fiber.join(second)
    }))
})

for (const backend of backends) {
  const pool = (size: number) => backend.layer({ size, interruptGrace: "300 millis" })
  const count = backend.name === "processes" ? 40 : 100

  describe(`SharedCondition on ${backend.name}`, () => {
    it.live(`a producer and 2 consumers hand over ${2 * count} items through a condition on a SharedLock`, () =>
      Effect.gen(function*() {
        const cond = yield* SharedCondition.make({ lock: yield* SharedLock.make })
        const stock = yield* SharedArray.make("Int32", 1)
        const [consumed, produced] = yield* Effect.all([
          Effect.forEach([1, 2], () => ConditionConsume({ cond, stock, count }), { concurrency: "unbounded" }),
          ConditionProduce({ cond, stock, count: 2 * count })
        ], { concurrency: "unbounded" })
        assert.deepStrictEqual(consumed, [count, count])
        assert.strictEqual(produced, 2 * count)
        assert.strictEqual(yield* SharedArray.get(stock, 0), 0)
        assert.strictEqual(yield* SharedCondition.waiting(cond), 0)
      }).pipe(Effect.provide(pool(3))))

    it.live("a worker's await wakes on the parent's notify, and times out holding the lock again", () =>
      Effect.gen(function*() {
        const lock = yield* SharedRLock.make
        const cond = yield* SharedCondition.make({ lock })
        const waiting = yield* Effect.forkChild(ConditionAwaitOnce({ cond, lock, millis: 10_000 }), { startImmediately: true })
        yield* waitUntil(Effect.map(SharedCondition.waiting(cond), (w) => w === 1), "the worker waits")
        yield* SharedCondition.withLock(cond)(SharedCondition.notify(cond))
        assert.strictEqual(yield* Fiber.join(waiting), "notified held:true")
        assert.strictEqual(yield* ConditionAwaitOnce({ cond, lock, millis: 30 }), "timeout held:true")
        assert.isFalse(yield* SharedRLock.isLocked(lock))
      }).pipe(Effect.provide(pool(1))))

    it.live("a waiter in a worker interrupted at any step leaves no lock and no waiter behind (R1)", () =>
      Effect.gen(function*() {
        const lock = yield* SharedRLock.make
        const cond = yield* SharedCondition.make({ lock })
        const leaks = yield* ConditionInterruptEverywhere({ cond, lock, rounds: backend.name === "processes" ? 15 : 30 })
        assert.deepStrictEqual(leaks, [])
      }).pipe(Effect.provide(pool(1))))

    it.live.skipIf(!backend.isolated)(
      backend.isolated
        ? "a worker that dies while waiting leaves no waiter and no lock behind (R8)"
        : "a worker that dies while waiting leaves no waiter and no lock behind (R8) (skipped in-process: a crash would end the test process)",
      () =>
        Effect.gen(function*() {
          const cond = yield* SharedCondition.make()
          assert.isTrue(Exit.isFailure(yield* Effect.exit(DieWaitingOnCondition({ cond }))))
          yield* waitUntil(Effect.map(SharedCondition.waiting(cond), (w) => w === 0), "the dead waiter is gone")
          assert.isFalse(yield* SharedRLock.isLocked(cond.lock as SharedRLock.SharedRLock))
        }).pipe(Effect.provide(pool(1)))
    )
  })
}
