/**
 * The Mandelbrot task: one image row per task. A task module on its own, with no top-level side effects:
 * the program (`mandelbrot.ts`) and every worker import it, and nothing runs on import.
 */
import { Effect, Schema } from "effect"
import { Task } from "../src/index.ts"

/** What one row needs: which row, the image size, the iteration limit. */
export const RowSpec = Schema.Struct({
  y: Schema.Int,
  width: Schema.Int,
  height: Schema.Int,
  maxIter: Schema.Int
})
export type RowSpec = typeof RowSpec.Type

// The view: centre (-0.75, 0), 3 units across the shorter side.
const CENTER_X = -0.75
const CENTER_Y = 0
const SPAN = 3

/**
 * Escape times of one row, smoothed (the "normalized iteration count") so that colours blend instead of
 * banding; `maxIter` marks points that never escaped (inside the set). Plain code: the serial loop in the
 * program calls it directly, the task calls it in a worker.
 */
export const computeRow = ({ y, width, height, maxIter }: RowSpec): Float32Array<ArrayBuffer> => {
  const row = new Float32Array(width)
  const scale = SPAN / Math.min(width, height)
  const ci = CENTER_Y + (y - height / 2) * scale
  for (let x = 0; x < width; x++) {
    const cr = CENTER_X + (x - width / 2) * scale
    let zr = 0
    let zi = 0
    let n = 0
    while (n < maxIter && zr * zr + zi * zi <= 256) {
      const t = zr * zr - zi * zi + cr
      zi = 2 * zr * zi + ci
      zr = t
      n++
    }
    row[x] = n >= maxIter ? maxIter : n + 1 - Math.log2(Math.log2(zr * zr + zi * zi) / 2)
  }
  return row
}

/** The same function as a task. A `Float32Array` travels to the parent by structured clone, as it is. */
export const MandelbrotRow = Task.make("MandelbrotRow", {
  module: import.meta.url,
  payload: RowSpec,
  success: Schema.instanceOf(Float32Array),
  run: (spec) => Effect.sync(() => computeRow(spec))
})
