// What an effect-parallel worker loads, step by step, timed in a fresh isolate: the modules its entry
// imports (in the order it imports them), the task module, and the first task's codec. Started by
// bench/startup.ts with workerData = { dist, task }; posts one object of milliseconds.
//
// The built package is bundled (scripts/build.mjs): the worker runtime is the chunk `internal/chunks/worker.js`,
// whose exports are renamed.
import * as nodeModule from "node:module"
import { parentPort, workerData } from "node:worker_threads"

nodeModule.enableCompileCache?.()
const t = {}
let last = performance.now()
const step = async (name, f) => {
  const value = await f()
  const now = performance.now()
  t[name] = now - last
  last = now
  return value
}
await step("effect/Effect", () => import("effect/Effect"))
await step("effect/Schema", () => import("effect/Schema"))
const chunk = `${workerData.dist}/internal/chunks/worker.js`
await step("worker runtime (entry, runtime, wire, codec, task loader)", () => import(chunk))
const mod = await step("task module (with effect-parallel)", () => import(workerData.task))
// The codec is internal to the bundle's main chunk; the sources' `codec.ts` builds the same codec from the
// task's schemas (loaded before the clock, so only the building is timed).
const { codecOf } = await import(new URL("../../src/internal/codec.ts", import.meta.url).href)
last = performance.now()
await step("first task's codec", () => codecOf(mod.Double).encodeSuccess(42))
parentPort.postMessage(t)
