/**
 * A pool that writes files: many SVG scatter plots of random data, each task drawing one plot and writing
 * it under `out/plots/` itself. Python's
 *
 *     with Pool() as pool:
 *         results = [pool.apply_async(make_plot, (k,)) for k in range(n)]
 *         for r in results: print(r.get(timeout=20))
 *
 * with `WorkerPool.submit` (a handle per plot, at once) and `AsyncResult.get(handle, { timeout })`, each
 * result reported as it arrives; then how well it scales: the same batch on 1, 2, … workers, timed by
 * `Speedup.measure`, printed as a table of speedup and efficiency and drawn to `out/plots/speedup.svg`.
 *
 *   node examples/plot-files.ts           # 48 plots of 4000 points
 *   node examples/plot-files.ts --small   # 8 plots of 400 points (CI); or SMALL=1
 *   node examples/plot-files.ts --out=DIR # default out/; or OUT_DIR=DIR
 *
 * Every plot gets its own random data from the batch seed and its index (`TaskContext.random`): the same
 * file whichever worker draws it, in whatever order, on however many workers. The program checks that
 * every run of the speedup measurement wrote exactly the files that the submitted tasks wrote.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect } from "effect"
import * as path from "node:path"
import { AsyncResult, Parallel, Speedup, WorkerPool } from "../src/index.ts"
import { Plot } from "./plot-files.tasks.ts"

const small = process.argv.includes("--small") || process.env.SMALL === "1"
const outDir = process.argv.find((a) => a.startsWith("--out="))?.slice(6) ?? process.env.OUT_DIR ?? "out"
const dir = path.join(outDir, "plots")
const plots = small ? 8 : 48
const spec = small ? { dir, points: 400, grid: 100 } : { dir, points: 4000, grid: 300 }
const seed = 2024

const program = Effect.gen(function*() {
  const cores = yield* Parallel.cores
  console.log(`${plots} plots of ${spec.points} points each into ${dir}/, seed ${seed}, ${cores} worker(s)\n`)

  // 1. Submit every plot at once; report each one as its result arrives.
  const fingerprints = yield* Effect.scoped(Effect.gen(function*() {
    yield* WorkerPool.awaitReady
    const start = Date.now()
    const handles = yield* Effect.forEach(
      Array.from({ length: plots }, (_, k) => k),
      (k) => WorkerPool.submit(Plot, spec, { seed, index: k }) // index k: plot k's own random stream
    )
    console.log(`submitted ${handles.length} plots in ${Date.now() - start} ms; results as they arrive:`)
    // A get that times out fails with GetTimeout but does NOT cancel the task (AsyncResult.cancel does).
    return yield* Effect.forEach(handles, (h) =>
      AsyncResult.get(h, { timeout: "60 seconds" }).pipe(
        Effect.tap((r) => {
          const at = String(Date.now() - start).padStart(5)
          return Console.log(`  +${at} ms  ${r.file}  ${(r.bytes / 1024).toFixed(0)} KiB`)
        }),
        Effect.map((r) => r.fingerprint)
      ), { concurrency: "unbounded" })
  })).pipe(Effect.provide(WorkerPool.layer({ size: cores, preload: [Plot.module] })))

  // 2. Speedup and efficiency: the same plots as one WorkerPool.map on 1, 2, … workers.
  const sameFiles = (results: ReadonlyArray<{ readonly fingerprint: number }>) =>
    results.every((r, k) => r.fingerprint === fingerprints[k])
      ? Effect.void
      : Effect.die(new Error("a run of the speedup measurement wrote different files"))
  console.log(`\nmeasuring…`)
  const report = yield* Speedup.measure({
    run: WorkerPool.map(Plot, Array.from({ length: plots }, () => spec), { seed }).pipe(Effect.flatMap(sameFiles)),
    repeats: small ? 1 : 3,
    preload: [Plot.module],
    label: `${plots} SVG scatter plots of ${spec.points} points`
  })
  yield* Speedup.print(report)
  const chart = path.join(dir, "speedup.svg")
  yield* Speedup.plot(report, chart)
  console.log(`\nEvery run wrote the same ${plots} files. Chart: ${chart}.`)
})

NodeRuntime.runMain(program)
