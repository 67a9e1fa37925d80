// What an effect-parallel worker loads, step by step, timed in a fresh isolate: the modules its entry
// imports (in the order it imports them), the task module, and the first task's codec. Started by
// bench/startup.ts with workerData = { dist, task }; posts one object of milliseconds.
//
// The built package is bundled (scripts/build.mjs): the worker runtime is the chunk `internal/chunks/worker.js`,
// whose exports are renamed; `codecOf` is found by its name in the export list of the chunk that has it
// (the first task's codec is timed only when a chunk exports it).
import { readdirSync, readFileSync } from "node:fs"
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
const chunks = new URL(`${workerData.dist}/internal/chunks/`)
const [file, alias] = readdirSync(chunks).flatMap((f) => {
  const m = f.endsWith(".js") ? /\bcodecOf as (\w+)\b/.exec(readFileSync(new URL(f, chunks), "utf8")) : null
  return m === null ? [] : [[f, m[1]]]
})[0] ?? []
// the bundler exports `codecOf` from a chunk only while another chunk imports it: without it, no codec row
if (file !== undefined) {
  const codecOf = (await import(new URL(file, chunks).href))[alias]
  await step("first task's codec", () => codecOf(mod.Double).encodeSuccess(42))
}
parentPort.postMessage(t)
