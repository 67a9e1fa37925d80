/**
 * Work goes where workers are free: over real runner processes of unequal size (1 and 2 worker threads),
 * a batch splits in proportion to their workers, and a batch of very unequal task durations ends close to
 * the ideal makespan. (Failover, a runner killed mid-batch, is `failover.test.ts`.)
 *
 * The tasks sleep, so the shares and the makespan do not depend on how loaded this machine's cores are.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { WorkerPool } from "../../src/index.ts"
import { Nap } from "../fixtures/cluster-tasks.ts"
import { freshDatabase, needsPostgres, postgresAvailable, type RunnerProcess, startRunner } from "./setup.ts"

class Runners extends Context.Service<Runners, { readonly small: RunnerProcess; readonly large: RunnerProcess }>()("test/Runners") {}

const Unequal = Layer.unwrap(Effect.gen(function*() {
  const postgres = yield* freshDatabase
  const small = yield* startRunner(postgres, { size: 1 })
  const large = yield* startRunner(postgres, { size: 2 })
  return Layer.merge(
    WorkerPool.layerCluster({ postgres, size: 8, timings: "fast-failover" }),
    Layer.succeed(Runners, { small, large })
  )
})).pipe(Layer.orDie)

/** A deterministic stream of durations: log-uniform between `min` and `max` milliseconds. */
const durations = (n: number, min: number, max: number): Array<number> => {
  let x = 0x2545f491
  return Array.from({ length: n }, () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    const u = (x >>> 0) / 2 ** 32
    return Math.round(min * (max / min) ** u)
  })
}

describe.skipIf(!postgresAvailable)(needsPostgres("cluster: balanced by free workers"), () => {
  layer(Unequal, { timeout: "60 seconds", excludeTestServices: true })((it) => {
    it.effect("runners of 1 and 2 workers split a batch 1 : 2 (each share within 15% of its workers' share)", () =>
      Effect.gen(function*() {
        const { large, small } = yield* Runners
        yield* WorkerPool.awaitReady
        const n = 180
        const pids = yield* WorkerPool.map(Nap, Array.from({ length: n }, () => 40))
        const onSmall = pids.filter((p) => p === small.pid).length
        const onLarge = pids.filter((p) => p === large.pid).length
        assert.strictEqual(onSmall + onLarge, n, "every task ran on one of the two")
        const share = onSmall / n
        console.log(`[figures] cluster balance: ${n} tasks of 40 ms over runners of 1 and 2 workers: ${onSmall} / ${onLarge} (${(100 * share).toFixed(1)}% on the small one, 33.3% ideal)`)
        assert.isAtLeast(share, (1 / 3) * 0.85, `the 1-worker runner took ${onSmall} of ${n}`)
        assert.isAtMost(share, (1 / 3) * 1.15, `the 1-worker runner took ${onSmall} of ${n}`)
      }))

    it.effect("a batch of very unequal durations (5 ms to 600 ms) ends within 1.2x of the ideal makespan", () =>
      Effect.gen(function*() {
        yield* WorkerPool.awaitReady
        const ms = durations(120, 5, 600)
        const workers = 3
        const ideal = Math.max(ms.reduce((a, b) => a + b, 0) / workers, Math.max(...ms))
        const t0 = performance.now()
        const pids = yield* WorkerPool.map(Nap, ms)
        const makespan = performance.now() - t0
        assert.strictEqual(pids.length, ms.length)
        console.log(
          `[figures] cluster makespan: 120 tasks of 5-600 ms (${ms.reduce((a, b) => a + b, 0)} ms of work) over 3 workers: ` +
            `${makespan.toFixed(0)} ms, ideal ${ideal.toFixed(0)} ms (${(makespan / ideal).toFixed(2)}x)`
        )
        assert.isAtMost(makespan, 1.2 * ideal, `makespan ${makespan.toFixed(0)} ms against an ideal of ${ideal.toFixed(0)} ms`)
      }))
  })
})
