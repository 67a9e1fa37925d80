/**
 * Batch jobs that report, reproduce and recover: mode "result", retries, progress, seeds, balancing.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Schedule, Stream } from "effect"
import { Parallel, Progress, WorkerError, WorkerPool } from "../src/index.ts"
import { backends } from "./conformance/backends.ts"
import { BadInput, Checked, CrashAt, CrashOnce, Darts, Double, Flaky, Quarters, Sleep, SleepWho } from "./fixtures/tasks.ts"

/** A reporter that records every event. */
const recorder = () => {
  const events: Array<Progress.ProgressEvent> = []
  return { events, reporter: { report: (e: Progress.ProgressEvent) => void events.push(e) } satisfies Progress.Reporter }
}

for (const backend of backends) {
  const pool = (options?: WorkerPool.PoolOptions) => backend.layer({ size: 2, interruptGrace: "300 millis", ...options })
  const isolatedOnly = (name: string) =>
    backend.isolated ? name : `${name} (skipped in-process: a crash would end the test process)`

  describe(`batches on ${backend.name}`, () => {
    it.live("mode \"result\" runs every item and returns each index with its value or typed error", () =>
      Effect.gen(function*() {
        const results = yield* WorkerPool.map(Checked, [1, -2, 3, -4, 5], { mode: "result", chunkSize: 2 })
        assert.deepStrictEqual(results.map((r) => [r.index, r._tag]), [
          [0, "Success"],
          [1, "Failure"],
          [2, "Success"],
          [3, "Failure"],
          [4, "Success"]
        ])
        const failure = results[1]!
        assert.isTrue(failure._tag === "Failure" && failure.error instanceof BadInput && failure.error.input === -2)
        assert.deepStrictEqual(WorkerPool.summarize(results), { total: 5, succeeded: 3, failed: { BadInput: 2 }, retried: 0 })
        const streamed = yield* Stream.runCollect(WorkerPool.imapUnordered(Checked, [-1, 2], { mode: "result" }))
        assert.sameMembers(streamed.map((r) => `${r.index}:${r._tag}`), ["0:Failure", "1:Success"])
      }).pipe(Effect.provide(pool())))

    it.live("declared errors are retried only when marked retryable, and TaskContext.attempt counts", () =>
      Effect.gen(function*() {
        const retryable = { times: 3, retryable: (e: unknown) => (e as { _tag?: string })._tag === "Transient" }
        assert.strictEqual(yield* Flaky({ permanent: false }, { retry: retryable }), 3)
        const notMarked = yield* Effect.flip(Flaky({ permanent: false }, { retry: 3 }))
        assert.strictEqual((notMarked as { _tag: string })._tag, "Transient", "without `retryable`, only crashes are retried")
        const permanent = yield* Effect.flip(Flaky({ permanent: true }, { retry: retryable }))
        assert.strictEqual((permanent as { _tag: string })._tag, "Permanent")
        const batch = yield* WorkerPool.map(Flaky, [{ permanent: false }, { permanent: true }], {
          mode: "result",
          retry: { ...retryable, schedule: Schedule.spaced("1 millis") }
        })
        assert.deepStrictEqual(batch.map((r) => [r._tag, r.attempts]), [["Success", 3], ["Failure", 1]])
        assert.strictEqual(WorkerPool.summarize(batch).retried, 1)
        assert.isAtLeast((yield* WorkerPool.stats).retried, 4)
      }).pipe(Effect.provide(pool())))

    it.live("a per-item timeout fails only the items that run too long; interrupted items count as neither done nor failed", () =>
      Effect.gen(function*() {
        const results = yield* WorkerPool.map(Sleep, [10, 5_000, 20], { mode: "result", timeout: "200 millis" })
        assert.deepStrictEqual(results.map((r) => r._tag), ["Success", "Failure", "Success"])
        const failed = results[1]!
        assert.isTrue(failed._tag === "Failure" && (failed.error as WorkerError.WorkerError).reason._tag === "TaskTimeout")
        const before = yield* WorkerPool.stats
        yield* Effect.exit(WorkerPool.map(Sleep, [10, 60_000], { chunkSize: 1 }).pipe(Effect.timeout("500 millis")))
        const after = yield* WorkerPool.stats
        assert.strictEqual(after.completed - before.completed, 1, "the interrupted sleep is not counted as completed")
        assert.strictEqual(after.failed - before.failed, 0, "nor as failed")
      }).pipe(Effect.provide(pool())))

    it.live("an interrupted task is never retried", () =>
      Effect.gen(function*() {
        const fiber = yield* Effect.forkChild(Sleep(60_000, { retry: 5 }), { startImmediately: true })
        yield* WorkerPool.stats.pipe(Effect.repeat({ until: (s) => s.running === 1, schedule: Schedule.spaced("2 millis") }))
        yield* Fiber.interrupt(fiber)
        const s = yield* WorkerPool.stats
        assert.strictEqual(s.retried, 0)
        assert.strictEqual(s.running, 0)
      }).pipe(Effect.provide(pool())))

    it.live.skipIf(!backend.isolated)(isolatedOnly("a crashed worker's task is retried and succeeds on its next attempt"), () =>
      Effect.gen(function*() {
        const r = yield* CrashOnce(5, { retry: 1 })
        assert.deepStrictEqual(r, { value: 5, attempt: 2 })
        const e = yield* Effect.flip(CrashOnce(5))
        assert.strictEqual((e as WorkerError.WorkerError).reason._tag, "WorkerCrashed")
      }).pipe(Effect.provide(pool())))

    it.live.skipIf(!backend.isolated)(
      isolatedOnly("a crash inside a chunk fails exactly the item that crashed; the others succeed"),
      () =>
        Effect.gen(function*() {
          const items = Array.from({ length: 20 }, (_, n) => ({ n, crash: n === 7 || n === 13 }))
          const results = yield* WorkerPool.map(CrashAt, items, { mode: "result", chunkSize: 20 })
          const failed = results.filter((r) => r._tag !== "Success")
          assert.deepStrictEqual(failed.map((r) => r.index), [7, 13])
          for (const r of failed) {
            assert.isTrue(r._tag === "Failure" && r.error instanceof WorkerError.WorkerError && r.error.reason._tag === "WorkerCrashed")
          }
          for (const r of results) if (r._tag === "Success") assert.strictEqual(r.value, r.index * 2)
        }).pipe(Effect.provide(pool()))
    )

    it.live("progress reports start, advances, the tasks' own fractions and the end", () =>
      Effect.gen(function*() {
        const { events, reporter } = recorder()
        yield* WorkerPool.map(Quarters, [1, 2, 3], { progress: { label: "quarters" }, chunkSize: 1 }).pipe(
          Progress.withReporter(reporter)
        )
        assert.deepStrictEqual(events[0], { ...events[0]!, _tag: "Started", label: "quarters", total: 3 })
        const last = events[events.length - 1]!
        assert.isTrue(last._tag === "Finished" && last.done === 3 && last.failed === 0)
        assert.isTrue(events.some((e) => e._tag === "TaskProgress" && e.fraction === 0.5))
        assert.strictEqual(events.filter((e) => e._tag === "Advanced").length, 3)
      }).pipe(Effect.provide(pool())))

    it.live.skipIf(!backend.isolated)(
      isolatedOnly("load balancing: a batch with its expensive items first finishes near the ideal time").replace(
        "a crash would end the test process",
        "its workers share one thread, so the test cannot tell them apart"
      ),
      () =>
      Effect.gen(function*() {
        yield* WorkerPool.awaitReady
        // 5 x 100 ms then 45 x 10 ms on 2 workers: ideal 475 ms of work each. Static halves would give one
        // worker 500 + 200 ms. Greedy dispatch is within one item of the ideal (Graham's bound).
        const ms = [...Array.from({ length: 5 }, () => 100), ...Array.from({ length: 45 }, () => 10)]
        const results = yield* WorkerPool.map(SleepWho, ms)
        const load = new Map<string, number>()
        for (const r of results) load.set(r.worker, (load.get(r.worker) ?? 0) + r.ms)
        const ideal = ms.reduce((a, b) => a + b, 0) / 2
        assert.strictEqual(load.size, 2)
        assert.isAtMost(Math.max(...load.values()), ideal + 100, JSON.stringify([...load]))
      }).pipe(Effect.provide(pool()))
    )
  })
}

