/**
 * R snowfall's classic comparison: `sfSapply` (the input cut into one slice per worker up front) against
 * `sfClusterApplyLB` (one item at a time to whichever worker is free), over `rep(200, 50)`:
 *
 *     sfInit(parallel = TRUE, cpus = 4); sfClusterSetupRNG(seed = 42)
 *     f <- function(n) { A <- matrix(rnorm(n*n), n); B <- matrix(rnorm(n*n), n); sum(diag(A %*% B)) }
 *     sapply(rep(200, 50), f); sfSapply(rep(200, 50), f); sfClusterApplyLB(rep(200, 50), f)
 *
 * The same batch, `WorkerPool.map(TraceOfProduct, sizes, { seed })`, four ways:
 *
 * - serial: a one-worker in-process pool (`WorkerPool.layerInProcess({ size: 1 })`), like `sapply`;
 * - static: `chunkSize: ceil(tasks / workers)`, one slice per worker, like `sfSapply`;
 * - load-balanced: `chunkSize: 1`, like `sfClusterApplyLB`;
 * - auto: the default, chunk size adapted to the measured task duration (joblib's `batch_size="auto"`).
 *
 * In R the results depend on the cluster: `sfClusterSetupRNG` gives each *worker* a stream, so which task
 * gets which numbers depends on the scheduling. Here each *task* gets a stream from (seed, index) (rule
 * R7), so the four runs must be bit-identical, and are checked to be.
 *
 *   node examples/snowfall-matrices.ts           # 50 tasks of 200 x 200
 *   node examples/snowfall-matrices.ts --small   # 12 tasks of 60 x 60 (CI); or SMALL=1
 */
import { NodeRuntime } from "@effect/platform-node"
import { Duration, Effect } from "effect"
import { Parallel, WorkerPool } from "../src/index.ts"
import { TraceOfProduct } from "./snowfall-matrices.tasks.ts"

const small = process.argv.includes("--small") || process.env.SMALL === "1"
const n = small ? 60 : 200
const tasks = small ? 12 : 50
const sizes = Array.from({ length: tasks }, () => n) // rep(200, 50)
const seed = 42

/** A few untimed tasks first, so that every worker has compiled the kernel before the clock runs. */
const warmUp = (workers: number) => WorkerPool.map(TraceOfProduct, sizes.slice(0, 2 * workers), { chunkSize: 1 })

/** Runs the batch on the pool in context and times it. */
const timed = (label: string, options: WorkerPool.BatchOptions) =>
  Effect.gen(function*() {
    const [elapsed, traces] = yield* Effect.timed(WorkerPool.map(TraceOfProduct, sizes, { ...options, seed }))
    return { label, millis: Duration.toMillis(elapsed), traces }
  })

const program = Effect.gen(function*() {
  const workers = yield* Parallel.cores
  const slice = Math.ceil(tasks / workers)
  const preload = [TraceOfProduct.module]
  console.log(`${tasks} tasks: trace(A B) of two random ${n}x${n} matrices, seed ${seed}, ${workers} worker(s)\n`)

  // sapply: one after the other, in this thread (same codecs and messages as the workers).
  const serial = yield* warmUp(1).pipe(
    Effect.andThen(timed("serial (in-process, 1)", {})),
    Effect.provide(WorkerPool.layerInProcess({ size: 1, preload }))
  )
  // One pool of threads for the three parallel runs, every worker started before the clocks run.
  const parallel = yield* Effect.gen(function*() {
    yield* WorkerPool.awaitReady
    yield* warmUp(workers)
    return [
      yield* timed(`static, chunkSize ${slice}`, { chunkSize: slice }), // sfSapply
      yield* timed("load-balanced, chunkSize 1", { chunkSize: 1 }), // sfClusterApplyLB
      yield* timed("auto chunkSize", {})
    ]
  }).pipe(Effect.provide(WorkerPool.layer({ size: workers, preload })))
  const runs = [serial, ...parallel]

  const reference = runs[0]!.traces
  for (const r of runs) {
    const k = r.traces.findIndex((t, i) => !Object.is(t, reference[i]))
    if (k !== -1) {
      return yield* Effect.die(new Error(`${r.label}: task ${k} gave ${r.traces[k]}, serially ${reference[k]}`))
    }
  }

  const t1 = runs[0]!.millis
  console.log(`  ${"run".padEnd(30)}${"time".padStart(10)}${"T1/Tp".padStart(8)}`)
  for (const r of runs) {
    const time = `${r.millis.toFixed(0)} ms`
    console.log(`  ${r.label.padEnd(30)}${time.padStart(10)}${(t1 / r.millis).toFixed(2).padStart(8)}`)
  }
  const shown = reference.slice(0, 4).map((t) => t.toFixed(6)).join(", ")
  console.log(`\ntraces: ${shown}, … (${tasks} in all); bit-identical in all four runs.`)
  console.log(`Their mean is ${(reference.reduce((a, b) => a + b, 0) / tasks).toFixed(2)}; E[trace(AB)] = 0, sd ${n}.`)
  if (small) console.log(`(At --small size the runs take a few milliseconds: their times are noise, not speedup.)`)
})

NodeRuntime.runMain(program)
