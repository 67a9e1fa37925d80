// workerpool 10: a pool of worker threads (minWorkers = maxWorkers) running a registered worker script.
import { fileURLToPath } from "node:url"
import workerpool from "workerpool"
import type { PoolAdapter } from "./types.ts"

const script = fileURLToPath(new URL("../workers/workerpool.ts", import.meta.url))

export const adapters: ReadonlyArray<PoolAdapter> = [{
  id: "workerpool",
  label: "workerpool",
  kind: "peer",
  workloads: ["W1", "W2", "W3", "W4", "W5"],
  sumModes: ["copy", "transfer", "shared"],
  open: async (workers) => {
    const pool = workerpool.pool(script, { minWorkers: workers, maxWorkers: workers, workerType: "thread" })
    const exec = (name: string, payload: unknown, transfer?: ReadonlyArray<Transferable>) =>
      Promise.resolve(pool.exec(name, [payload], transfer === undefined ? undefined : { transfer: [...transfer] as any }))
    return {
      doubleAll: (xs) => Promise.all(xs.map((x) => exec("double", x) as Promise<number>)),
      doubleSequential: async (xs) => {
        const out: Array<number> = []
        for (const x of xs) out.push(await exec("double", x) as number)
        return out
      },
      mandelbrotRows: (rows) => Promise.all(rows.map((r) => exec("mandelbrotRow", r) as Promise<number>)),
      sum: (data, mode) => exec("sum", data, mode === "transfer" ? [data.buffer as ArrayBuffer] : undefined) as Promise<number>,
      close: async () => {
        await pool.terminate()
      }
    }
  }
}]
