// Bare worker_threads (a baseline, not a pool): N workers echoing [id, 2x], round-robin, no queue, no
// error handling, no cancellation: the floor on what a message round trip costs on this machine.
import { Worker } from "node:worker_threads"
import type { PoolAdapter } from "./types.ts"

const workerUrl = new URL("../workers/bare.ts", import.meta.url)

export const adapters: ReadonlyArray<PoolAdapter> = [{
  id: "bare",
  label: "bare worker_threads echo",
  kind: "baseline",
  workloads: ["W1", "W2", "W5"],
  sumModes: [],
  open: async (workers) => {
    const threads = Array.from({ length: workers }, () => new Worker(workerUrl))
    await Promise.all(threads.map((w) => new Promise((resolve, reject) => w.once("online", resolve).once("error", reject))))
    const pending = new Map<number, (value: number) => void>()
    for (const w of threads) w.on("message", (m: [number, number]) => {
      const resolve = pending.get(m[0])!
      pending.delete(m[0])
      resolve(m[1])
    })
    let nextId = 0
    const call = (x: number) =>
      new Promise<number>((resolve) => {
        const id = nextId++
        pending.set(id, resolve)
        threads[id % threads.length]!.postMessage([id, x])
      })
    return {
      doubleAll: (xs) => Promise.all(xs.map(call)),
      doubleSequential: async (xs) => {
        const out: Array<number> = []
        for (const x of xs) out.push(await call(x))
        return out
      },
      close: async () => {
        await Promise.all(threads.map((w) => w.terminate()))
      }
    }
  }
}]
