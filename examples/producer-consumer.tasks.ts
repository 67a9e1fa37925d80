/**
 * The tasks of `producer-consumer.ts`: one producer and N consumers around a joinable `SharedQueue`,
 * all writing to one log file under a `SharedLock`. A task module on its own, with no top-level side
 * effects.
 */
import { Effect, Option, Schema } from "effect"
import * as fs from "node:fs"
import { SharedError, SharedLock, SharedQueue, Task } from "../src/index.ts"

/** One unit of work: the number whose Collatz chain a consumer measures. */
export const Item = Schema.Struct({ id: Schema.Int, n: Schema.Int, queuedAt: Schema.Date })

/** The length of the Collatz chain from `n` down to 1. */
export const collatz = (n: number): number => {
  let steps = 0
  while (n !== 1) {
    n = n % 2 === 0 ? n / 2 : 3 * n + 1
    steps++
  }
  return steps
}

/**
 * Appends one log line in two writes, under the lock. Without the lock, another worker's line could land
 * between the two halves; with it, every line is whole.
 */
const logLine = (lock: SharedLock.SharedLock, file: string, head: string, tail: string) =>
  SharedLock.withLock(lock)(Effect.sync(() => {
    fs.appendFileSync(file, head)
    fs.appendFileSync(file, `${tail}\n`)
  }))

const Shared = { queue: SharedQueue.schema(Item), lock: SharedLock.schema, logFile: Schema.String }

/** Puts `count` items into the queue (waiting while it is full), logging each. */
export const Produce = Task.make("Produce", {
  module: import.meta.url,
  payload: Schema.Struct({ ...Shared, count: Schema.Int }),
  success: Schema.Int,
  error: SharedError.SharedError,
  run: ({ count, lock, logFile, queue }) =>
    Effect.gen(function*() {
      for (let id = 0; id < count; id++) {
        const item = { id, n: 1_000_000 + id * 7919, queuedAt: new Date() }
        yield* SharedQueue.offer(queue, item)
        yield* logLine(lock, logFile, `producer    put  item ${id}`, ` (n = ${item.n})`)
      }
      return count
    })
})

/**
 * Takes items until the queue ends: measures each, logs it, marks it done (`taskDone`, for the parent's
 * `awaitEmpty`). Returns the ids it took.
 */
export const Consume = Task.make("Consume", {
  module: import.meta.url,
  payload: Schema.Struct({ ...Shared, consumer: Schema.Int }),
  success: Schema.Array(Schema.Int),
  error: SharedError.SharedError,
  run: ({ consumer, lock, logFile, queue }) =>
    Effect.gen(function*() {
      const taken: Array<number> = []
      while (true) {
        const next = yield* SharedQueue.take(queue).pipe(
          Effect.map(Option.some),
          Effect.catchReason("SharedError", "Ended", () => Effect.succeedNone)
        )
        if (Option.isNone(next)) return taken
        const item = next.value
        const steps = collatz(item.n)
        yield* Effect.sleep(1) // a little I/O, so that consumers interleave
        const waited = Date.now() - item.queuedAt.getTime()
        yield* logLine(lock, logFile, `consumer ${consumer}  took item ${item.id}`, ` (${steps} steps, queued ${waited} ms)`)
        taken.push(item.id)
        yield* SharedQueue.taskDone(queue)
      }
    })
})
