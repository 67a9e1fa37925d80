// Checks the published build: `dist/` alone (plain JS, no type stripping) runs a task on threads and on
// processes through the built generic worker entry. Run after `npm run build`.
import { Effect, Schema } from "effect"
import { Task, WorkerPool } from "../dist/index.js"

export const Square = Task.make("Square", {
  module: import.meta.url,
  payload: Schema.Number,
  success: Schema.Number,
  run: (n) => Effect.succeed(n * n)
})

if (import.meta.main) {
  const program = Effect.gen(function*() {
    const one = yield* Square(12)
    const all = yield* WorkerPool.map(Square, [1, 2, 3, 4])
    return [one, ...all]
  })
  for (const [name, layer] of [["threads", WorkerPool.layerThreads], ["processes", WorkerPool.layerProcesses]]) {
    const result = await Effect.runPromise(program.pipe(Effect.provide(layer({ size: 2 }))))
    if (JSON.stringify(result) !== "[144,1,4,9,16]") throw new Error(`dist on ${name}: got ${JSON.stringify(result)}`)
    console.log(`dist on ${name}: ok ${JSON.stringify(result)}`)
  }
}
