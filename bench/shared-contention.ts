/**
 * What waiting costs when many fibers contend for one shared object (issue 14: "no herds").
 *
 *   node_modules/.bin/node bench/shared-contention.ts          # median of 5 runs per cell
 *   node_modules/.bin/node bench/shared-contention.ts --quick  # 3 runs
 *
 * 1. 2,000 fibers share 10 permits, each holds one for 5 ms of sleep: a `SharedSemaphore` against Effect's
 *    own `Semaphore`, in one isolate (the parent), and inside one worker thread (the shared-memory path).
 *    The ideal is 2,000 × 5 ms / 10 = 1 s. Alongside, the longest event-loop gap seen meanwhile
 *    (`perf_hooks.monitorEventLoopDelay`, and a 10 ms timer's worst lateness as a cross-check): a herd
 *    freezes the loop, one-at-a-time hand-off does not.
 * 2. 1,000 fibers in one process worker wait on a `SharedSemaphore` of 1 against a `SharedLock` (each holds
 *    it for one `yieldNow`): every wait is a call to the parent, so a herd there is paid in messages.
 * 3. 4 worker threads × 500 fibers share 10 permits, 5 ms each, across isolates (ideal 1 s).
 *
 * Prints Markdown tables; docs/shared.md keeps a copy. The tasks live in this file: workers import it, so
 * the program is behind the `import.meta.main` guard.
 */
import { Effect, Schema, Semaphore } from "effect"
import * as os from "node:os"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { SharedError, SharedLock, SharedSemaphore, Task, WorkerPool } from "../src/index.ts"

const Kind = Schema.Literals(["shared", "effect"])

/** `fibers` fibers, each holding one of the permits for `holdMillis` of sleep; ms and the longest loop gap. */
const contend = (kind: "shared" | "effect", permits: SharedSemaphore.SharedSemaphore, fibers: number, holdMillis: number) =>
  Effect.gen(function*() {
    const withPermit = kind === "shared"
      ? SharedSemaphore.withPermits(permits, 1)
      : Semaphore.makeUnsafe(10).withPermits(1)
    const histogram = monitorEventLoopDelay({ resolution: 1 })
    let worstLate = 0
    let last = performance.now()
    const probe = setInterval(() => {
      const now = performance.now()
      worstLate = Math.max(worstLate, now - last - 10)
      last = now
    }, 10)
    histogram.enable()
    const t0 = performance.now()
    yield* Effect.forEach(
      Array.from({ length: fibers }),
      () => withPermit(Effect.sleep(holdMillis)),
      { concurrency: "unbounded", discard: true }
    )
    const ms = performance.now() - t0
    histogram.disable()
    clearInterval(probe)
    return { ms, gapMs: Math.max(histogram.max / 1e6, worstLate) }
  })

const Result = Schema.Struct({ ms: Schema.Number, gapMs: Schema.Number })

/** Part 1 inside a worker thread. */
export const Contend = Task.make("Contend", {
  module: import.meta.url,
  payload: Schema.Struct({ kind: Kind, permits: SharedSemaphore.schema, fibers: Schema.Number, holdMillis: Schema.Number }),
  success: Result,
  error: SharedError.SharedError,
  run: ({ fibers, holdMillis, kind, permits }) => contend(kind, permits, fibers, holdMillis)
})

/** Part 2: `fibers` fibers of one worker each take the semaphore (or the lock) for one yield. */
export const Waiters = Task.make("Waiters", {
  module: import.meta.url,
  payload: Schema.Struct({ permits: SharedSemaphore.schema, lock: SharedLock.schema, useLock: Schema.Boolean, fibers: Schema.Number }),
  success: Schema.Number,
  error: SharedError.SharedError,
  run: ({ fibers, lock, permits, useLock }) =>
    Effect.gen(function*() {
      const hold = useLock ? SharedLock.withLock(lock) : SharedSemaphore.withPermits(permits, 1)
      const t0 = performance.now()
      yield* Effect.forEach(Array.from({ length: fibers }), () => hold(Effect.yieldNow), { concurrency: "unbounded", discard: true })
      return performance.now() - t0
    })
})

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

const f0 = (x: number) => x.toFixed(0)
const f2 = (x: number) => x.toFixed(2)

const repeat = <A, E, R>(runs: number, label: string, effect: Effect.Effect<A, E, R>, show: (a: A) => string) =>
  Effect.gen(function*() {
    const out: Array<A> = []
    for (let r = 0; r < runs; r++) out.push(yield* effect)
    console.error(`  ${label}: ${out.map(show).join(" | ")}`)
    return out
  })

