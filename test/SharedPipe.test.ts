/**
 * SharedPipe: typed both ways, between the parent and a worker and between two workers; close ends both
 * directions after draining; on threads, processes and in-process.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Option, Schema } from "effect"
import { SharedPipe } from "../src/index.ts"
import { backends } from "./conformance/backends.ts"
import { PipeLengths, PipeSendNumbers, PipeSum, Stamp } from "./fixtures/shared-tasks-2.ts"

describe("SharedPipe in one isolate", () => {
  it.live("each end receives what the other sent, in order; receive waits, times out, and ends after close", () =>
    Effect.gen(function*() {
      const { left, right } = yield* SharedPipe.make(Schema.String, Schema.Number, { capacity: 2 })
      yield* SharedPipe.send(left, "a")
      yield* SharedPipe.send(left, "b")
      const full = yield* Effect.flip(SharedPipe.send(left, "c", { timeout: "20 millis" }))
      assert.strictEqual(full.reason._tag, "Timeout")
      assert.strictEqual(yield* SharedPipe.receive(right), "a")
      assert.deepStrictEqual(yield* SharedPipe.receiveIfAvailable(right), Option.some("b"))
      assert.isTrue(Option.isNone(yield* SharedPipe.receiveIfAvailable(right)))
      assert.strictEqual((yield* Effect.flip(SharedPipe.receive(left, { timeout: "20 millis" }))).reason._tag, "Timeout")
      const waiting = yield* Effect.forkChild(SharedPipe.receive(left), { startImmediately: true })
      yield* SharedPipe.send(right, 42)
      assert.strictEqual(yield* Fiber.join(waiting), 42)
      yield* SharedPipe.send(right, 7)
      yield* SharedPipe.close(right)
      assert.strictEqual((yield* Effect.flip(SharedPipe.send(left, "late"))).reason._tag, "Ended", "sending into a closed pipe")
      assert.strictEqual(yield* SharedPipe.receive(left), 7, "what was sent before the close is still received")
      assert.strictEqual((yield* Effect.flip(SharedPipe.receive(left))).reason._tag, "Ended")
      assert.strictEqual((yield* Effect.flip(SharedPipe.receive(right))).reason._tag, "Ended")
    }))

  it.effect("an end encodes through its schema and decodes into a working end", () =>
    Effect.gen(function*() {
      const { left, right } = yield* SharedPipe.make(Schema.Number, Schema.String)
      const codec = SharedPipe.schema(Schema.Number, Schema.String)
      const back = yield* Schema.decodeUnknownEffect(codec)(yield* Schema.encodeEffect(codec)(left))
      assert.isTrue(SharedPipe.isSharedPipe(back))
      yield* SharedPipe.send(back, 1)
      assert.strictEqual(yield* SharedPipe.receive(right), 1)
    }))
})

for (const backend of backends) {
  const pool = (size: number) => backend.layer({ size, interruptGrace: "300 millis" })

  describe(`SharedPipe on ${backend.name}`, () => {
    it.live("the parent and a worker talk through a pipe, with Dates one way and numbers the other", () =>
      Effect.gen(function*() {
        const { left, right } = yield* SharedPipe.make(Stamp, Schema.Number)
        const server = yield* Effect.forkChild(PipeLengths({ pipe: right }), { startImmediately: true })
        const texts = ["a", "bb", "ccc", "dddd"]
        const lengths: Array<number> = []
        for (const text of texts) {
          yield* SharedPipe.send(left, { text, at: new Date(Date.UTC(2024, 5, text.length)) })
          lengths.push(yield* SharedPipe.receive(left, { timeout: "10 seconds" }))
        }
        yield* SharedPipe.close(left)
        assert.deepStrictEqual(lengths, [1, 2, 3, 4])
        assert.strictEqual(yield* Fiber.join(server), 4)
      }).pipe(Effect.provide(pool(1))))

    it.live("two workers talk through a pipe; the receiver finishes when the sender closes", () =>
      Effect.gen(function*() {
        const { left, right } = yield* SharedPipe.make(Schema.Number, Schema.Number, { capacity: 8 })
        const [, sum] = yield* Effect.all([PipeSendNumbers({ pipe: left, count: 100 }), PipeSum({ pipe: right })], {
          concurrency: "unbounded"
        })
        assert.strictEqual(sum, 4950)
      }).pipe(Effect.provide(pool(2))))
  })
}
