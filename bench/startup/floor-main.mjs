// The floor of a whole W5 program: import effect/Effect + effect/Schema, start two floor workers, one
// round trip, end them, exit. Prints one JSON line of timings (ms since the process started).
import { Worker } from "node:worker_threads"

const imported = (await import("effect/Effect"), await import("effect/Schema"), performance.now())
const start = () =>
  new Promise((resolve, reject) => {
    const w = new Worker(new URL("./floor-worker.mjs", import.meta.url))
    w.once("message", () => resolve(w)).once("error", reject)
  })
const workers = await Promise.all([start(), start()])
const ready = performance.now()
const result = await new Promise((resolve) => {
  workers[0].once("message", resolve)
  workers[0].postMessage(21)
})
if (result !== 42) throw new Error(`got ${result}`)
const first = performance.now()
await Promise.all(workers.map((w) => w.terminate()))
console.log(JSON.stringify({ imported, ready, first, closed: performance.now() }))
