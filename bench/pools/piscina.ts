// piscina 5: a fixed pool (minThreads = maxThreads), default options otherwise.
import { fileURLToPath } from "node:url"
import type { PoolAdapter } from "./types.ts"

const filename = fileURLToPath(new URL("../workers/piscina.ts", import.meta.url))

/** The part of piscina's API used here. */
interface Piscina {
  run(task: unknown, options?: { readonly name?: string; readonly transferList?: ReadonlyArray<Transferable> }): Promise<any>
  destroy(): Promise<void>
}
type PiscinaClass = new(options: { filename: string; minThreads: number; maxThreads: number }) => Piscina

// piscina's own .d.ts does not pass this project's strict checking (exactOptionalPropertyTypes,
// skipLibCheck: false: `FilledOptions.atomics`), so it is loaded through a specifier tsc does not follow.
const specifier: string = "piscina"

export const adapters: ReadonlyArray<PoolAdapter> = [{
  id: "piscina",
  label: "piscina",
  kind: "peer",
  workloads: ["W1", "W2", "W3", "W4", "W5"],
  sumModes: ["copy", "transfer", "shared"],
  open: async (workers) => {
    const { Piscina } = (await import(specifier)) as { Piscina: PiscinaClass }
    const pool = new Piscina({ filename, minThreads: workers, maxThreads: workers })
    return {
      doubleAll: (xs) => Promise.all(xs.map((x) => pool.run(x, { name: "double" }) as Promise<number>)),
      doubleSequential: async (xs) => {
        const out: Array<number> = []
        for (const x of xs) out.push(await pool.run(x, { name: "double" }))
        return out
      },
      mandelbrotRows: (rows) => Promise.all(rows.map((r) => pool.run(r, { name: "mandelbrotRow" }) as Promise<number>)),
      sum: (data, mode) => pool.run(data, { name: "sum", ...(mode === "transfer" ? { transferList: [data.buffer] } : {}) }),
      close: () => pool.destroy()
    }
  }
}]
