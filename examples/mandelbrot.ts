/**
 * An embarrassingly parallel image: the Mandelbrot set, one task per row, rendered serially in the main
 * thread and then with `WorkerPool.map` on one worker per core; both images must be identical. Writes
 * `mandelbrot.png` (a PNG encoded by hand with node:zlib, no dependencies: `png.ts`).
 *
 *   node examples/mandelbrot.ts              # 1200x1200, 500 iterations
 *   node examples/mandelbrot.ts --small      # 300x300, 200 iterations (CI); or SMALL=1
 *   node examples/mandelbrot.ts --out=DIR    # where to write the image (default out/); or OUT_DIR=DIR
 *
 * The task lives in `mandelbrot.tasks.ts`, a module without side effects, so this file needs no
 * `import.meta.main` guard: workers never import it.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Duration, Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { Parallel, WorkerPool } from "../src/index.ts"
import { computeRow, MandelbrotRow, type RowSpec } from "./mandelbrot.tasks.ts"
import { mandelbrotPng } from "./png.ts"

const small = process.argv.includes("--small") || process.env.SMALL === "1"
const size = small ? { width: 300, height: 300, maxIter: 200 } : { width: 1200, height: 1200, maxIter: 500 }
const outDir = process.argv.find((a) => a.startsWith("--out="))?.slice(6) ?? process.env.OUT_DIR ?? "out"

const sameImage = (a: ReadonlyArray<Float32Array>, b: ReadonlyArray<Float32Array>): boolean =>
  a.length === b.length && a.every((row, y) => row.length === b[y]!.length && row.every((v, x) => Object.is(v, b[y]![x])))

const program = Effect.gen(function*() {
  const { width, height, maxIter } = size
  const cores = yield* Parallel.cores
  const specs: Array<RowSpec> = Array.from({ length: height }, (_, y) => ({ y, width, height, maxIter }))
  console.log(`Mandelbrot ${width}x${height}, ${maxIter} iterations, one task per row\n`)

  const [serialElapsed, serial] = yield* Effect.timed(Effect.sync(() => specs.map(computeRow)))
  const [parallelElapsed, parallel] = yield* Effect.gen(function*() {
    yield* WorkerPool.awaitReady // every worker started (and the task module preloaded) before the clock runs
    return yield* Effect.timed(WorkerPool.map(MandelbrotRow, specs))
  }).pipe(Effect.provide(WorkerPool.layer({ size: cores, preload: [MandelbrotRow.module] })))

  if (!sameImage(serial, parallel)) return yield* Effect.die(new Error("the parallel image differs from the serial one"))

  fs.mkdirSync(outDir, { recursive: true })
  const file = path.join(outDir, "mandelbrot.png")
  const png = mandelbrotPng(parallel, width, maxIter)
  fs.writeFileSync(file, png)

  const t1 = Duration.toMillis(serialElapsed)
  const tp = Duration.toMillis(parallelElapsed)
  console.log(`  serial (main thread)      ${t1.toFixed(0).padStart(6)} ms`)
  const workers = `${cores} worker${cores > 1 ? "s" : " "}`
  console.log(`  WorkerPool.map, ${workers}  ${tp.toFixed(0).padStart(6)} ms   speedup ${(t1 / tp).toFixed(2)}x`)
  console.log(
    `\nBoth images are identical. Wrote ${file} (${(png.length / 1024).toFixed(0)} KiB).` +
      (tp > t1 ? `\nThe workers were slower: ${small ? "too little work at --small size" : "is the machine busy?"}` : "")
  )
})

NodeRuntime.runMain(program)
