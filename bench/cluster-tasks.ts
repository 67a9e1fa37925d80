/**
 * Tasks of the cluster benchmark (`bench/cluster.ts`): one Mandelbrot row, returned two ways. Side-effect
 * free: runners' workers import this module to find them.
 */
import { Effect, Schema } from "effect"
import { computeRow, RowSpec } from "../examples/mandelbrot.tasks.ts"
import { Task } from "../src/index.ts"

/** The row as it is computed: a `Float32Array` (it crosses the cluster as base64 of its bytes). */
export const RowBytes = Task.make("RowBytes", {
  module: import.meta.url,
  payload: RowSpec,
  success: Schema.instanceOf(Float32Array),
  run: (spec) => Effect.sync(() => computeRow(spec))
})

/**
 * The same row as an array of numbers: how a cluster task had to return it while values crossed as
 * `Schema.toCodecJson` JSON (`Schema.instanceOf(Float32Array)` had no JSON form), each float as decimal text.
 */
export const RowNumbers = Task.make("RowNumbers", {
  module: import.meta.url,
  payload: RowSpec,
  success: Schema.Array(Schema.Number),
  run: (spec) => Effect.sync(() => Array.from(computeRow(spec)))
})
