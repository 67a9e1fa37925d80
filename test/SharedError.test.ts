/**
 * SharedError: every reason is a schema-tagged class that survives a round trip (and the boundary of a
 * worker), `catchReason` / `catchTag` pick reasons out, and a value of the wrong type given to a typed
 * queue is a typed `InvalidValue`, not a defect.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema, type Scope } from "effect"
import {
  SharedArray,
  SharedBarrier,
  SharedCondition,
  SharedError,
  SharedEvent,
  SharedLock,
  SharedPipe,
  SharedQueue,
  SharedRLock,
  SharedSemaphore
} from "../src/index.ts"
import { backends } from "./conformance/backends.ts"
import { OfferWrong } from "./fixtures/shared-semantics.ts"

const reasons: ReadonlyArray<SharedError.SharedErrorReason> = [
  new SharedError.Closed({ message: "closed" }),
  new SharedError.OverRelease({ message: "over" }),
  new SharedError.Ended({ message: "ended" }),
  new SharedError.Timeout({ timeoutMillis: 20, message: "timeout" }),
  new SharedError.Unsupported({ message: "unsupported" }),
  new SharedError.Broken({ message: "broken" }),
  new SharedError.InvalidValue({ message: "invalid value" }),
  new SharedError.InvalidArgument({ argument: "timeout", message: "invalid argument" })
]

describe("SharedError", () => {
  it.effect("round-trips through its schema with every reason, keeping the reason's class and fields", () =>
    Effect.gen(function*() {
      for (const reason of reasons) {
        const e = new SharedError.SharedError({ object: "SharedQueue", reason })
        const encoded = yield* Schema.encodeEffect(SharedError.SharedError)(e)
        const back = yield* Schema.decodeUnknownEffect(SharedError.SharedError)(structuredClone(encoded))
        assert.instanceOf(back, SharedError.SharedError)
        assert.instanceOf(back.reason, reason.constructor as new(...args: Array<never>) => unknown)
        assert.deepStrictEqual({ ...back.reason }, { ...reason })
        assert.strictEqual(back.message, `SharedQueue: ${reason.message}`)
      }
    }))

  it.live("catchReason picks one reason out and leaves the others; catchTag catches them all", () =>
    Effect.gen(function*() {
      const q = yield* SharedQueue.make(Schema.Number)
      yield* SharedQueue.end(q)
      const ended = yield* SharedQueue.take(q).pipe(
        Effect.as("item"),
        Effect.catchReason("SharedError", "Ended", (r) => Effect.succeed(`ended: ${r.message}`))
      )
      assert.strictEqual(ended, "ended: the queue was ended")
      const timedOut = yield* SharedQueue.take(yield* SharedQueue.make(Schema.Number), { timeout: "10 millis" }).pipe(
        Effect.as(0),
        Effect.catchReason("SharedError", "Ended", () => Effect.succeed(-1)),
        Effect.catchReason("SharedError", "Timeout", (t) => Effect.succeed(t.timeoutMillis))
      )
      assert.strictEqual(timedOut, 10)
      const tag = yield* SharedQueue.offer(q, 1).pipe(Effect.as(""), Effect.catchTag("SharedError", (e) => Effect.succeed(e.reason._tag)))
      assert.strictEqual(tag, "Ended")
    }))

  it.live("a value of the wrong type offered to a typed queue fails with InvalidValue naming the issue, and nothing goes in", () =>
    Effect.gen(function*() {
      const q = yield* SharedQueue.make(Schema.Struct({ n: Schema.Number }))
      const e = yield* Effect.flip(SharedQueue.offer(q, { n: "one" } as unknown as { n: number }))
      assert.strictEqual(e.reason._tag, "InvalidValue")
      assert.include(e.message, "n")
      assert.strictEqual(yield* SharedQueue.size(q), 0)
    }))
})

/** The argument an `InvalidArgument` names, or what else came out. */
const invalidArgument = (effect: Effect.Effect<unknown, SharedError.SharedError, never>) =>
  effect.pipe(
    Effect.as("ok"),
    Effect.catchReason("SharedError", "InvalidArgument", (r) => Effect.succeed(`InvalidArgument(${r.argument})`)),
    Effect.catchTag("SharedError", (e) => Effect.succeed(e.reason._tag))
  )

