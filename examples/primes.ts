/**
 * Make any function parallel: count the primes below N with a plain `isPrime`, first in a serial loop,
 * then on a pool of 1 worker and on a pool of one worker per usable core, and compare.
 *
 *   node examples/primes.ts            # primes below 10,000,000
 *   node examples/primes.ts --small    # primes below 200,000 (CI); or SMALL=1
 *   node examples/primes.ts --n=3e6    # any bound; or PRIMES_N=3000000
 *
 * The tasks live in this file, so the program is guarded by `if (import.meta.main)`: each worker imports
 * this module to find `CountPrimes`, and must not run the program again (Python's `__main__` guard).
 *
 * One task per *range*, not per number: a task costs a few microseconds of messaging and schema work,
 * while `isPrime` of a small number takes a few dozen nanoseconds. Mapping `IsPrime` over three million
 * numbers works (`WorkerPool.map` chunks them), but is overhead-bound; a few dozen ranges are not.
 */
// Workers import this module to find CountPrimes, with all it imports: Effect's modules one by one and
// runMain from @effect/platform-node/NodeRuntime keep that light (their barrels cost ~0.1 s and ~0.3 s per
// worker before its first task).
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { Parallel, Task, WorkerPool } from "../src/index.ts"

/** The function we want to run in parallel: ordinary, synchronous, written without any thought of workers. */
export const isPrime = (n: number): boolean => {
  if (n < 2) return false
  if (n % 2 === 0) return n === 2
  if (n % 3 === 0) return n === 3
  for (let d = 5; d * d <= n; d += 6) {
    if (n % d === 0 || n % (d + 2) === 0) return false
  }
  return true
}

/** Counts the primes in [from, to): the serial loop and the task share this code. */
export const countPrimes = (from: number, to: number): number => {
  let count = 0
  for (let n = from; n < to; n++) if (isPrime(n)) count++
  return count
}

/** The same function as a task: exported, at the top level, with schemas for what crosses the boundary. */
export const CountPrimes = Task.make("CountPrimes", {
  module: import.meta.url,
  payload: Schema.Struct({ from: Schema.Number, to: Schema.Number }),
  success: Schema.Number,
  run: ({ from, to }) => Effect.sync(() => countPrimes(from, to))
})

/** Splits [from, to) into `parts` ranges of (nearly) equal length. */
const ranges = (from: number, to: number, parts: number): Array<{ from: number; to: number }> =>
  Array.from({ length: parts }, (_, i) => ({
    from: from + Math.floor(((to - from) * i) / parts),
    to: from + Math.floor(((to - from) * (i + 1)) / parts)
  }))

const sum = (xs: ReadonlyArray<number>): number => xs.reduce((a, b) => a + b, 0)

/** Times `map` on a fresh pool of `size` workers, started and warmed up before the clock runs. */
const onPool = (size: number, limit: number) =>
  Effect.gen(function*() {
    yield* WorkerPool.awaitReady // every worker started, task module preloaded: the clock measures the work only
    const [elapsed, counts] = yield* Effect.timed(WorkerPool.map(CountPrimes, ranges(2, limit, 64)))
    return { workers: size, millis: Duration.toMillis(elapsed), primes: sum(counts) }
  }).pipe(Effect.provide(WorkerPool.layer({ size, preload: [import.meta.url] })))

const parseLimit = (): number => {
  const arg = process.argv.find((a) => a.startsWith("--n="))?.slice(4) ?? process.env.PRIMES_N
  if (arg !== undefined) {
    const n = Number(arg)
    if (!Number.isInteger(n) || n < 3) throw new Error(`--n must be an integer >= 3, got ${arg}`)
    return n
  }
  return process.argv.includes("--small") || process.env.SMALL === "1" ? 200_000 : 10_000_000
}

const program = Effect.gen(function*() {
  const limit = parseLimit()
  const cores = yield* Parallel.cores
  console.log(`Counting primes below ${limit.toLocaleString("en-US")} on ${cores} usable core(s)\n`)

  // T1: the plain loop in the main thread, no pool at all.
  const [serialElapsed, expected] = yield* Effect.timed(Effect.sync(() => countPrimes(2, limit)))
  const rows = [{ label: "serial loop (main thread)", workers: 1, millis: Duration.toMillis(serialElapsed) }]

  for (const size of cores > 1 ? [1, cores] : [1]) {
    const r = yield* onPool(size, limit)
    if (r.primes !== expected) {
      return yield* Effect.die(new Error(`${size} worker(s) counted ${r.primes} primes, the serial loop ${expected}`))
    }
    rows.push({ label: "WorkerPool.map, 64 ranges", ...r })
  }

  const t1 = rows[0]!.millis
  const line = (cells: ReadonlyArray<string>) =>
    console.log(`  ${cells[0]!.padEnd(27)}${cells.slice(1).map((c) => c.padStart(10)).join("")}`)
  line(["run", "workers", "time", "Sp=T1/Tp", "Ep=Sp/p"])
  for (const r of rows) {
    const sp = t1 / r.millis
    line([r.label, String(r.workers), `${r.millis.toFixed(0)} ms`, sp.toFixed(2), `${((sp / r.workers) * 100).toFixed(0)}%`])
  }
  const best = rows[rows.length - 1]!
  const speedup = t1 / best.millis
  console.log(
    `\n${expected.toLocaleString("en-US")} primes every way. ` + (speedup >= 1
      ? `${best.workers} worker${best.workers > 1 ? "s" : ""} ran ${speedup.toFixed(2)}x as fast as the serial loop.`
      : `At this size the work is too small to pay for the workers (or the machine is busy); try a larger --n.`)
  )
})

if (import.meta.main) {
  NodeRuntime.runMain(program)
}
