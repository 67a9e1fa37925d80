/**
 * Sixteen tasks that sleep, on sixteen worker threads: their sleeps add up to 10 seconds, and the batch
 * takes about as long as the longest one. Python's
 *
 *     with ThreadPoolExecutor(max_workers=16) as ex:
 *         futures = [ex.submit(sleepy, s) for s in sleeps]
 *         for f in as_completed(futures):
 *             print(f.result())
 *
 * three ways: `WorkerPool.map` (results in input order, all at the end), `WorkerPool.submit` +
 * `AsyncResult.get` (a handle per task, read one by one), and `WorkerPool.imapUnordered` (a stream of
 * results in completion order, `as_completed`).
 *
 *   node examples/sleepy-threads.ts           # sleeps of 250..1000 ms, 10 s in all
 *   node examples/sleepy-threads.ts --small   # sleeps of 25..100 ms, 1 s in all (CI); or SMALL=1
 *
 * A sleeping task holds its worker without using the CPU, so sixteen of them overlap even on two cores.
 * Real code that only waits (HTTP, databases) needs no workers at all: see `io-extractions.ts`. The task
 * is in this file, so the program is behind the `import.meta.main` guard.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Duration, Effect, Schema, Stream } from "effect"
import { threadId } from "node:worker_threads"
import { AsyncResult, Task, WorkerPool } from "../src/index.ts"

/** Sleeps `ms` milliseconds in a worker and says which thread it ran on. */
export const Sleepy = Task.make("Sleepy", {
  module: import.meta.url,
  payload: Schema.Number,
  success: Schema.Struct({ ms: Schema.Number, thread: Schema.Number }),
  run: (ms) => Effect.sleep(Duration.millis(ms)).pipe(Effect.as({ ms, thread: threadId }))
})

const small = process.argv.includes("--small") || process.env.SMALL === "1"
const unit = small ? 5 : 50
/** 16 sleeps of 5..20 units in a scrambled order (k ↦ 7k mod 16 is a permutation): 160 units in all. */
const sleeps = Array.from({ length: 16 }, (_, k) => (5 + ((7 * k) % 16)) * unit)
const total = sleeps.reduce((a, b) => a + b, 0)
const longest = Math.max(...sleeps)

const program = Effect.gen(function*() {
  yield* WorkerPool.awaitReady // 16 threads started: the clocks below measure the sleeps, not start-up
  console.log(`16 tasks sleeping ${sleeps.join(", ")} ms: ${total} ms in all, the longest ${longest} ms\n`)
  const ms = (d: Duration.Duration) => `${Duration.toMillis(d).toFixed(0)} ms`

  // 1. map: one call, results in input order when all are done.
  const [mapTime, results] = yield* Effect.timed(WorkerPool.map(Sleepy, sleeps, { chunkSize: 1 }))
  const threads = new Set(results.map((r) => r.thread)).size
  console.log(`map:            ${ms(mapTime)} on ${threads} threads (sequentially it would take ${total} ms)`)

  // 2. submit + get: a handle per task, at once; each get waits for its own result (in submission order).
  const [submitTime] = yield* Effect.timed(Effect.scoped(Effect.gen(function*() {
    const handles = yield* Effect.forEach(sleeps, (s) => WorkerPool.submit(Sleepy, s))
    for (const [k, h] of handles.entries()) {
      const r = yield* AsyncResult.get(h, { timeout: "30 seconds" })
      if (r.ms !== sleeps[k]) return yield* Effect.die(new Error(`handle ${k} returned ${r.ms}, expected ${sleeps[k]}`))
    }
  })))
  console.log(`submit + get:   ${ms(submitTime)}`)

  // 3. imapUnordered: results as they complete (as_completed): the shortest sleeps come first.
  console.log(`imapUnordered:  in completion order`)
  const start = Date.now()
  const order: Array<number> = []
  yield* WorkerPool.imapUnordered(Sleepy, sleeps, { chunkSize: 1 }).pipe(
    Stream.runForEach((r) => {
      order.push(r.ms)
      const at = String(Date.now() - start).padStart(5)
      return Console.log(`  +${at} ms  slept ${String(r.ms).padStart(4)} ms on thread ${r.thread}`)
    })
  )
  console.log(`imapUnordered:  ${Date.now() - start} ms`)

  if ([...order].sort((a, b) => a - b).join() !== [...sleeps].sort((a, b) => a - b).join()) {
    return yield* Effect.die(new Error(`imapUnordered returned ${order.join(", ")}`))
  }
  console.log(`\nEach batch took about the longest sleep (${longest} ms), not their sum (${total} ms).`)
})

if (import.meta.main) {
  program.pipe(Effect.provide(WorkerPool.layer({ size: 16, preload: [import.meta.url] })), NodeRuntime.runMain)
}
