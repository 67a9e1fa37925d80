/**
 * π by Monte Carlo: throw darts at the unit square and count those inside the quarter circle; π ≈ 4 ×
 * inside / thrown. The darts are drawn from each task's own random stream, a function of the batch `seed`
 * and the task's index only (rule R7), so the estimate is the same number, to the last digit, on 1 worker
 * or on N, on threads or on processes, however the batch was cut into chunks.
 *
 *   node examples/monte-carlo.ts           # 64 tasks of 500,000 darts
 *   node examples/monte-carlo.ts --small   # 16 tasks of 50,000 darts (CI); or SMALL=1
 *
 * In Python, numpy's `SeedSequence(seed).spawn(n)` gives the same guarantee if you pass the streams by
 * hand; `multiprocessing` alone gives every forked worker a copy of the parent's generator state (the
 * same numbers in every worker) or a fresh random one (different numbers every run).
 *
 * `progress: true` shows each batch's progress on stderr: a live bar on a terminal, plain lines in CI.
 * The task is in this file, so the program is behind the `import.meta.main` guard.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Duration, Effect, Schema } from "effect"
import { Parallel, Task, TaskContext, WorkerPool } from "../src/index.ts"

/** Throws `n` darts; returns how many landed inside the quarter circle. */
export const Darts = Task.make("Darts", {
  module: import.meta.url,
  payload: Schema.Int,
  success: Schema.Int,
  run: (n) =>
    Effect.gen(function*() {
      const { random } = yield* TaskContext.TaskContext
      let inside = 0
      for (let k = 0; k < n; k++) {
        const x = random.next()
        const y = random.next()
        if (x * x + y * y <= 1) inside++
      }
      return inside
    })
})

const small = process.argv.includes("--small") || process.env.SMALL === "1"
const tasks = small ? 16 : 64
const darts = small ? 50_000 : 500_000
const seed = 7

/** The batch on a fresh pool from `make` with `size` workers, started before the clock runs. */
const estimate = (backend: "threads" | "processes", size: number) =>
  Effect.gen(function*() {
    yield* WorkerPool.awaitReady
    const label = `${backend} x${size}`
    const [elapsed, inside] = yield* Effect.timed(
      WorkerPool.map(Darts, Array.from({ length: tasks }, () => darts), { seed, progress: { label } })
    )
    const total = inside.reduce((a, b) => a + b, 0)
    return { label, millis: Duration.toMillis(elapsed), inside, pi: (4 * total) / (tasks * darts) }
  }).pipe(Effect.provide(
    backend === "threads"
      ? WorkerPool.layerThreads({ size, preload: [Darts.module] })
      : WorkerPool.layerProcesses({ size, preload: [Darts.module] })
  ))

const program = Effect.gen(function*() {
  const cores = yield* Parallel.cores
  const n = Math.max(2, cores) // at least two workers, so that "1 or N" means something on one core too
  console.log(`${tasks} tasks of ${darts.toLocaleString("en-US")} darts, seed ${seed}\n`)

  const runs = [
    yield* estimate("threads", 1),
    yield* estimate("threads", n),
    yield* estimate("processes", 1),
    yield* estimate("processes", n)
  ]

  console.log()
  for (const r of runs) {
    console.log(`  ${r.label.padEnd(14)} π ≈ ${r.pi.toFixed(10)}   ${r.millis.toFixed(0).padStart(6)} ms`)
  }
  const first = runs[0]!
  for (const r of runs) {
    const k = r.inside.findIndex((x, i) => x !== first.inside[i])
    if (k !== -1) {
      const message = `${r.label}: task ${k} counted ${r.inside[k]}, ${first.label} ${first.inside[k]}`
      return yield* Effect.die(new Error(message))
    }
  }
  console.log(
    `\nThe same ${tasks} counts, so the same estimate, on every backend and pool size ` +
      `(error ${Math.abs(first.pi - Math.PI).toExponential(2)}; a different seed gives another estimate).`
  )
})

if (import.meta.main) {
  NodeRuntime.runMain(program)
}