describe("reproducible Monte Carlo (R7)", () => {
  it.live("a seeded batch gives bit-identical results on 1, 2 and 4 workers, threads and processes", () =>
    Effect.gen(function*() {
      const items = Array.from({ length: 24 }, () => 2000)
      const runs: Array<ReadonlyArray<number>> = []
      for (const layer of [WorkerPool.layerThreads, WorkerPool.layerProcesses]) {
        for (const size of [1, 2, 4]) {
          runs.push(yield* WorkerPool.map(Darts, items, { seed: 2024 }).pipe(Effect.provide(layer({ size }))))
        }
      }
      for (const r of runs) assert.deepStrictEqual(r, runs[0])
      const pi = (4 * runs[0]!.reduce((a, b) => a + b, 0)) / (24 * 2000)
      assert.closeTo(pi, Math.PI, 0.05)
      const other = yield* WorkerPool.map(Darts, items, { seed: 2025 }).pipe(Effect.provide(WorkerPool.layerThreads({ size: 2 })))
      assert.notDeepEqual(other, runs[0])
    }))
})

describe("Parallel with the pool", () => {
  it.live("Parallel.fn turns a task into a function over a sequence; forEach reports progress", () =>
    Effect.gen(function*() {
      const doubleAll = Parallel.fn(Double)
      assert.deepStrictEqual(yield* doubleAll([1, 2, 3]), [2, 4, 6])
      const { events, reporter } = recorder()
      const exit = yield* Effect.exit(
        Parallel.forEach([1, -1, 2], (n) => Checked(n), { concurrency: 1, progress: { label: "checks" } }).pipe(
          Progress.withReporter(reporter)
        )
      )
      assert.isTrue(Exit.isFailure(exit))
      assert.strictEqual(events[0]!._tag, "Started")
      const last = events[events.length - 1]!
      assert.isTrue(last._tag === "Finished" && last.done === 2 && last.failed === 1 && last.label === "checks")
    }).pipe(Effect.provide(Layer.fresh(WorkerPool.layerThreads({ size: 2 })))))
})
