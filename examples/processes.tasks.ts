/**
 * The tasks of `processes.ts`: the multiprocessing tutorial's `target` functions, each run by a
 * `Process` of its own. A task module: no top-level side effects.
 */
import { Effect, Option, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { SharedError, SharedEvent, SharedQueue, Task } from "../src/index.ts"

/** A small integer hash, so that every run extracts the same rows. */
const hash = (n: number): number => {
  let x = Math.imul((n + 0x9e3779b9) ^ (n >>> 16), 0x7feb352d)
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b)
  return (x ^ (x >>> 16)) >>> 0
}

/**
 * Extracts one table to `<dir>/<table>.csv`, page by page: each page is some CPU work (building and
 * checksumming its rows) and a wait for the "remote side". Returns the number of rows and their checksum.
 */
export const Extract = Task.make("Extract", {
  module: import.meta.url,
  payload: Schema.Struct({ table: Schema.String, pages: Schema.Int, rowsPerPage: Schema.Int, latencyMillis: Schema.Number, dir: Schema.String }),
  success: Schema.Struct({ table: Schema.String, rows: Schema.Int, checksum: Schema.Number, pid: Schema.Int }),
  run: ({ dir, latencyMillis, pages, rowsPerPage, table }) =>
    Effect.gen(function*() {
      const seed = [...table].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16777619), 2166136261)
      const lines = ["id,key,value"]
      let checksum = 0
      for (let page = 0; page < pages; page++) {
        yield* Effect.sleep(latencyMillis)
        for (let k = 0; k < rowsPerPage; k++) {
          const id = page * rowsPerPage + k
          let value = hash(seed ^ id)
          for (let round = 0; round < 200; round++) value = hash(value)
          checksum = (checksum + value) % 1_000_000_007
          lines.push(`${id},${(seed ^ id) >>> 0},${value}`)
        }
      }
      fs.mkdirSync(dir, { recursive: true })
      fs.writeFileSync(path.join(dir, `${table}.csv`), lines.join("\n") + "\n")
      return { table, rows: lines.length - 1, checksum, pid: process.pid }
    })
})

/** One message of the pipeline. */
export const Message = Schema.Struct({ id: Schema.Int, text: Schema.String })

/** Puts `count` messages into the queue (waiting while it is full). The tutorial's `producer`. */
export const Producer = Task.make("Producer", {
  module: import.meta.url,
  payload: Schema.Struct({ queue: SharedQueue.schema(Message), count: Schema.Int }),
  success: Schema.Int,
  error: SharedError.SharedError,
  run: ({ count, queue }) =>
    Effect.gen(function*() {
      for (let id = 0; id < count; id++) yield* SharedQueue.offer(queue, { id, text: `message ${id}` })
      return count
    })
})

/**
 * Takes messages until the queue is ended (the tutorial puts a `None` sentinel; here the parent calls
 * `SharedQueue.end`), and returns how many it took and the sum of their ids. The tutorial's `consumer`.
 */
export const Consumer = Task.make("Consumer", {
  module: import.meta.url,
  payload: Schema.Struct({ queue: SharedQueue.schema(Message) }),
  success: Schema.Struct({ taken: Schema.Int, idSum: Schema.Int }),
  error: SharedError.SharedError,
  run: ({ queue }) =>
    Effect.gen(function*() {
      let taken = 0
      let idSum = 0
      while (true) {
        const next = yield* SharedQueue.take(queue).pipe(
          Effect.map(Option.some),
          Effect.catchReason("SharedError", "Ended", () => Effect.succeedNone)
        )
        if (Option.isNone(next)) return { taken, idSum }
        taken++
        idSum += next.value.id
      }
    })
})

/**
 * A worker that never returns on its own: it says it has started (the event), then runs a synchronous
 * loop. The tutorial's process that must be terminated.
 */
export const Runaway = Task.make("Runaway", {
  module: import.meta.url,
  payload: Schema.Struct({ started: SharedEvent.schema }),
  success: Schema.Number,
  error: SharedError.SharedError,
  run: ({ started }) =>
    Effect.andThen(
      SharedEvent.set(started),
      Effect.sync(() => {
        let x = 1
        while (x !== 0) x = hash(x) | 1
        return x
      })
    )
})
