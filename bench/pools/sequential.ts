// The sequential baseline: the same kernels called directly in the main thread (no pool, no messages).
import { double, mandelbrotRow, sumArray } from "../kernels.ts"
import type { PoolAdapter } from "./types.ts"

export const adapters: ReadonlyArray<PoolAdapter> = [{
  id: "sequential",
  label: "sequential (main thread)",
  kind: "baseline",
  workloads: ["W1", "W3", "W4"],
  sumModes: ["main"],
  open: async () => ({
    doubleAll: async (xs) => xs.map(double),
    mandelbrotRows: async (rows) => rows.map((r) => mandelbrotRow(r.y, r.width, r.height, r.maxIter)),
    sum: async (data) => sumArray(data),
    close: async () => {}
  })
}]
