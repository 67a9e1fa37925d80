/**
 * The Mandelbrot row of `../mandelbrot.tasks.ts` for a cluster: the same `computeRow`, with a result that
 * survives JSON. Cluster messages and replies are stored in Postgres as JSON, encoded with the task's
 * schemas, and `Schema.instanceOf(Float32Array)` (what `MandelbrotRow` returns on threads) has no JSON
 * form; a plain array of numbers has, exactly: a float32 value is a double, and JSON keeps doubles.
 * The row also says which runner computed it (the runner's pid: its worker threads share it).
 */
import { Effect, Schema } from "effect"
import { Task } from "../../src/index.ts"
import { computeRow, RowSpec } from "../mandelbrot.tasks.ts"

export const RenderRow = Task.make("RenderRow", {
  module: import.meta.url,
  payload: RowSpec,
  success: Schema.Struct({ row: Schema.Array(Schema.Number), pid: Schema.Number }),
  run: (spec) => Effect.sync(() => ({ row: Array.from(computeRow(spec)), pid: process.pid }))
})