describe("bad arguments", () => {
  it.live("a timeout that is not a duration, or is negative, fails with InvalidArgument on every object, never a raw exception", () =>
    Effect.gen(function*() {
      const lock = yield* SharedLock.make
      const rlock = yield* SharedRLock.make
      const sem = yield* SharedSemaphore.make(0)
      const event = yield* SharedEvent.make
      const condition = yield* SharedCondition.make()
      const barrier = yield* SharedBarrier.make(2)
      const queue = yield* SharedQueue.make(Schema.Number)
      const { left } = yield* SharedPipe.make(Schema.Number, Schema.Number)
      for (const timeout of ["soon", -5, Number.NaN, "-3 millis", true] as ReadonlyArray<unknown> as ReadonlyArray<never>) {
        const all = {
          lock: yield* invalidArgument(SharedLock.acquire(lock, { timeout })),
          rlock: yield* invalidArgument(SharedRLock.acquire(rlock, { timeout })),
          semaphore: yield* invalidArgument(SharedSemaphore.acquire(sem, 1, { timeout })),
          event: yield* invalidArgument(SharedEvent.await(event, { timeout })),
          condition: yield* invalidArgument(SharedCondition.withLock(condition)(SharedCondition.await(condition, { timeout }))),
          awaitFor: yield* invalidArgument(SharedCondition.withLock(condition)(SharedCondition.awaitFor(condition, Effect.succeed(false), { timeout }))),
          barrier: yield* invalidArgument(SharedBarrier.await(barrier, { timeout })),
          offer: yield* invalidArgument(SharedQueue.offer(queue, 1, { timeout })),
          take: yield* invalidArgument(SharedQueue.take(queue, { timeout })),
          send: yield* invalidArgument(SharedPipe.send(left, 1, { timeout })),
          receive: yield* invalidArgument(SharedPipe.receive(left, { timeout }))
        }
        for (const [op, got] of Object.entries(all)) assert.strictEqual(got, "InvalidArgument(timeout)", `${op} with timeout ${String(timeout)}`)
      }
      assert.isFalse(yield* SharedBarrier.isBroken(barrier), "a bad argument breaks nothing")
      assert.strictEqual(yield* SharedQueue.size(queue), 0, "nothing was offered")
    }))

  it.live("an infinite timeout is no timeout; permit counts and constructor arguments are checked the same way", () =>
    Effect.gen(function*() {
      const event = yield* SharedEvent.make
      yield* SharedEvent.set(event)
      assert.isTrue(yield* SharedEvent.await(event, { timeout: Infinity }))
      const sem = yield* SharedSemaphore.make(1)
      for (const n of [0, -1, 1.5]) {
        assert.strictEqual(yield* invalidArgument(SharedSemaphore.acquire(sem, n)), "InvalidArgument(permits)")
        assert.strictEqual(yield* invalidArgument(SharedSemaphore.release(sem, n)), "InvalidArgument(permits)")
        assert.strictEqual(yield* invalidArgument(Effect.asVoid(SharedSemaphore.acquireIfAvailable(sem, n))), "InvalidArgument(permits)")
      }
      assert.strictEqual(yield* SharedSemaphore.available(sem), 1)
      const made = (effect: Effect.Effect<unknown, SharedError.SharedError, Scope.Scope>) => invalidArgument(Effect.scoped(effect))
      assert.strictEqual(yield* made(SharedSemaphore.make(-1)), "InvalidArgument(permits)")
      assert.strictEqual(yield* made(SharedQueue.make(Schema.Number, { capacity: 0 })), "InvalidArgument(capacity)")
      assert.strictEqual(yield* made(SharedPipe.make(Schema.Number, Schema.Number, { capacity: -2 })), "InvalidArgument(capacity)")
      assert.strictEqual(yield* made(SharedBarrier.make(0)), "InvalidArgument(parties)")
      assert.strictEqual(yield* made(SharedBarrier.make(2, { timeout: "whenever" as never })), "InvalidArgument(timeout)")
      assert.strictEqual(yield* made(SharedArray.make("Int32", -1)), "InvalidArgument(length)")
      assert.strictEqual(yield* made(SharedArray.make("Int128" as never, 1)), "InvalidArgument(elementType)")
    }))
})

for (const backend of backends) {
  describe(`SharedError on ${backend.name}`, () => {
    it.live("a SharedError raised in a worker arrives with its class and its reason's class; catchReason works on it", () =>
      Effect.gen(function*() {
        const q = yield* SharedQueue.make(Schema.Number)
        const e = yield* Effect.flip(OfferWrong({ queue: q }))
        assert.instanceOf(e, SharedError.SharedError)
        const reason = (e as SharedError.SharedError).reason
        assert.instanceOf(reason, SharedError.InvalidValue)
        const caught = yield* OfferWrong({ queue: q }).pipe(
          Effect.as("offered"),
          Effect.catchReason("SharedError", "InvalidValue", () => Effect.succeed("invalid"))
        )
        assert.strictEqual(caught, "invalid")
        assert.strictEqual(yield* SharedQueue.size(q), 0)
      }).pipe(Effect.provide(backend.layer({ size: 1 }))))
  })
}
