// The README's program, as a user writes it: tasks and program in one file, behind the main guard.
// Run by scripts/check-install.mjs in a fresh project where effect-parallel was installed from its tarball:
//   node primes.ts threads|processes
// NodeRuntime from its own subpath: @effect/platform-node's barrel also declares the cluster's HTTP runners,
// whose types need the DOM lib (Effect's RPC declarations use its `Transferable`), and this program is
// type-checked without it
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { Task, WorkerPool } from "effect-parallel"

const countPrimes = (from: number, to: number): number => {
  let n = 0
  for (let i = Math.max(from, 2); i < to; i++) {
    let prime = true
    for (let d = 2; d * d <= i && prime; d++) prime = i % d !== 0
    if (prime) n++
  }
  return n
}

export class BadRange extends Schema.TaggedError<BadRange>()("BadRange", { from: Schema.Number }) {}

export const CountPrimes = Task.make("CountPrimes", {
  module: import.meta.url,
  payload: Schema.Struct({ from: Schema.Number, to: Schema.Number }),
  success: Schema.Number,
  error: BadRange,
  run: ({ from, to }) => from < 0 ? Effect.fail(new BadRange({ from })) : Effect.sync(() => countPrimes(from, to))
})

const ranges = Array.from({ length: 8 }, (_, k) => ({ from: k * 1000, to: (k + 1) * 1000 }))

const program = Effect.gen(function*() {
  const one: number = yield* CountPrimes({ from: 0, to: 100 })
  const all: ReadonlyArray<number> = yield* WorkerPool.map(CountPrimes, ranges)
  const doubled = yield* CountPrimes({ from: 0, to: 10 }).pipe(Effect.map((n) => n * 2))
  const caught = yield* CountPrimes({ from: -1, to: 5 }).pipe(
    Effect.map(String),
    Effect.catchTag("BadRange", (e) => Effect.succeed(`BadRange from ${e.from}`))
  )
  console.log(JSON.stringify({ one, all, doubled, caught }))
})

if (import.meta.main) {
  const backend = process.argv[2]
  const layer = backend === "processes" ? WorkerPool.layerProcesses({ size: 2 }) : WorkerPool.layerThreads({ size: 2 })
  program.pipe(Effect.provide(layer), NodeRuntime.runMain)
}
