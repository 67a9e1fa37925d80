// effect-parallel (this repository): threads and processes, each through the per-task API
// (`Effect.forEach(items, (x) => Task(x), { concurrency: "unbounded" })`) and through `WorkerPool.map`
// with adaptive chunking. A pool is one layer held by a ManagedRuntime; each workload step is one Effect.
import { Effect, ManagedRuntime } from "effect"
import { WorkerPool } from "../../src/index.ts"
import { Double, MandelbrotRow, SumArray } from "../tasks.ts"
import type { OpenPool, PoolAdapter, SumMode } from "./types.ts"

type Backend = "threads" | "processes"
type Style = "per-task" | "map"

const open = (backend: Backend, style: Style) => async (workers: number): Promise<OpenPool> => {
  const layer = backend === "threads"
    ? WorkerPool.layerThreads({ size: workers })
    : WorkerPool.layerProcesses({ size: workers })
  const runtime = ManagedRuntime.make(layer)
  // build the layer now (starts the workers), as the other pools do in their constructors
  await runtime.runPromise(Effect.void)
  const run = runtime.runPromise
  const close = () => runtime.dispose()
  if (style === "map") {
    return {
      doubleAll: (xs) => run(WorkerPool.map(Double, xs)),
      mandelbrotRows: (rows) => run(WorkerPool.map(MandelbrotRow, rows)),
      close
    }
  }
  return {
    doubleAll: (xs) => run(Effect.forEach(xs, (x) => Double(x), { concurrency: "unbounded" })),
    doubleSequential: (xs) => run(Effect.forEach(xs, (x) => Double(x))),
    mandelbrotRows: (rows) => run(Effect.forEach(rows, (r) => MandelbrotRow(r), { concurrency: "unbounded" })),
    // Schema.instanceOf(Float64Array) types its value as Float64Array<ArrayBuffer>; a view over a
    // SharedArrayBuffer is a Float64Array too (the instanceof check passes), hence the cast
    sum: (data, mode) =>
      run(SumArray(data as Float64Array<ArrayBuffer>, mode === "transfer" ? { transfer: [data.buffer as ArrayBuffer] } : undefined)),
    close
  }
}

const make = (backend: Backend, style: Style, sumModes: ReadonlyArray<SumMode>): PoolAdapter => ({
  id: `ep-${backend}${style === "map" ? "-map" : ""}`,
  label: `effect-parallel ${backend}${style === "map" ? ", map" : ""}`,
  kind: "ours",
  workloads: style === "map" ? ["W1", "W3"] : ["W1", "W2", "W3", "W4", "W5"],
  sumModes: style === "map" ? [] : sumModes,
  open: open(backend, style)
})

export const adapters: ReadonlyArray<PoolAdapter> = [
  make("threads", "per-task", ["copy", "transfer", "shared"]),
  make("threads", "map", []),
  // processes: values are copied over IPC; there is neither transfer nor shared memory between processes
  make("processes", "per-task", ["copy"]),
  make("processes", "map", [])
]
