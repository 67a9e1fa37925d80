/**
 * The front (`front.ts`) over a fake executor: what it does for every backend, tested once. The executor
 * answers as the test scripts it and records every execution, so each test sees exactly which items ran,
 * with which index and attempt.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Schedule, Schema } from "effect"
import { codecOf } from "../../src/internal/codec.ts"
import type { ChunkOutcome, Execution, Executor } from "../../src/internal/executor.ts"
import { makeFront } from "../../src/internal/front.ts"
import { type ResolvedRetry, isCrash } from "../../src/internal/retry.ts"
import type { Item, ItemsPlan } from "../../src/internal/service.ts"
import { CodecFailed, WorkerCrashed, WorkerError } from "../../src/WorkerError.ts"

const task = { name: "Double", module: "file:///double.ts", payload: Schema.Number, success: Schema.Number, error: undefined }

const crash = new WorkerError({
  reason: new WorkerCrashed({ taskName: "Double", workerId: 1, exitCode: 1, signal: null, message: "exited with code 1" })
})

/** Every item doubled, as a worker would reply. */
const doubled = (e: Execution): ChunkOutcome =>
  e.mode === "values"
    ? { _tag: "Values", values: Array.from(e.items, (x) => (x as number) * 2), stop: undefined }
    : { _tag: "Exits", exits: Array.from(e.items, (x) => ({ _tag: "Success", value: (x as number) * 2 })) }

/** A front over an executor that answers with `script` and records what it was asked to run. */
const front = (script: (e: Execution, n: number) => ChunkOutcome | WorkerError) =>
  Effect.gen(function*() {
    const runs: Array<Execution> = []
    const executor: Executor = {
      backend: "in-process",
      size: 2,
      codec: codecOf,
      execute: (e, conclude) =>
        Effect.suspend(() => {
          runs.push(e)
          const r = script(e, runs.length)
          return conclude(r instanceof WorkerError ? { _tag: "Failed", error: r } : r, e)
        }),
      chunkSize: () => 4,
      stats: () => ({
        size: 2,
        workers: 2,
        ready: 2,
        busy: 0,
        queued: 0,
        waiting: 0,
        running: 0,
        crashed: 0,
        killed: 0,
        recycled: 0,
        spawned: 2,
        backend: "in-process"
      }),
      awaitReady: Effect.void
    }
    const pool = yield* makeFront(Effect.succeed(executor))
    /** What ran: [index, items, attempt, mode] per execution. */
    const ran = () => runs.map((e) => [e.index, e.items.length, e.attempt, e.mode])
    return { pool, ran }
  })

const plan = (overrides: Partial<ItemsPlan> = {}): ItemsPlan => ({
  seed: 7,
  collect: true,
  attempt: 1,
  retry: undefined,
  timeoutMillis: undefined,
  onProgress: undefined,
  ...overrides
})

const crashesRetried: ResolvedRetry = { times: 3, schedule: undefined, isRetryable: isCrash }

const summary = (items: ReadonlyArray<Item>) =>
  items.map((i) =>
    Exit.isSuccess(i.exit)
      ? [i.index, i.exit.value, i.attempts]
      : [i.index, (i.exit.cause.reasons[0] as { error?: WorkerError }).error?.reason._tag, i.attempts]
  )

