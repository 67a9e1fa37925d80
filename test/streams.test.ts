/**
 * Streams through a pool: `WorkerPool.mapStream` and `imap` / `imapUnordered` over an Effect `Stream`, on
 * threads, processes and in-process: results and order, chunks cut as items arrive, backpressure to the
 * source (R6), interruption that stops the source and the tasks in their workers (R1, R2), the source's
 * error flowing through, modes, retries and progress.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Queue, Schedule, Schema, Stream } from "effect"
import { Progress, SharedArray, WorkerPool } from "../src/index.ts"
import type { PoolService } from "../src/internal/service.ts"
import { streamCuts } from "../src/internal/parent/batch.ts"
import { backends } from "./conformance/backends.ts"
import { Hang } from "./fixtures/stream-tasks.ts"
import { BadInput, Checked, Double, Flaky, Sleep } from "./fixtures/tasks.ts"

class SourceFailed extends Schema.TaggedError<SourceFailed>()("SourceFailed", { at: Schema.Number }) {}

for (const backend of backends) {
  const pool = (options?: WorkerPool.PoolOptions) => backend.layer({ size: 2, interruptGrace: "500 millis", ...options })

  describe(`streams through a pool on ${backend.name}`, () => {
    it.live("mapStream gives map's results, in input order or (ordered: false) in completion order; imap takes a Stream too", () =>
      Effect.gen(function*() {
        const xs = Array.from({ length: 500 }, (_, i) => i)
        const source = Stream.fromIterable(xs)
        const piped = yield* source.pipe(WorkerPool.mapStream(Double, { chunkSize: 7 }), Stream.runCollect)
        assert.deepStrictEqual(piped, xs.map((x) => x * 2))
        const dataFirst = yield* Stream.runCollect(WorkerPool.mapStream(source, Double))
        assert.deepStrictEqual(dataFirst, xs.map((x) => x * 2))
        const viaImap = yield* Stream.runCollect(WorkerPool.imap(Double, source))
        assert.deepStrictEqual(viaImap, xs.map((x) => x * 2))
        const unordered = yield* Stream.runCollect(WorkerPool.imapUnordered(Double, source))
        assert.sameMembers(Array.from(unordered), xs.map((x) => x * 2))

        yield* WorkerPool.awaitReady // both workers started: completion order is then the sleep order
        const ms = Stream.make(300, 20)
        assert.deepStrictEqual(yield* ms.pipe(WorkerPool.mapStream(Sleep, { chunkSize: 1, ordered: false }), Stream.runCollect), [20, 300])
        assert.deepStrictEqual(yield* ms.pipe(WorkerPool.mapStream(Sleep, { chunkSize: 1 }), Stream.runCollect), [300, 20])
      }).pipe(Effect.provide(pool({ preload: [Double.module] }))))

    it.live("a chunk is cut when the source has nothing more ready: one item offered, its result comes", () =>
      Effect.gen(function*() {
        const input = yield* Queue.unbounded<number>()
        const output = yield* Queue.unbounded<number>()
        yield* Stream.fromQueue(input).pipe(
          WorkerPool.mapStream(Double, { chunkSize: 100 }),
          Stream.runForEach((n) => Queue.offer(output, n)),
          Effect.forkChild
        )
        for (const n of [1, 2, 3]) {
          yield* Queue.offer(input, n)
          // no more items come until this one's result is back: a chunk waiting to fill would hang here
          assert.strictEqual(yield* Queue.take(output), n * 2)
        }
      }).pipe(Effect.provide(pool())))

    it.live("an endless source is pulled only a bounded window ahead of the results taken (R6)", () =>
      Effect.gen(function*() {
        let pulled = 0
        const endless = Stream.fromEffectRepeat(Effect.sync(() => pulled++))
        const chunkSize = 50
        const window = 4
        const first = yield* endless.pipe(
          WorkerPool.mapStream(Double, { chunkSize, window }),
          Stream.take(2000),
          Stream.runCollect
        )
        assert.strictEqual(first.length, 2000)
        assert.strictEqual(first[1999], 3998)
        // the results taken, the chunks in flight, the buffer of one chunk, and the item the source holds
        assert.isAtMost(pulled, 2000 + chunkSize * (window + 2) + 1, `pulled ${pulled}`)
        const after = pulled
        yield* Effect.yieldNow
        assert.strictEqual(pulled, after, "the source stopped with the stream")
      }).pipe(Effect.provide(pool())))

    it.live("interrupting the consumer interrupts the tasks in flight in their workers and stops the source (R1, R2)", () =>
      Effect.gen(function*() {
        const running = yield* SharedArray.make("Int32", 1)
        let pulled = 0
        const source = Stream.fromEffectRepeat(Effect.sync(() => ({ running, n: pulled++ })))
        const consumer = yield* source.pipe(WorkerPool.mapStream(Hang, { chunkSize: 1, window: 2 }), Stream.runDrain, Effect.forkChild)
        yield* SharedArray.get(running, 0).pipe(Effect.repeat({ until: (n) => n === 2, schedule: Schedule.spaced("2 millis") }))
        yield* Fiber.interrupt(consumer)
        assert.strictEqual(yield* SharedArray.get(running, 0), 0, "every task in flight ran its finalizer in its worker")
        assert.strictEqual((yield* WorkerPool.stats).running, 0)
        const after = pulled
        assert.isAtMost(after, 2 + 1 + 1, "a window of 2 chunks of 1, the buffer of 1 and the item in hand")
        yield* Effect.yieldNow
        assert.strictEqual(pulled, after)
      }).pipe(Effect.provide(pool())))

    it.live("the source's error and the task's error flow through typed; mode: \"result\" keeps going past task errors", () =>
      Effect.gen(function*() {
        const failing = Stream.concat(Stream.make(1, 2), Stream.fail(new SourceFailed({ at: 2 })))
        const e = yield* Effect.flip(failing.pipe(WorkerPool.mapStream(Double), Stream.runCollect))
        assert.instanceOf(e, SourceFailed)
        const bad = yield* Effect.flip(Stream.make(1, -2, 3).pipe(WorkerPool.mapStream(Checked), Stream.runCollect))
        assert.instanceOf(bad, BadInput)
        const results = yield* Stream.make(1, -2, 3).pipe(WorkerPool.mapStream(Checked, { mode: "result", chunkSize: 2 }), Stream.runCollect)
        assert.deepStrictEqual(results.map((r) => [r._tag, r.index]), [["Success", 0], ["Failure", 1], ["Success", 2]])
        const still = yield* Effect.flip(failing.pipe(WorkerPool.mapStream(Double, { mode: "result" }), Stream.runCollect))
        assert.instanceOf(still, SourceFailed, "a failing source fails the stream in mode result too")
      }).pipe(Effect.provide(pool())))

    it.live("retries, seed and progress work as in map; a bad option fails naming it", () =>
      Effect.gen(function*() {
        const events: Array<Progress.ProgressEvent> = []
        const attempts = yield* Stream.make({ permanent: false }, { permanent: false }).pipe(
          WorkerPool.mapStream(Flaky, { retry: { times: 3, retryable: (e) => e._tag === "Transient" }, progress: { label: "flaky" } }),
          Stream.runCollect,
          Progress.withReporter({ report: (e) => events.push(e) })
        )
        assert.deepStrictEqual(attempts, [3, 3])
        assert.deepStrictEqual(events.map((e) => e._tag).filter((t, i, a) => a.indexOf(t) === i), ["Started", "Advanced", "Finished"])
        const finished = events.at(-1)!
        assert.isTrue(finished._tag === "Finished" && finished.done === 2 && finished.total === undefined)
        const bad = yield* Effect.flip(Stream.make(1).pipe(WorkerPool.mapStream(Double, { ordered: "yes" as never }), Stream.runCollect))
        assert.isTrue(bad.reason._tag === "InvalidOption" && bad.reason.option === "ordered")
        const badChunk = yield* Effect.flip(Stream.make(1).pipe(WorkerPool.mapStream(Double, { chunkSize: 0 }), Stream.runCollect))
        assert.isTrue(badChunk.reason._tag === "InvalidOption" && badChunk.reason.option === "chunkSize")
      }).pipe(Effect.provide(pool())))
  })
}

describe("cutting a stream into chunks (streamCuts)", () => {
  // a pool that only answers chunk sizes: the cutter alone
  const fakePool = (size: number) => ({ chunkSize: () => size }) as unknown as PoolService
  const sizesOf = (cuts: ReadonlyArray<{ readonly start: number; readonly items: ArrayLike<unknown> }>) => cuts.map((c) => c.items.length)

  it.live("items ready together travel together, never more than a chunk; starts follow each other", () =>
    Effect.gen(function*() {
      const cuts = yield* Stream.runCollect(streamCuts(fakePool(100), Double, Stream.fromIterable(Array.from({ length: 1000 }, (_, i) => i)), "auto"))
      const sizes = sizesOf(cuts)
      assert.strictEqual(sizes.reduce((a, b) => a + b, 0), 1000)
      assert.isAtMost(Math.max(...sizes), 100)
      assert.isAtMost(cuts.length, 20, `cut as ${sizes.join(", ")}`)
      let next = 0
      for (const c of cuts) {
        assert.strictEqual(c.start, next)
        assert.deepStrictEqual(c.items[0], next)
        next += c.items.length
      }
      // a fixed chunkSize bounds the chunks the same way
      const fixed = sizesOf(yield* Stream.runCollect(streamCuts(fakePool(1), Double, Stream.range(0, 99), 30)))
      assert.isAtMost(Math.max(...fixed), 30)
      assert.strictEqual(fixed.reduce((a, b) => a + b, 0), 100)
    }))

  it.live("an item alone is cut at once: a slow source never waits for a chunk to fill", () =>
    Effect.gen(function*() {
      const input = yield* Queue.unbounded<number>()
      const pull = yield* Stream.toPull(streamCuts(fakePool(100), Double, Stream.fromQueue(input), "auto"))
      for (const n of [7, 8, 9]) {
        yield* Queue.offer(input, n)
        const [cut] = yield* pull
        assert.deepStrictEqual(cut!.items, [n])
      }
    }))
})
