/**
 * The Mandelbrot row of `../mandelbrot.tasks.ts` for a cluster: the same `computeRow`, returning the same
 * `Float32Array`. On a cluster it crosses as base64 of its 4,800 bytes inside the stored JSON message (not
 * as 1,200 numbers in decimal text), and arrives as a `Float32Array`, as on threads. The row also says which
 * runner computed it (the runner's pid: its worker threads share it).
 */
import { Effect, Schema } from "effect"
import { Task } from "../../src/index.ts"
import { computeRow, RowSpec } from "../mandelbrot.tasks.ts"

export const RenderRow = Task.make("RenderRow", {
  module: import.meta.url,
  payload: RowSpec,
  success: Schema.Struct({ row: Schema.instanceOf(Float32Array), pid: Schema.Number }),
  run: (spec) => Effect.sync(() => ({ row: computeRow(spec), pid: process.pid }))
})