describe("the front", () => {
  it.effect("a crash inside a chunk fails the item that was running; the items before it run again, the rest goes on", () =>
    Effect.gen(function*() {
      const { pool, ran } = yield* front((e, n) => n === 1 ? { _tag: "Crashed", error: crash, item: 2 } : doubled(e))
      const items = yield* pool.runItems(task, [0, 1, 2, 3, 4, 5], 10, plan())
      assert.deepStrictEqual(summary(items), [
        [10, 0, 1],
        [11, 2, 1],
        [12, "WorkerCrashed", 1],
        [13, 6, 1],
        [14, 8, 1],
        [15, 10, 1]
      ])
      assert.deepStrictEqual(ran(), [[10, 6, 1, "exits"], [10, 2, 1, "exits"], [13, 3, 1, "exits"]])
    }).pipe(Effect.scoped))

  it.effect("a crash in the part of a chunk after an item that cannot be encoded is charged to its own item", () =>
    Effect.gen(function*() {
      const { pool, ran } = yield* front((e, n) => n === 2 ? { _tag: "Crashed", error: crash, item: 1 } : doubled(e))
      const items = yield* pool.runItems(task, [0, "bad", 2, 3, 4], 0, plan())
      assert.deepStrictEqual(summary(items), [[0, 0, 1], [1, "CodecFailed", 1], [2, 4, 1], [3, "WorkerCrashed", 1], [4, 8, 1]])
      const bad = items[1]!.exit
      assert.isTrue(Exit.isFailure(bad) && (bad.cause.reasons[0] as { error: WorkerError }).error.reason instanceof CodecFailed)
      assert.include(((bad as Exit.Failure<unknown, WorkerError>).cause.reasons[0] as { error: WorkerError }).error.message, "[1]")
      assert.deepStrictEqual(ran(), [[0, 1, 1, "exits"], [2, 3, 1, "exits"], [2, 1, 1, "exits"], [4, 1, 1, "exits"]])
    }).pipe(Effect.scoped))

  it.effect("a fail-fast chunk stops at an item that cannot be encoded, after running the items before it", () =>
    Effect.gen(function*() {
      const { pool, ran } = yield* front(doubled)
      const items = yield* pool.runItems(task, [1, 2, "bad", 4], 0, plan({ collect: false }))
      assert.deepStrictEqual(summary(items), [[0, 2, 1], [1, 4, 1], [2, "CodecFailed", 1]])
      assert.deepStrictEqual(ran(), [[0, 2, 1, "values"]])
    }).pipe(Effect.scoped))

  it.effect("a crashed item is retried alone with the next attempt numbers, and the chunk goes on", () =>
    Effect.gen(function*() {
      // the chunk crashes on item 1; its first retry crashes too; the second succeeds
      const { pool, ran } = yield* front((e, n) =>
        n === 1 ? { _tag: "Crashed", error: crash, item: 1 } : n === 3 ? { _tag: "Crashed", error: crash, item: undefined } : doubled(e)
      )
      const items = yield* pool.runItems(task, [5, 6, 7], 0, plan({ collect: false, retry: crashesRetried }))
      assert.deepStrictEqual(summary(items), [[0, 10, 1], [1, 12, 3], [2, 14, 1]])
      assert.deepStrictEqual(ran(), [[0, 3, 1, "values"], [0, 1, 1, "values"], [1, 1, 2, "single"], [1, 1, 3, "single"], [2, 1, 1, "values"]])
    }).pipe(Effect.scoped))

  it.effect("one retry loop: a schedule that bounds the count bounds it for a batch's item as for a single task", () =>
    Effect.gen(function*() {
      const { pool, ran } = yield* front(() => ({ _tag: "Crashed", error: crash, item: 0 }))
      const retry: ResolvedRetry = { times: 5, schedule: Schedule.recurs(1), isRetryable: isCrash }
      const items = yield* pool.runItems(task, [1], 0, plan({ retry }))
      assert.deepStrictEqual(summary(items), [[0, "WorkerCrashed", 2]])
      const batchRuns = ran().length
      const single = yield* Effect.flip(pool.run(task, 1, { retry: { times: 5, schedule: Schedule.recurs(1) } }))
      assert.strictEqual((single as WorkerError).reason._tag, "WorkerCrashed")
      assert.strictEqual(batchRuns, 2)
      assert.strictEqual(ran().length - batchRuns, 2, "a single task: the first attempt and one retry, as the batch's item")
      assert.deepStrictEqual(ran().map((r) => r[2]), [1, 2, 1, 2])
    }).pipe(Effect.scoped))

  it.effect("a chunk that could not travel whole runs one item at a time, so that only the bad item fails", () =>
    Effect.gen(function*() {
      const unclonable = new WorkerError({
        reason: new CodecFailed({ taskName: "Double", side: "parent", direction: "payload", path: "", message: "could not be cloned" })
      })
      const { pool, ran } = yield* front((e) => e.items.length > 1 || e.items[0] === 6 ? unclonable : doubled(e))
      const items = yield* pool.runItems(task, [5, 6, 7], 0, plan())
      assert.deepStrictEqual(summary(items), [[0, 10, 1], [1, "CodecFailed", 1], [2, 14, 1]])
      assert.deepStrictEqual(ran(), [[0, 3, 1, "exits"], [0, 1, 1, "single"], [1, 1, 1, "single"], [2, 1, 1, "single"]])
    }).pipe(Effect.scoped))

  it.effect("a run's options are parsed once: the seed is the same for every attempt, a bad option fails naming it", () =>
    Effect.gen(function*() {
      const { pool, ran } = yield* front((e, n) => n < 3 ? { _tag: "Crashed", error: crash, item: undefined } : doubled(e))
      const seen: Array<number> = []
      const { pool: seeded } = yield* front((e, n) => {
        seen.push(e.seed)
        return n < 3 ? { _tag: "Crashed", error: crash, item: undefined } : doubled(e)
      })
      assert.strictEqual(yield* seeded.run(task, 4, { retry: 2 }), 8)
      assert.strictEqual(seen.length, 3)
      assert.strictEqual(new Set(seen).size, 1, "a retried task sees the same random stream (R7)")
      for (const [options, option] of [[{ timeout: "soon" }, "timeout"], [{ retry: -1 }, "retry"]] as const) {
        const e = yield* Effect.flip(pool.run(task, 1, options as never))
        assert.isTrue(e instanceof WorkerError && e.reason._tag === "InvalidOption" && e.reason.option === option)
      }
      assert.deepStrictEqual(ran(), [], "nothing runs with a bad option")
    }).pipe(Effect.scoped))

  it.effect("counts completed, failed and retried tasks; an interrupted item counts as neither", () =>
    Effect.gen(function*() {
      const { pool } = yield* front((e, n) =>
        n === 1
          ? { _tag: "Exits", exits: [{ _tag: "Success", value: 2 }, { _tag: "Failure", error: "x" }, { _tag: "Interrupted" }] }
          : doubled(e)
      )
      yield* pool.runItems(task, [1, 2, 3], 0, plan())
      yield* pool.run(task, 1, { retry: 1 })
      const s = yield* pool.stats
      assert.deepStrictEqual([s.completed, s.failed, s.retried], [3, 1, 0])
      const { pool: retried } = yield* front((e, n) => n === 1 ? { _tag: "Crashed", error: crash, item: undefined } : doubled(e))
      yield* retried.run(task, 1, { retry: 1 })
      const r = yield* retried.stats
      assert.deepStrictEqual([r.completed, r.failed, r.retried], [2, 1, 1])
    }).pipe(Effect.scoped))
})
