// tinypool 2: a fixed pool of worker threads (minThreads = maxThreads), default options otherwise.
import { Tinypool } from "tinypool"
import type { PoolAdapter } from "./types.ts"

const filename = new URL("../workers/tinypool.ts", import.meta.url).href

export const adapters: ReadonlyArray<PoolAdapter> = [{
  id: "tinypool",
  label: "tinypool",
  kind: "peer",
  workloads: ["W1", "W2", "W3", "W4", "W5"],
  sumModes: ["copy", "transfer", "shared"],
  open: async (workers) => {
    const pool = new Tinypool({ filename, minThreads: workers, maxThreads: workers })
    return {
      doubleAll: (xs) => Promise.all(xs.map((x) => pool.run(x, { name: "double" }) as Promise<number>)),
      doubleSequential: async (xs) => {
        const out: Array<number> = []
        for (const x of xs) out.push(await pool.run(x, { name: "double" }))
        return out
      },
      mandelbrotRows: (rows) => Promise.all(rows.map((r) => pool.run(r, { name: "mandelbrotRow" }) as Promise<number>)),
      sum: (data, mode) =>
        pool.run(data, { name: "sum", ...(mode === "transfer" ? { transferList: [data.buffer as ArrayBuffer] } : {}) }),
      close: () => pool.destroy()
    }
  }
}]
