/**
 * What deadlock detection (issue 16) costs, where it could cost something:
 *
 * 1. The task path, with detection on (`deadlockTimeout` 10 s: a watch samples the pool's waits every
 *    second) and off (`false`: no watch): 5,000 sequential round trips of a tiny task, and `map` over 200,000
 *    tiny items, on a pool of 2 worker threads. Nothing is added per task, so the two should not differ
 *    beyond noise. The two pools live side by side and are measured alternately.
 * 2. The waiting path: a worker thread publishes each wait on shared memory (two `Atomics` updates when a
 *    wait starts, two when it ends; an uncontended acquire publishes nothing). Measured in one isolate with
 *    the publication cells installed and not, alternately: 2,000 fibers taking a `SharedLock` in turn (every
 *    acquire but the first waits), and 200,000 uncontended acquire / release pairs.
 * 3. Publishing one wait alone (start and end), to set against what a contended hand-off costs anyway.
 *
 *   node_modules/.bin/node bench/deadlock-cost.ts           # median of 5 runs per cell
 *   node_modules/.bin/node bench/deadlock-cost.ts --quick   # 3 runs
 *
 * Prints a Markdown table; docs/performance-notes.md keeps a copy. The task lives in this file: workers
 * import it, so the program is behind the `import.meta.main` guard.
 */
import { Effect, Schema } from "effect"
import * as os from "node:os"
import { PROBE_CELLS, registry, waitEnded, waitStarted } from "../src/internal/shared/registry.ts"
import { SharedLock, Task, WorkerPool } from "../src/index.ts"

export const Tiny = Task.make("Tiny", {
  module: import.meta.url,
  payload: Schema.Number,
  success: Schema.Number,
  run: (n) => Effect.succeed(n + 1)
})

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.andThen(Effect.sync(() => performance.now()), (t0) => Effect.map(effect, () => t0)), (t0) => performance.now() - t0)

const runs = process.argv.includes("--quick") ? 3 : 5

/**
 * Part 1: two pools alive at once, detection on and off, measured alternately (on, off, on, off …) so that
 * warm-up and the machine's other load fall on both alike: sequential round trips (µs each) and a map of
 * tiny items (ms).
 */
const taskPath = Effect.scoped(Effect.gen(function*() {
  const on = yield* WorkerPool.makeThreads({ size: 2, deadlockTimeout: "10 seconds", preload: [Tiny.module] })
  const off = yield* WorkerPool.makeThreads({ size: 2, deadlockTimeout: false, preload: [Tiny.module] })
  const items = Array.from({ length: 200_000 }, (_, i) => i)
  const sequential = Effect.gen(function*() {
    for (let i = 0; i < 5000; i++) yield* Tiny(i)
  })
  const measure = (pool: typeof on) =>
    Effect.gen(function*() {
      const us = (yield* timed(sequential)) * 1000 / 5000
      const ms = yield* timed(WorkerPool.map(Tiny, items))
      return { us, ms }
    }).pipe(Effect.provideService(WorkerPool.WorkerPool, pool))
  for (const pool of [on, off]) {
    yield* WorkerPool.awaitReady.pipe(Effect.provideService(WorkerPool.WorkerPool, pool))
    yield* measure(pool) // warm-up
  }
  const results = { on: [] as Array<{ us: number; ms: number }>, off: [] as Array<{ us: number; ms: number }> }
  for (let r = 0; r < runs; r++) {
    results.on.push(yield* measure(on))
    results.off.push(yield* measure(off))
  }
  const summary = (xs: ReadonlyArray<{ us: number; ms: number }>) => ({ sequential: median(xs.map((x) => x.us)), batch: median(xs.map((x) => x.ms)) })
  return { on: summary(results.on), off: summary(results.off) }
}))

/** Part 2 in this isolate, waits published and not, alternately: contended waits (ms for 2,000), uncontended pairs (ns each). */
const waitPath = Effect.scoped(Effect.gen(function*() {
  const cells = new Int32Array(new SharedArrayBuffer(PROBE_CELLS * 4))
  const lock = yield* SharedLock.make
  const contended = Effect.forEach(Array.from({ length: 2000 }), () => SharedLock.withLock(lock)(Effect.yieldNow), {
    concurrency: "unbounded",
    discard: true
  })
  const uncontended = Effect.gen(function*() {
    for (let i = 0; i < 200_000; i++) {
      yield* SharedLock.acquire(lock)
      yield* SharedLock.release(lock)
    }
  })
  const measure = (publish: boolean) =>
    Effect.gen(function*() {
      registry.waits = publish ? cells : undefined
      const waits = yield* timed(contended)
      const pairs = (yield* timed(uncontended)) * 1e6 / 200_000
      registry.waits = undefined
      return { waits, pairs }
    })
  yield* measure(true)
  yield* measure(false)
  const results = { on: [] as Array<{ waits: number; pairs: number }>, off: [] as Array<{ waits: number; pairs: number }> }
  for (let r = 0; r < runs; r++) {
    results.on.push(yield* measure(true))
    results.off.push(yield* measure(false))
  }
  const summary = (xs: ReadonlyArray<{ waits: number; pairs: number }>) => ({ waits: median(xs.map((x) => x.waits)), pairs: median(xs.map((x) => x.pairs)) })
  return { on: summary(results.on), off: summary(results.off), published: Atomics.load(cells, 4) }
}))

/** Part 3: publishing one wait alone (its start and its end), ns each. */
const publishOne = (): number => {
  registry.waits = new Int32Array(new SharedArrayBuffer(PROBE_CELLS * 4))
  const n = 2_000_000
  const out: Array<number> = []
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now()
    for (let i = 0; i < n; i++) {
      waitStarted(7)
      waitEnded()
    }
    out.push((performance.now() - t0) * 1e6 / n)
  }
  registry.waits = undefined
  return median(out)
}

const program = Effect.gen(function*() {
  console.error(`deadlock detection costs, ${runs} runs per cell (${os.cpus()[0]?.model ?? "cpu"}, node ${process.version})`)
  const { off, on } = yield* taskPath
  const waits = yield* waitPath
  const published = waits.on
  const silent = waits.off
  if (waits.published === 0) return yield* Effect.die(new Error("the contended waits published nothing: the bench measures nothing"))
  const f = (x: number, d = 1) => x.toFixed(d)
  console.log([
    `Median of ${runs} runs; 2 worker threads for the task path, the parent isolate for the waiting path.`,
    "",
    "| measure | detection on / waits published | off / not published | ratio |",
    "| --- | ---: | ---: | ---: |",
    `| sequential round trip of a tiny task (µs) | ${f(on.sequential)} | ${f(off.sequential)} | ${f(on.sequential / off.sequential, 2)} |`,
    `| \`map\` of 200,000 tiny items (ms) | ${f(on.batch, 0)} | ${f(off.batch, 0)} | ${f(on.batch / off.batch, 2)} |`,
    `| 2,000 fibers taking a \`SharedLock\` in turn (ms) | ${f(published.waits)} | ${f(silent.waits)} | ${f(published.waits / silent.waits, 2)} |`,
    `| uncontended \`SharedLock\` acquire + release (ns) | ${f(published.pairs, 0)} | ${f(silent.pairs, 0)} | ${f(published.pairs / silent.pairs, 2)} |`,
    `| publishing one wait (its start and end) alone (ns) | ${f(publishOne())} | | |`
  ].join("\n"))
})

if (import.meta.main) {
  Effect.runPromise(program).catch((e) => {
    console.error(e)
    process.exitCode = 1
  })
}
