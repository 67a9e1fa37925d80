/**
 * A pipeline: one producer task puts items into a joinable queue, N consumer tasks take them, and all of
 * them append to one log file, each line under a lock (Python's `multiprocessing.JoinableQueue` and
 * `Lock`). The parent waits until every item has been taken and marked done (`awaitEmpty`, Python's
 * `queue.join()`), ends the queue so that the consumers stop, and checks the result: every item consumed
 * exactly once, and every line of the log whole. Once on worker threads, once on child processes.
 *
 *   node examples/producer-consumer.ts             # 2,000 items, 4 consumers
 *   node examples/producer-consumer.ts --small     # 100 items, 3 consumers (CI); or SMALL=1
 *   node examples/producer-consumer.ts --out=DIR   # where to write the logs (default out/); or OUT_DIR=DIR
 *
 * The queue's items are typed (`{ id, n, queuedAt: Date }`) and keep their types across workers; the
 * queue is bounded, so the producer waits when the consumers fall behind. Each log line is written in
 * two `appendFileSync` calls: the `SharedLock` is what keeps another worker's line out of the middle.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Duration, Effect, Fiber } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { SharedLock, SharedQueue, WorkerPool } from "../src/index.ts"
import { Consume, Item, Produce } from "./producer-consumer.tasks.ts"

const small = process.argv.includes("--small") || process.env.SMALL === "1"
const count = small ? 100 : 2_000
const consumers = small ? 3 : 4
const outDir = process.argv.find((a) => a.startsWith("--out="))?.slice(6) ?? process.env.OUT_DIR ?? "out"

const LINE = /^(producer    put  item (\d+) \(n = \d+\)|consumer (\d+)  took item (\d+) \(\d+ steps, queued \d+ ms\))$/

const pipeline = (backend: "threads" | "processes") =>
  Effect.gen(function*() {
    yield* WorkerPool.awaitReady
    const logFile = path.join(outDir, `producer-consumer.${backend}.log`)
    fs.mkdirSync(outDir, { recursive: true })
    fs.writeFileSync(logFile, "")
    const [elapsed, taken] = yield* Effect.timed(Effect.scoped(Effect.gen(function*() {
      // joinable: an item whose consumer crashes before taskDone goes back to the queue for another
      const queue = yield* SharedQueue.make(Item, { capacity: 16, joinable: true })
      const lock = yield* SharedLock.make
      const workers = yield* Effect.forkChild(
        Effect.forEach(Array.from({ length: consumers }, (_, k) => k + 1), (consumer) => Consume({ queue, lock, logFile, consumer }), {
          concurrency: "unbounded"
        })
      )
      yield* Produce({ queue, lock, logFile, count })
      yield* SharedQueue.awaitEmpty(queue) // every item taken and marked done
      yield* SharedQueue.end(queue) // the consumers' next take fails with Ended: they return
      return yield* Fiber.join(workers)
    })))

    // every item consumed exactly once
    const all = taken.flat().sort((a, b) => a - b)
    const missing = Array.from({ length: count }, (_, i) => i).filter((i) => all[i] !== i)
    if (all.length !== count || missing.length > 0) {
      return yield* Effect.die(new Error(`${backend}: ${all.length} items consumed for ${count} produced; first wrong at ${missing[0]}`))
    }
    // every log line whole, and each item put once and taken once
    const lines = fs.readFileSync(logFile, "utf8").trimEnd().split("\n")
    const broken = lines.find((l) => !LINE.test(l))
    if (broken !== undefined) return yield* Effect.die(new Error(`${backend}: a torn log line: ${JSON.stringify(broken)}`))
    const put = lines.filter((l) => l.startsWith("producer")).length
    const took = new Set(lines.flatMap((l) => l.match(LINE)?.[4] ?? []))
    if (put !== count || took.size !== count || lines.length !== 2 * count) {
      return yield* Effect.die(new Error(`${backend}: the log has ${put} puts and ${took.size} distinct takes for ${count} items`))
    }
    return { backend, millis: Duration.toMillis(elapsed), perConsumer: taken.map((t) => t.length), logFile, lines: lines.length }
  }).pipe(Effect.provide(
    (backend === "threads" ? WorkerPool.layerThreads : WorkerPool.layerProcesses)({
      size: consumers + 1,
      preload: [Produce.module]
    })
  ))

const program = Effect.gen(function*() {
  console.log(`1 producer, ${consumers} consumers, ${count} items through a joinable queue of 16, one locked log file\n`)
  for (const backend of ["threads", "processes"] as const) {
    const r = yield* pipeline(backend)
    console.log(
      `  ${r.backend.padEnd(9)} ${r.millis.toFixed(0).padStart(6)} ms   items per consumer: ${r.perConsumer.join(", ")}   ` +
        `${r.lines} log lines in ${r.logFile}`
    )
  }
  console.log(`\nEvery item was consumed exactly once, and every log line is whole, on both backends.`)
})

NodeRuntime.runMain(program)
