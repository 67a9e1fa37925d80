// tinypool worker: one named export per task, picked with `pool.run(payload, { name })`.
import type { RowPayload } from "../pools/types.ts"
import { double as twice, mandelbrotRow as row, sumArray } from "../kernels.ts"

export const double = (x: number): number => twice(x)
export const mandelbrotRow = (p: RowPayload): number => row(p.y, p.width, p.height, p.maxIter)
export const sum = (data: Float64Array): number => sumArray(data)
