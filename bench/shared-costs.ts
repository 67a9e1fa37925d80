/**
 * What shared objects cost, per operation, inside a worker: on worker threads and on child processes.
 *
 *   node_modules/.bin/node bench/shared-costs.ts          # median of 5 runs per cell
 *   node_modules/.bin/node bench/shared-costs.ts --quick  # fewer operations, 3 runs
 *
 * Each cell is one task that runs the operation n times in a loop (after a warm-up of n/10) and reports
 * the time per operation measured in the worker; the cell is the median of the runs. One worker, so
 * nothing is contended: this is the price of the mechanism (shared memory and `Atomics` on threads,
 * a message to the parent and its reply for parent-hosted objects and for everything on processes).
 * Prints a Markdown table next to Python's numbers from PRIOR-ART (a `multiprocessing` locked increment
 * ~1.1 µs, a `Manager` dict operation ~48 µs); docs/shared.md keeps a copy.
 *
 * The tasks live in this file: workers import it, so the program is behind the `import.meta.main` guard.
 */
import { Effect, Schema } from "effect"
import * as os from "node:os"
import { Manager, SharedArray, SharedError, SharedLock, SharedQueue, Task, WorkerPool } from "../src/index.ts"

const Op = Schema.Literals(["lock", "lockedIncrement", "atomicAdd", "queueOfferTake", "mapSet", "mapGet"])
type Op = typeof Op.Type

/** Runs `op` n times after a warm-up; returns µs per operation, timed in the worker. */
export const SharedCost = Task.make("SharedCost", {
  module: import.meta.url,
  payload: Schema.Struct({
    op: Op,
    n: Schema.Int,
    lock: SharedLock.schema,
    counter: SharedArray.schema,
    queue: SharedQueue.schema(Schema.Number),
    map: Manager.mapSchema(Schema.String, Schema.Number)
  }),
  success: Schema.Number,
  error: SharedError.SharedError,
  run: ({ counter, lock, map, n, op, queue }) => {
    const once: Effect.Effect<unknown, SharedError.SharedError> = {
      lock: Effect.andThen(SharedLock.acquire(lock), SharedLock.release(lock)),
      lockedIncrement: SharedLock.withLock(lock)(Effect.flatMap(SharedArray.get(counter, 0), (x) => SharedArray.set(counter, 0, x + 1))),
      atomicAdd: SharedArray.add(counter, 0, 1),
      queueOfferTake: Effect.andThen(SharedQueue.offer(queue, 1), SharedQueue.take(queue)),
      mapSet: map.set("key", 1),
      mapGet: map.get("key")
    }[op]
    const loop = (times: number) =>
      Effect.gen(function*() {
        for (let i = 0; i < times; i++) yield* once
      })
    return Effect.gen(function*() {
      yield* loop(Math.max(1, Math.floor(n / 10)))
      const start = performance.now()
      yield* loop(n)
      return ((performance.now() - start) * 1000) / n
    })
  }
})

const rows: ReadonlyArray<{ readonly op: Op; readonly label: string; readonly python: string }> = [
  { op: "lock", label: "lock acquire + release (`SharedLock`)", python: "—" },
  { op: "lockedIncrement", label: "locked increment (`get` + `set` under `withLock`)", python: "~1.1 µs" },
  { op: "atomicAdd", label: "atomic add (`SharedArray.add`)", python: "— (no atomic add: `+= 1` under a lock)" },
  { op: "queueOfferTake", label: "queue offer + take (`SharedQueue`)", python: "—" },
  { op: "mapSet", label: "manager map set (`Manager.map`)", python: "~48 µs (dict set)" },
  { op: "mapGet", label: "manager map get (`Manager.map`)", python: "~48 µs (dict op)" }
]

/** Operations per run: shared memory is fast and gets many; a message per operation gets fewer. */
const countFor = (backend: "threads" | "processes", op: Op, quick: boolean): number => {
  const inMemory = backend === "threads" && (op === "lock" || op === "lockedIncrement" || op === "atomicAdd")
  return (inMemory ? 200_000 : 4_000) / (quick ? 10 : 1)
}

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

const format = (us: number): string => (us < 10 ? us.toFixed(2) : us.toFixed(1))

const measure = (backend: "threads" | "processes", runs: number, quick: boolean) =>
  Effect.scoped(Effect.gen(function*() {
    yield* WorkerPool.awaitReady
    const lock = yield* SharedLock.make
    const counter = yield* SharedArray.make("Int32", 1)
    const queue = yield* SharedQueue.make(Schema.Number)
    const map = yield* Manager.map(Schema.String, Schema.Number)
    const result = new Map<Op, number>()
    for (const { op } of rows) {
      const samples: Array<number> = []
      for (let r = 0; r < runs; r++) {
        samples.push(yield* SharedCost({ op, n: countFor(backend, op, quick), lock, counter, queue, map }))
      }
      result.set(op, median(samples))
      console.error(`  ${backend} ${op}: ${samples.map(format).join(" ")} µs -> median ${format(median(samples))}`)
    }
    return result
  })).pipe(Effect.provide(
    (backend === "threads" ? WorkerPool.layerThreads : WorkerPool.layerProcesses)({ size: 1, preload: [SharedCost.module] })
  ))

const program = Effect.gen(function*() {
  const quick = process.argv.includes("--quick")
  const runs = quick ? 3 : 5
  console.error(`shared-object costs, ${runs} runs per cell, one worker (${os.cpus()[0]?.model ?? "cpu"}, node ${process.version})`)
  const threads = yield* measure("threads", runs, quick)
  const processes = yield* measure("processes", runs, quick)
  const lines = [
    `| operation, inside a worker | threads (µs/op) | processes (µs/op) | Python \`multiprocessing\` |`,
    "| --- | ---: | ---: | --- |",
    ...rows.map((r) => `| ${r.label} | ${format(threads.get(r.op)!)} | ${format(processes.get(r.op)!)} | ${r.python} |`)
  ]
  console.log(lines.join("\n"))
})

if (import.meta.main) {
  Effect.runPromise(program).catch((e) => {
    console.error(e)
    process.exitCode = 1
  })
}