const program = Effect.gen(function*() {
  const quick = process.argv.includes("--quick")
  const runs = quick ? 3 : 5
  console.error(`shared-object contention, ${runs} runs per cell (${os.cpus()[0]?.model ?? "cpu"}, node ${process.version})`)
  const show = (r: { readonly ms: number; readonly gapMs: number }) => `${f0(r.ms)} ms, gap ${f0(r.gapMs)} ms`

  // 1. one isolate: the parent, then one worker thread
  const rows1: Array<string> = []
  const cell = (label: string, shared: ReadonlyArray<{ ms: number; gapMs: number }>, effect: ReadonlyArray<{ ms: number; gapMs: number }>) => {
    const s = median(shared.map((r) => r.ms))
    const e = median(effect.map((r) => r.ms))
    rows1.push(
      `| ${label} | ${f0(s)} | ${f0(e)} | ${f2(s / e)} | ${f0(Math.max(...shared.map((r) => r.gapMs)))} | ${f0(Math.max(...effect.map((r) => r.gapMs)))} |`
    )
  }
  const inParent = yield* Effect.scoped(Effect.gen(function*() {
    const permits = yield* SharedSemaphore.make(10)
    yield* contend("shared", permits, 200, 1) // warm-up
    yield* contend("effect", permits, 200, 1)
    const shared = yield* repeat(runs, "parent SharedSemaphore", contend("shared", permits, 2000, 5), show)
    const effect = yield* repeat(runs, "parent Effect Semaphore", contend("effect", permits, 2000, 5), show)
    return { shared, effect }
  }))
  cell("the parent", inParent.shared, inParent.effect)

  const inThread = yield* Effect.scoped(Effect.gen(function*() {
    yield* WorkerPool.awaitReady
    const permits = yield* SharedSemaphore.make(10)
    yield* Contend({ kind: "shared", permits, fibers: 200, holdMillis: 1 })
    yield* Contend({ kind: "effect", permits, fibers: 200, holdMillis: 1 })
    const shared = yield* repeat(runs, "thread SharedSemaphore", Contend({ kind: "shared", permits, fibers: 2000, holdMillis: 5 }), show)
    const effect = yield* repeat(runs, "thread Effect Semaphore", Contend({ kind: "effect", permits, fibers: 2000, holdMillis: 5 }), show)
    return { shared, effect }
  })).pipe(Effect.provide(WorkerPool.layerThreads({ size: 1, preload: [Contend.module] })))
  cell("a worker thread", inThread.shared, inThread.effect)

  // 2. 1,000 waiters in a process worker
  const inProcess = yield* Effect.scoped(Effect.gen(function*() {
    yield* WorkerPool.awaitReady
    const permits = yield* SharedSemaphore.make(1)
    const lock = yield* SharedLock.make
    yield* Waiters({ permits, lock, useLock: true, fibers: 100 })
    yield* Waiters({ permits, lock, useLock: false, fibers: 100 })
    const sem = yield* repeat(runs, "process SharedSemaphore(1)", Waiters({ permits, lock, useLock: false, fibers: 1000 }), f0)
    const lk = yield* repeat(runs, "process SharedLock", Waiters({ permits, lock, useLock: true, fibers: 1000 }), f0)
    return { sem: median(sem), lock: median(lk) }
  })).pipe(Effect.provide(WorkerPool.layerProcesses({ size: 1, preload: [Waiters.module] })))

  // 3. across isolates: 4 threads x 500 fibers, 10 permits, 5 ms each
  const across = yield* Effect.scoped(Effect.gen(function*() {
    yield* WorkerPool.awaitReady
    const permits = yield* SharedSemaphore.make(10)
    const once = Effect.gen(function*() {
      const t0 = performance.now()
      const parts = yield* Effect.forEach(
        [1, 2, 3, 4],
        () => Contend({ kind: "shared", permits, fibers: 500, holdMillis: 5 }),
        { concurrency: "unbounded" }
      )
      return { ms: performance.now() - t0, gapMs: Math.max(...parts.map((p) => p.gapMs)) }
    })
    yield* once
    return yield* repeat(runs, "4 threads x 500 fibers", once, show)
  })).pipe(Effect.provide(WorkerPool.layerThreads({ size: 4, preload: [Contend.module] })))

  console.log([
    "2,000 fibers, 10 permits, each held for 5 ms (ideal: 1,000 ms); median ms and longest event-loop gap of " + runs + " runs",
    "",
    "| where | `SharedSemaphore` (ms) | Effect `Semaphore` (ms) | ratio | longest gap, shared (ms) | longest gap, Effect (ms) |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...rows1,
    "",
    "1,000 fibers in one process worker, each holding the object for one `yieldNow`; median ms",
    "",
    "| `SharedSemaphore` of 1 (ms) | `SharedLock` (ms) | ratio |",
    "| ---: | ---: | ---: |",
    `| ${f0(inProcess.sem)} | ${f0(inProcess.lock)} | ${f2(inProcess.sem / inProcess.lock)} |`,
    "",
    "4 worker threads x 500 fibers, 10 permits, 5 ms each (ideal: 1,000 ms)",
    "",
    "| median (ms) | longest gap in a worker (ms) |",
    "| ---: | ---: |",
    `| ${f0(median(across.map((r) => r.ms)))} | ${f0(Math.max(...across.map((r) => r.gapMs)))} |`
  ].join("\n"))
})

if (import.meta.main) {
  Effect.runPromise(program).catch((e) => {
    console.error(e)
    process.exitCode = 1
  })
}
