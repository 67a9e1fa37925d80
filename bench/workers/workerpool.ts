// workerpool worker: registers its methods, called with `pool.exec(name, [payload])`.
import workerpool from "workerpool"
import type { RowPayload } from "../pools/types.ts"
import { double, mandelbrotRow, sumArray } from "../kernels.ts"

workerpool.worker({
  double: (x: number) => double(x),
  mandelbrotRow: (p: RowPayload) => mandelbrotRow(p.y, p.width, p.height, p.maxIter),
  sum: (data: Float64Array) => sumArray(data)
})
