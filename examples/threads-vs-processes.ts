/**
 * Threads or processes? The same two batches, 8 tasks that wait and 8 tasks that compute, on a pool of
 * worker threads, a pool of child processes, and (for the CPU batch) the in-process baseline.
 *
 *   node examples/threads-vs-processes.ts           # 8 x 200 ms sleeps, 8 x ~200 ms of CPU
 *   node examples/threads-vs-processes.ts --small   # 8 x 50 ms, 8 x ~20 ms (CI); or SMALL=1
 *
 * When to use which:
 *
 * - Waiting (HTTP calls, database queries, files, timers): no pool at all. The main thread's event loop
 *   overlaps waits for free; `Parallel.forEach(items, f, { concurrency: 50 })` bounds them. A task that
 *   waits holds its worker the whole time, so on a pool such a batch is limited by the pool's size.
 * - CPU work: `WorkerPool.layer` (worker threads). Threads start faster than processes (both spend ~0.1–0.2 s loading effect), live in one
 *   process (one memory budget, one `ps` line), and can move typed arrays without copying them.
 * - `WorkerPool.layerProcesses` when a worker needs isolation: its own heap (more memory in total, and an
 *   out-of-memory kills one worker, not the program); native add-ons that may crash or cannot load in a
 *   worker thread; per-worker `execArgv` / `env`; code that touches process-wide state (`process.chdir`,
 *   signal handlers) or is not thread-safe. The price: each worker is a new Node process, slower to start
 *   and tens of megabytes larger, and every value is copied over IPC.
 * - `WorkerPool.layerInProcess`: tests, and the serial baseline of a speedup (same protocol, no workers).
 */
import { NodeRuntime } from "@effect/platform-node"
import { Duration, Effect } from "effect"
import { Parallel, WorkerPool } from "../src/index.ts"
import { Crunch, Nap } from "./threads-vs-processes.tasks.ts"

const small = process.argv.includes("--small") || process.env.SMALL === "1"
const TASKS = 8
const NAP_MS = small ? 50 : 200
const ROUNDS = small ? 6_000_000 : 60_000_000 // about 20 ms / 200 ms of CPU per task here

const millis = (d: Duration.Duration): string => `${Duration.toMillis(d).toFixed(0)} ms`

const naps = Array.from({ length: TASKS }, () => NAP_MS)
const crunches = Array.from({ length: TASKS }, (_, seed) => ({ seed, rounds: ROUNDS }))

/**
 * Builds a pool with `make` (the constructor behind a layer, so that start-up can be timed), waits until
 * every worker is ready, then times the two batches on it.
 */
const measure = (
  label: string,
  size: number,
  make: typeof WorkerPool.makeThreads,
  batches: { readonly naps: boolean }
) =>
  Effect.scoped(Effect.gen(function*() {
    const [startup, pool] = yield* Effect.timed(
      Effect.tap(make({ size, preload: [Crunch.module, Nap.module] }), (pool) => pool.awaitReady)
    )
    return yield* Effect.gen(function*() {
      const [napTime] = batches.naps ? yield* Effect.timed(WorkerPool.map(Nap, naps, { chunkSize: 1 })) : [undefined]
      const [cpuTime, results] = yield* Effect.timed(WorkerPool.map(Crunch, crunches, { chunkSize: 1 }))
      return { label: `${label} (${size})`, startup, napTime, cpuTime, results }
    }).pipe(Effect.provideService(WorkerPool.WorkerPool, pool))
  }))

const program = Effect.gen(function*() {
  const cores = yield* Parallel.cores
  console.log(
    `${TASKS} tasks that sleep ${NAP_MS} ms, ` +
      `${TASKS} tasks of CPU work (${ROUNDS.toLocaleString("en-US")} hash rounds each); ${cores} usable core(s)\n`
  )

  const rows = [
    yield* measure("in-process", 1, WorkerPool.makeInProcess, { naps: false }),
    yield* measure("threads", cores, WorkerPool.makeThreads, { naps: true }),
    yield* measure("processes", cores, WorkerPool.makeProcesses, { naps: true })
  ]
  const expected = rows[0]!.results
  for (const r of rows) {
    if (r.results.some((x, i) => x !== expected[i])) return yield* Effect.die(new Error(`${r.label} computed other results`))
  }

  // The waiting batch without any pool: plain effects, overlapped by the main thread's event loop.
  const [noPool] = yield* Effect.timed(Parallel.forEach(naps, (ms) => Effect.sleep(ms), { concurrency: "unbounded" }))

  const line = (cells: ReadonlyArray<string>) =>
    console.log(`  ${cells[0]!.padEnd(16)}${cells.slice(1).map((c) => c.padStart(14)).join("")}`)
  line(["pool (workers)", "start-up", `${TASKS} sleeps`, `${TASKS} CPU tasks`])
  for (const r of rows) {
    line([r.label, millis(r.startup), r.napTime === undefined ? "-" : millis(r.napTime), millis(r.cpuTime)])
  }
  line(["no pool", "-", millis(noPool), "-"])
  const [threads, processes] = [Duration.toMillis(rows[1]!.startup), Duration.toMillis(rows[2]!.startup)]
  console.log(
    `\nSame CPU results on every backend. Sleeps need no workers; CPU work needs one per core. ` +
      (processes > threads * 1.2
        ? `Threads started ${(processes / threads).toFixed(1)}x as fast as processes.`
        : `Start-up was about even: loading the code in each worker costs more than creating it.`)
  )
})

NodeRuntime.runMain(program)
