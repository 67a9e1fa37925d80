/**
 * joblib's nested loop, on every core:
 *
 *     from joblib import Parallel, delayed
 *     results = Parallel(n_jobs=-1)(delayed(f)(i, j) for i in range(30) for j in range(10))
 *
 * Here `f(i, j)` is how much of cell (i, j) of a 30 x 10 grid over the complex plane lies in the
 * Mandelbrot set. The same 300 calls run twice: with `WorkerPool.starmap(Cell, pairs)`, each `[i, j]`
 * spread over the struct payload `{ i, j }` by field order (joblib's `delayed(f)(i, j)`), and with
 * `WorkerPool.map(Cell, objects)`. Both return the results in input order, and must agree exactly.
 *
 *   node examples/joblib-grid.ts           # 100 x 100 samples per cell, 1000 iterations
 *   node examples/joblib-grid.ts --small   # 20 x 20 samples, 200 iterations (CI); or SMALL=1
 *
 * - `n_jobs=-1` is `size: "cores"`: the usable cores, CPU quota of a container included.
 * - joblib's `batch_size="auto"` is the default `chunkSize: "auto"`: 300 cells of a few milliseconds each
 *   travel several to a message once their duration is measured.
 * - The resolution is set in every worker by the pool's `initializer` (a task run once per worker), the
 *   way `multiprocessing.Pool(initializer=..., initargs=...)` sets globals.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Duration, Effect } from "effect"
import { Parallel, WorkerPool } from "../src/index.ts"
import { Cell, CELL_HEIGHT, CELL_WIDTH, COLUMNS, ROWS, SetResolution } from "./joblib-grid.tasks.ts"

const small = process.argv.includes("--small") || process.env.SMALL === "1"
const resolution = small ? { samples: 20, maxIter: 200 } : { samples: 100, maxIter: 1000 }

/** `for i in range(30) for j in range(10)`: i outer, j inner. */
const pairs: Array<readonly [number, number]> = []
for (let i = 0; i < COLUMNS; i++) for (let j = 0; j < ROWS; j++) pairs.push([i, j])

const SHADES = " .:-=+*#%@"

const program = Effect.gen(function*() {
  const cores = yield* Parallel.cores
  yield* WorkerPool.awaitReady
  console.log(
    `f(i, j) for i in range(${COLUMNS}) for j in range(${ROWS}): ${pairs.length} calls, ` +
      `${resolution.samples}x${resolution.samples} samples, ${resolution.maxIter} iterations, ${cores} worker(s)\n`
  )

  const [starmapTime, viaStarmap] = yield* Effect.timed(WorkerPool.starmap(Cell, pairs))
  const [mapTime, viaMap] = yield* Effect.timed(WorkerPool.map(Cell, pairs.map(([i, j]) => ({ i, j }))))

  const differ = viaStarmap.findIndex((x, k) => x !== viaMap[k])
  if (viaStarmap.length !== pairs.length || differ !== -1) {
    return yield* Effect.die(new Error(`starmap and map disagree at cell ${JSON.stringify(pairs[differ])}`))
  }

  // The grid: result k is cell pairs[k] = [i, j], so cell (i, j) is at k = i * ROWS + j. Row j = ROWS - 1 on top.
  const at = (i: number, j: number) => viaStarmap[i * ROWS + j]!
  console.log(`  +${"-".repeat(COLUMNS)}+  share of each cell in the set`)
  for (let j = ROWS - 1; j >= 0; j--) {
    let line = ""
    let rowSum = 0
    for (let i = 0; i < COLUMNS; i++) {
      const x = at(i, j)
      rowSum += x
      line += SHADES[x === 0 ? 0 : Math.max(1, Math.ceil(x * (SHADES.length - 1)))]
    }
    const im = -1.25 + (j + 0.5) * CELL_HEIGHT
    console.log(`  |${line}|  im ${im >= 0 ? " " : ""}${im.toFixed(3)}: ${rowSum.toFixed(3)} cells`)
  }
  console.log(`  +${"-".repeat(COLUMNS)}+`)
  console.log(`   ${"re -2.25".padEnd(COLUMNS - 6)}re 0.75\n`)

  const area = viaStarmap.reduce((a, b) => a + b, 0) * CELL_WIDTH * CELL_HEIGHT
  const ms = (d: Duration.Duration) => `${Duration.toMillis(d).toFixed(0)} ms`
  console.log(`starmap (tuples spread over { i, j }): ${ms(starmapTime)} (the first batch also warms the workers up)`)
  console.log(`map (objects { i, j }):                ${ms(mapTime)}`)
  console.log(
    `\nBoth agree on all ${pairs.length} cells. Area of the set ≈ ${area.toFixed(4)} ` +
      `(the best estimates say 1.5066; coarse sampling and few iterations overshoot).`
  )
})

program.pipe(
  Effect.provide(WorkerPool.layer({
    size: "cores", // joblib's n_jobs=-1
    initializer: { task: SetResolution, payload: resolution },
    preload: [Cell.module]
  })),
  NodeRuntime.runMain
)
