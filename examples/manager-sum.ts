/**
 * A long sequence split in two halves, each summed by a worker into a shared list held by the parent
 * (Python's `multiprocessing.Manager().list()`); the parent adds the two sums up and compares the total,
 * and the time, with a plain serial loop. Once on worker threads, once on child processes: the same
 * task, the same `Manager.list`, the same code.
 *
 *   node examples/manager-sum.ts            # 200 million terms
 *   node examples/manager-sum.ts --small    # 4 million terms (CI); or SMALL=1
 *
 * The workers write into the list with `sums.set(slot, sum)`; the list lives in the parent and each
 * worker holds a typed proxy to it (from `Manager.listSchema(Schema.Number)` in the task's payload).
 * Values read back from a manager are deep-frozen copies: `(yield* sums.toArray).push(0)` throws.
 *
 * The task lives in `manager-sum.tasks.ts`, so this file needs no `import.meta.main` guard.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Duration, Effect, Schema } from "effect"
import { Manager, WorkerPool } from "../src/index.ts"
import { sumRange, SumHalf } from "./manager-sum.tasks.ts"

const small = process.argv.includes("--small") || process.env.SMALL === "1"
const n = small ? 4_000_000 : 200_000_000

const halves = (backend: "threads" | "processes") =>
  Effect.gen(function*() {
    yield* WorkerPool.awaitReady // both workers started and the task module loaded before the clock runs
    return yield* Effect.timed(Effect.scoped(Effect.gen(function*() {
      const sums = yield* Manager.list(Schema.Number, [0, 0])
      const middle = Math.floor(n / 2)
      yield* Effect.all([
        SumHalf({ from: 0, to: middle, slot: 0, sums }),
        SumHalf({ from: middle, to: n, slot: 1, sums })
      ], { concurrency: 2 })
      return yield* sums.toArray
    })))
  }).pipe(Effect.provide(
    (backend === "threads" ? WorkerPool.layerThreads : WorkerPool.layerProcesses)({ size: 2, preload: [SumHalf.module] })
  ))

const program = Effect.gen(function*() {
  console.log(`The sum of ${n.toLocaleString("en-US")} terms, serially and in two halves on two workers\n`)
  const [serialElapsed, serial] = yield* Effect.timed(Effect.sync(() => sumRange(0, n)))
  const t1 = Duration.toMillis(serialElapsed)
  console.log(`  serial loop          ${t1.toFixed(0).padStart(6)} ms   sum ${serial}`)
  for (const backend of ["threads", "processes"] as const) {
    const [elapsed, sums] = yield* halves(backend)
    const total = sums[0]! + sums[1]!
    const t = Duration.toMillis(elapsed)
    console.log(
      `  2 ${backend.padEnd(9)}          ${t.toFixed(0).padStart(6)} ms   sum ${total} = ${sums[0]} + ${sums[1]}   speedup ${(t1 / t).toFixed(2)}x`
    )
    if (total !== serial) return yield* Effect.die(new Error(`${backend}: the halves add up to ${total}, the serial sum is ${serial}`))
  }
  console.log(
    "\nThe halves add up to the serial sum on both backends." +
      (small ? " At --small size the work is too small to pay for sending it to workers." : "")
  )
})

NodeRuntime.runMain(program)
