/**
 * Load (R6): a soak of tiny tasks through `map` and through batches of per-task calls, with the parent's
 * heap (after a forced GC) and its active handles sampled between rounds, asserting no growth beyond a
 * stated bound; and a service-style run: 50 concurrent callers sharing one pool with `maxQueued`.
 *
 * Sizes: SOAK_TASKS tiny tasks through `map` (default 200,000; the full run uses 1,000,000),
 * SOAK_SINGLES through per-task calls (default 20,000; full 1,000,000), SERVICE_CALLS calls per caller
 * (default 40).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { WorkerPool } from "../../src/index.ts"
import { Grind } from "../fixtures/faults.ts"
import { Double } from "../fixtures/tasks.ts"
import { envInt, report, settled, statsUntil, withPool } from "./helpers.ts"

const SOAK_TASKS = envInt("SOAK_TASKS", 200_000)
const SOAK_SINGLES = envInt("SOAK_SINGLES", 20_000)
const SERVICE_CALLS = envInt("SERVICE_CALLS", 40)
const ROUNDS = 20

/** Growth allowed between the early and the late heap samples (after GC), whatever the size. */
const HEAP_BOUND_BYTES = 8 * 1024 * 1024
/** Growth allowed in active handles / requests (timers, ports, sockets) between early and late samples. */
const RESOURCES_BOUND = 2

const gc = (globalThis as { gc?: () => void }).gc

interface Sample {
  readonly heapUsed: number
  readonly resources: number
}

const sample = Effect.sync((): Sample => {
  // two passes: the first may only schedule finalization of what the second collects
  gc?.()
  gc?.()
  return { heapUsed: process.memoryUsage().heapUsed, resources: process.getActiveResourcesInfo().length }
})

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

/**
 * Runs `total` tasks in ROUNDS rounds through `round(from, count)`, sampling after each; compares the
 * median of rounds 3–7 (after warm-up: code compiled, pool and codecs built) with the median of the
 * last five.
 */
const soak = (
  label: string,
  total: number,
  round: (from: number, count: number) => Effect.Effect<void, unknown, WorkerPool.WorkerPool>
) =>
  Effect.gen(function*() {
    const samples: Array<Sample> = []
    const per = Math.ceil(total / ROUNDS)
    const t0 = performance.now()
    for (let r = 0; r < ROUNDS; r++) {
      const from = r * per
      const count = Math.min(per, total - from)
      if (count > 0) yield* round(from, count)
      samples.push(yield* sample)
    }
    const ms = performance.now() - t0
    const early = samples.slice(2, 7)
    const late = samples.slice(-5)
    const heapGrowth = median(late.map((s) => s.heapUsed)) - median(early.map((s) => s.heapUsed))
    const resourceGrowth = median(late.map((s) => s.resources)) - median(early.map((s) => s.resources))
    const stats = yield* statsUntil(settled)
    assert.strictEqual(stats.failed, 0)
    report(label, {
      tasks: total,
      ms: Math.round(ms),
      tasksPerSecond: Math.round(total / (ms / 1000)),
      gc: gc !== undefined,
      heapEarlyMB: +(median(early.map((s) => s.heapUsed)) / 2 ** 20).toFixed(2),
      heapLateMB: +(median(late.map((s) => s.heapUsed)) / 2 ** 20).toFixed(2),
      heapGrowthBytesPerTask: +(heapGrowth / (total * 0.5)).toFixed(3),
      resourcesEarly: median(early.map((s) => s.resources)),
      resourcesLate: median(late.map((s) => s.resources))
    })
    assert.isBelow(heapGrowth, HEAP_BOUND_BYTES, `heap grew by ${(heapGrowth / 2 ** 20).toFixed(1)} MB`)
    assert.isAtMost(resourceGrowth, RESOURCES_BOUND, `active resources grew by ${resourceGrowth}`)
    return stats
  })

