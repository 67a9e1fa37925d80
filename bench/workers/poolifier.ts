// poolifier worker: a ThreadWorker with named task functions, called with `pool.execute(payload, name)`.
import { ThreadWorker } from "poolifier"
import type { RowPayload } from "../pools/types.ts"
import { double, mandelbrotRow, sumArray } from "../kernels.ts"

export default new ThreadWorker<any, number>({
  double: (x: number) => double(x),
  mandelbrotRow: (p: RowPayload) => mandelbrotRow(p.y, p.width, p.height, p.maxIter),
  sum: (data: Float64Array) => sumArray(data)
})
