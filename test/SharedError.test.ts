/**
 * SharedError: every reason is a schema-tagged class that survives a round trip (and the boundary of a
 * worker), `catchReason` / `catchTag` pick reasons out, and a value of the wrong type given to a typed
 * queue is a typed `InvalidValue`, not a defect.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { SharedError, SharedQueue } from "../src/index.ts"
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
