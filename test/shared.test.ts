/**
 * SharedSemaphore, SharedEvent and SharedQueue across workers (threads, processes, in-process).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Option, Schema } from "effect"
import { SharedArray, SharedEvent, SharedQueue, SharedSemaphore } from "../src/index.ts"
import { backends } from "./conformance/backends.ts"
import { AwaitEvent, Consume, DieHoldingPermits, HoldPermit, Produce, TakeAndDie } from "./fixtures/shared-tasks.ts"

describe("shared objects in one isolate", () => {
  it.live("a bounded semaphore fails on over-release; waits honour timeouts and interruption (R1)", () =>
    Effect.gen(function*() {
      const sem = yield* SharedSemaphore.make(2, { bounded: true })
      yield* SharedSemaphore.acquire(sem, 2)
      assert.isFalse(yield* SharedSemaphore.acquireIfAvailable(sem))
      const t = yield* Effect.flip(SharedSemaphore.acquire(sem, 1, { timeout: "20 millis" }))
      assert.strictEqual(t.reason._tag, "Timeout")
      for (let steps = 0; steps < 20; steps++) {
        const waiter = yield* Effect.forkChild(SharedSemaphore.acquire(sem, 1), { startImmediately: true })
        for (let i = 0; i < steps; i++) yield* Effect.yieldNow
        yield* Fiber.interrupt(waiter)
        assert.strictEqual(yield* SharedSemaphore.available(sem), 0, `a permit leaked after ${steps} steps`)
      }
      yield* SharedSemaphore.release(sem, 2)
      const over = yield* Effect.flip(SharedSemaphore.release(sem))
      assert.strictEqual(over.reason._tag, "OverRelease")
      assert.strictEqual(yield* SharedSemaphore.available(sem), 2)
    }))

  it.live("an event wakes waiters; await returns false after its timeout", () =>
    Effect.gen(function*() {
      const ev = yield* SharedEvent.make
      assert.isFalse(yield* SharedEvent.await(ev, { timeout: "10 millis" }))
      const waiter = yield* Effect.forkChild(SharedEvent.await(ev), { startImmediately: true })
      yield* SharedEvent.set(ev)
      assert.isTrue(yield* Fiber.join(waiter))
      assert.isTrue(yield* SharedEvent.isSet(ev))
      yield* SharedEvent.clear(ev)
      assert.isFalse(yield* SharedEvent.isSet(ev))
    }))

  it.live("a queue waits when full and when empty, honours timeouts, ends cleanly and joins", () =>
    Effect.gen(function*() {
      const q = yield* SharedQueue.make(Schema.Number, { capacity: 2 })
      yield* SharedQueue.offer(q, 1)
      assert.isTrue(yield* SharedQueue.offerIfAvailable(q, 2))
      assert.isFalse(yield* SharedQueue.offerIfAvailable(q, 3))
      const full = yield* Effect.flip(SharedQueue.offer(q, 3, { timeout: "20 millis" }))
      assert.strictEqual(full.reason._tag, "Timeout")
      const joined = yield* Effect.forkChild(SharedQueue.awaitEmpty(q), { startImmediately: true })
      assert.strictEqual(yield* SharedQueue.take(q), 1)
      assert.deepStrictEqual(yield* SharedQueue.takeIfAvailable(q), Option.some(2))
      assert.isTrue(Option.isNone(yield* SharedQueue.takeIfAvailable(q)))
      const empty = yield* Effect.flip(SharedQueue.take(q, { timeout: "20 millis" }))
      assert.strictEqual(empty.reason._tag, "Timeout")
      yield* SharedQueue.taskDone(q)
      assert.isNull(joined.pollUnsafe() ?? null, "one item is still not done")
      yield* SharedQueue.taskDone(q)
      yield* Fiber.join(joined)
      const over = yield* Effect.flip(SharedQueue.taskDone(q))
      assert.strictEqual(over.reason._tag, "OverRelease")
      yield* SharedQueue.offer(q, 9)
      yield* SharedQueue.end(q)
      assert.strictEqual((yield* Effect.flip(SharedQueue.offer(q, 10))).reason._tag, "Ended")
      assert.strictEqual(yield* SharedQueue.take(q), 9, "what was offered before the end is still taken")
      assert.strictEqual((yield* Effect.flip(SharedQueue.take(q))).reason._tag, "Ended")
    }))
})

for (const backend of backends) {
  const pool = (size = 2) => backend.layer({ size, interruptGrace: "300 millis" })
  describe(`shared objects on ${backend.name}`, () => {
    it.live("a semaphore of 2 keeps at most 2 of 4 workers inside", () =>
      Effect.gen(function*() {
        const permits = yield* SharedSemaphore.make(2)
        const gauge = yield* SharedArray.make("Int32", 2)
        yield* Effect.forEach([1, 2, 3, 4, 5, 6, 7, 8], () => HoldPermit({ permits, gauge, millis: 30 }), { concurrency: "unbounded" })
        const peak = yield* SharedArray.get(gauge, 1)
        assert.isAtMost(peak, 2)
        assert.isAtLeast(peak, 1)
        assert.strictEqual(yield* SharedSemaphore.available(permits), 2)
      }).pipe(Effect.provide(pool(4))))

    it.live.skipIf(!backend.isolated)(
      backend.isolated ? "permits held by a worker that dies come back (R8)" : "permits held by a worker that dies come back (R8) (skipped in-process: a crash would end the test process)",
      () =>
        Effect.gen(function*() {
          const permits = yield* SharedSemaphore.make(3)
          assert.isTrue(Exit.isFailure(yield* Effect.exit(DieHoldingPermits({ permits, n: 2 }))))
          assert.strictEqual(yield* SharedSemaphore.available(permits), 3)
        }).pipe(Effect.provide(pool()))
    )

    it.live.skipIf(!backend.isolated)(
      backend.isolated
        ? "an item taken by a consumer that dies before taskDone goes back to the queue (R8)"
        : "an item taken by a consumer that dies before taskDone goes back to the queue (R8) (skipped in-process: a crash would end the test process)",
      () =>
        Effect.gen(function*() {
          const queue = yield* SharedQueue.make(Schema.Struct({ n: Schema.Number, at: Schema.Date }), { joinable: true })
          for (let n = 0; n < 3; n++) yield* SharedQueue.offer(queue, { n, at: new Date(0) })
          assert.isTrue(Exit.isFailure(yield* Effect.exit(TakeAndDie({ queue }))))
          yield* SharedQueue.end(queue)
          const rest = yield* Consume({ queue })
          assert.deepStrictEqual([...rest].sort(), [0, 1, 2], "the dead consumer's item was given back")
          yield* SharedQueue.awaitEmpty(queue)
        }).pipe(Effect.provide(pool()))
    )

    it.live("workers waiting on an event wake when the parent sets it", () =>
      Effect.gen(function*() {
        const event = yield* SharedEvent.make
        const waiting = yield* Effect.forkChild(
          Effect.forEach([1, 2], () => AwaitEvent({ event, millis: 10_000 }), { concurrency: "unbounded" }),
          { startImmediately: true }
        )
        yield* SharedEvent.set(event)
        assert.deepStrictEqual(yield* Fiber.join(waiting), [true, true])
        assert.isFalse(yield* AwaitEvent({ event: yield* SharedEvent.make, millis: 20 }))
      }).pipe(Effect.provide(pool())))

    it.live("a producer and two consumers pass 200 typed items through a joinable queue, each exactly once", () =>
      Effect.gen(function*() {
        const queue = yield* SharedQueue.make(Schema.Struct({ n: Schema.Number, at: Schema.Date }), { capacity: 16 })
        const [taken, produced] = yield* Effect.all([
          Effect.forEach([1, 2], () => Consume({ queue }), { concurrency: "unbounded" }),
          Produce({ queue, count: 200 })
        ], { concurrency: "unbounded" })
        assert.strictEqual(produced, 200)
        const all = taken.flat().sort((a, b) => a - b)
        assert.deepStrictEqual(all, Array.from({ length: 200 }, (_, i) => i))
        yield* SharedQueue.awaitEmpty(queue)
      }).pipe(Effect.provide(pool(3))))
  })
}
