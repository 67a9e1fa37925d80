// What an effect-parallel worker loads, step by step, timed in a fresh isolate: the modules its entry
// imports (in the order it imports them), the task module, and the first task's codec. Started by
// bench/startup.ts with workerData = { dist, task }; posts one object of milliseconds.
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
await step("worker runtime (entry, runtime, wire, codec, task loader)", async () => {
  await import(`${workerData.dist}/internal/worker/runtime.js`)
  await import(`${workerData.dist}/internal/wire.js`)
})
const mod = await step("task module (with effect-parallel)", () => import(workerData.task))
const { codecOf } = await import(`${workerData.dist}/internal/codec.js`)
await step("first task's codec", () => codecOf(mod.Double).encodeSuccess(42))
parentPort.postMessage(t)
