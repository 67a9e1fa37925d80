/**
 * effect-parallel tasks for the benchmarks. Side-effect free: workers import this module to find them.
 */
// Effect's modules one by one (not its barrel): workers import this module before their first task
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { SharedArray, SharedError, Task } from "../src/index.ts"
import { double, mandelbrotRow, sumArray } from "./kernels.ts"

/** W1, W2, W5: the tiny task. */
export const Double = Task.make("Double", {
  module: import.meta.url,
  payload: Schema.Number,
  success: Schema.Number,
  run: (x) => Effect.succeed(double(x))
})

/** W3: one Mandelbrot row; returns its checksum. */
export const MandelbrotRow = Task.make("MandelbrotRow", {
  module: import.meta.url,
  payload: Schema.Struct({ y: Schema.Number, width: Schema.Number, height: Schema.Number, maxIter: Schema.Number }),
  success: Schema.Number,
  run: ({ y, width, height, maxIter }) => Effect.sync(() => mandelbrotRow(y, width, height, maxIter))
})

/** W4 through the library's SharedArray: the worker sums the live view, no copy. */
export const SumSharedArray = Task.make("SumSharedArray", {
  module: import.meta.url,
  payload: Schema.Struct({ data: SharedArray.schema }),
  success: Schema.Number,
  error: SharedError.SharedError,
  run: ({ data }) => Effect.map(SharedArray.view(data), (view) => sumArray(view as unknown as Float64Array))
})

/** W4: sums a Float64Array (copied, transferred, or a view over a SharedArrayBuffer). */
export const SumArray = Task.make("SumArray", {
  module: import.meta.url,
  payload: Schema.instanceOf(Float64Array),
  success: Schema.Number,
  run: (data) => Effect.sync(() => sumArray(data))
})
