/**
 * Tasks for `joblib-grid.ts`: `f(i, j)` for one cell of a 30 x 10 grid over the complex plane, and the
 * initializer that sets the resolution in every worker. No top-level side effects.
 */
import { Effect, Schema } from "effect"
import { Task } from "../src/index.ts"

/** The grid: 30 columns (i) over re ∈ [-2.25, 0.75), 10 rows (j) over im ∈ [-1.25, 1.25). */
export const COLUMNS = 30
export const ROWS = 10
export const CELL_WIDTH = 3 / COLUMNS
export const CELL_HEIGHT = 2.5 / ROWS

export const Resolution = Schema.Struct({ samples: Schema.Int, maxIter: Schema.Int })
export type Resolution = typeof Resolution.Type

/** Module state of each worker, set once by the initializer (Python's `Pool(initializer=..., initargs=...)`). */
let resolution: Resolution = { samples: 16, maxIter: 100 }

/** Runs once in every worker before its first task: the resolution every cell is computed at. */
export const SetResolution = Task.make("SetResolution", {
  module: import.meta.url,
  payload: Resolution,
  success: Schema.Void,
  run: (r) =>
    Effect.sync(() => {
      resolution = r
    })
})

/**
 * The function joblib would call as `delayed(f)(i, j)`: the fraction of cell (i, j) that lies in the
 * Mandelbrot set, sampled on a `samples` x `samples` grid of points, each iterated `maxIter` times at most.
 */
export const f = (i: number, j: number, { maxIter, samples }: Resolution): number => {
  let inside = 0
  for (let a = 0; a < samples; a++) {
    const cr = -2.25 + (i + (a + 0.5) / samples) * CELL_WIDTH
    for (let b = 0; b < samples; b++) {
      const ci = -1.25 + (j + (b + 0.5) / samples) * CELL_HEIGHT
      let zr = 0
      let zi = 0
      let n = 0
      while (n < maxIter && zr * zr + zi * zi <= 4) {
        const t = zr * zr - zi * zi + cr
        zi = 2 * zr * zi + ci
        zr = t
        n++
      }
      if (n === maxIter) inside++
    }
  }
  return inside / (samples * samples)
}

/** `f` as a task. The payload is a struct, so `WorkerPool.starmap` takes `[i, j]` tuples (field order). */
export const Cell = Task.make("Cell", {
  module: import.meta.url,
  payload: Schema.Struct({ i: Schema.Int, j: Schema.Int }),
  success: Schema.Number,
  run: ({ i, j }) => Effect.sync(() => f(i, j, resolution))
})
