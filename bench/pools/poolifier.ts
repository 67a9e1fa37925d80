// poolifier 5: FixedThreadPool with named task functions, default options otherwise.
import { fileURLToPath } from "node:url"
import { FixedThreadPool } from "poolifier"
import type { PoolAdapter } from "./types.ts"

const filePath = fileURLToPath(new URL("../workers/poolifier.ts", import.meta.url))

export const adapters: ReadonlyArray<PoolAdapter> = [{
  id: "poolifier",
  label: "poolifier",
  kind: "peer",
  workloads: ["W1", "W2", "W3", "W4", "W5"],
  sumModes: ["copy", "transfer", "shared"],
  open: async (workers) => {
    const pool = new FixedThreadPool<unknown, number>(workers, filePath)
    return {
      doubleAll: (xs) => Promise.all(xs.map((x) => pool.execute(x, "double"))),
      doubleSequential: async (xs) => {
        const out: Array<number> = []
        for (const x of xs) out.push(await pool.execute(x, "double"))
        return out
      },
      mandelbrotRows: (rows) => Promise.all(rows.map((r) => pool.execute(r, "mandelbrotRow"))),
      sum: (data, mode) =>
        pool.execute(data, "sum", undefined, mode === "transfer" ? [data.buffer as ArrayBuffer] : undefined),
      close: () => pool.destroy()
    }
  }
}]