for (const backend of ["threads", "processes"] as const) {
  const make = backend === "threads" ? WorkerPool.layerThreads : WorkerPool.layerProcesses

  describe(`soak on ${backend} (R6)`, () => {
    it.live(`${SOAK_TASKS} tiny tasks through map: no heap or handle growth`, () =>
      Effect.gen(function*() {
        yield* withPool(
          `${backend} soak map`,
          make({ size: 2 }),
          Effect.gen(function*() {
            const stats = yield* soak(`${backend} soak map`, SOAK_TASKS, (from, count) =>
              Effect.gen(function*() {
                const items = Array.from({ length: count }, (_, i) => from + i)
                const out = yield* WorkerPool.map(Double, items)
                // every result is right (checked cheaply: a sum over the round)
                let sum = 0
                for (const x of out) sum += x
                assert.strictEqual(sum, count * (2 * from + count - 1))
              }))
            assert.strictEqual(stats.completed, SOAK_TASKS)
          })
        )
      }))

    it.live(`${SOAK_SINGLES} tiny per-task calls (Effect.forEach, 64 at a time): no heap or handle growth`, () =>
      Effect.gen(function*() {
        yield* withPool(
          `${backend} soak singles`,
          make({ size: 2 }),
          Effect.gen(function*() {
            const stats = yield* soak(`${backend} soak singles`, SOAK_SINGLES, (from, count) =>
              Effect.gen(function*() {
                const items = Array.from({ length: count }, (_, i) => from + i)
                const out = yield* Effect.forEach(items, (n) => Double(n), { concurrency: 64 })
                let sum = 0
                for (const x of out) sum += x
                assert.strictEqual(sum, count * (2 * from + count - 1))
              }))
            assert.strictEqual(stats.completed, SOAK_SINGLES)
          })
        )
      }))

    it.live(`a service: 50 callers share one pool with maxQueued 8; the queue stays bounded, nobody starves`, () =>
      Effect.gen(function*() {
        const callers = 50
        const maxQueued = 8
        let maxSeenQueued = 0
        let maxSeenWaiting = 0
        const finish: Array<number> = []
        const latencies: Array<number> = []
        yield* withPool(
          `${backend} service`,
          make({ size: 2, maxQueued }),
          Effect.gen(function*() {
            yield* WorkerPool.awaitReady
            // watch the queue the whole time (a sampler, not synchronization)
            const watcher = yield* Effect.forkChild(
              Effect.forever(Effect.flatMap(WorkerPool.stats, (s) =>
                Effect.sync(() => {
                  maxSeenQueued = Math.max(maxSeenQueued, s.queued)
                  maxSeenWaiting = Math.max(maxSeenWaiting, s.waiting)
                }).pipe(Effect.andThen(Effect.sleep(1))))),
              { startImmediately: true }
            )
            const t0 = performance.now()
            yield* Effect.forEach(
              Array.from({ length: callers }, (_, c) => c),
              (c) =>
                Effect.gen(function*() {
                  for (let k = 0; k < SERVICE_CALLS; k++) {
                    const s = performance.now()
                    assert.strictEqual(yield* Grind({ n: c * 1000 + k, ms: 1 }), c * 1000 + k)
                    latencies.push(performance.now() - s)
                  }
                  finish.push(performance.now() - t0)
                }),
              { concurrency: "unbounded" }
            )
            yield* Fiber.interrupt(watcher)
          }),
          () => ({
            callers,
            callsEach: SERVICE_CALLS,
            maxQueued,
            maxSeenQueued,
            maxSeenWaiting,
            firstCallerDoneMs: Math.round(Math.min(...finish)),
            medianCallerDoneMs: Math.round(median(finish)),
            lastCallerDoneMs: Math.round(Math.max(...finish)),
            medianCallMs: +median(latencies).toFixed(2),
            maxCallMs: +Math.max(...latencies).toFixed(2)
          })
        )
        assert.strictEqual(finish.length, callers, "every caller completed")
        assert.isAtMost(maxSeenQueued, maxQueued, "the queue never exceeded maxQueued")
        assert.isAbove(maxSeenWaiting, 0, "callers did wait for room (backpressure engaged)")
        // no starvation: callers take turns, so the last one finishes close to the median one, and no single
        // call waits much longer than a full turn of all callers
        assert.isAtMost(Math.max(...finish), 1.5 * median(finish), "the last caller finishes near the median")
        assert.isAtMost(Math.max(...latencies), 10 * median(latencies) + 50, "no call waits far longer than the others")
      }))
  })
}
