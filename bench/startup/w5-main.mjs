// A whole W5 program on effect-parallel (the built package, as users install it): import it, make a pool
// of two workers (threads, or processes with the argument "processes"), run one task, close, exit. Prints
// one JSON line of timings (ms since the process started).
import * as Effect from "effect/Effect"
import { WorkerPool } from "effect-parallel"
import { Double } from "./tasks.mjs"

const imported = performance.now()
const marks = {}
await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
  const pool = yield* (process.argv[2] === "processes" ? WorkerPool.makeProcesses : WorkerPool.makeThreads)({ size: 2 })
  const result = yield* Effect.provideService(Double(21), WorkerPool.WorkerPool, pool)
  if (result !== 42) throw new Error(`got ${result}`)
  marks.first = performance.now()
  yield* Effect.provideService(WorkerPool.awaitReady, WorkerPool.WorkerPool, pool)
  marks.ready = performance.now()
})))
console.log(JSON.stringify({ imported, ...marks, closed: performance.now() }))
