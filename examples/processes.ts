/**
 * The multiprocessing tutorial, ported: `Process(target=f, args=...)`, `start()`, `join(timeout)`, `pid`,
 * `exitcode`, `is_alive()`, `terminate()`, with `Process.spawn` and its handle. Three scenes:
 *
 * 1. Two table extractions side by side, each on a process of its own (then on threads, which must write
 *    the same files): pids, `isAlive`, `join`, `exitCode`.
 * 2. A producer and a consumer around a queue, each on its own worker: the consumer is started first and
 *    waits for items; the producer fills the queue; the parent joins the producer, ends the queue (the
 *    tutorial's `None` sentinel), and joins the consumer. On processes and on threads.
 * 3. A runaway worker (a synchronous loop; it sets an event once it runs): `join({ timeout })` gives up
 *    without killing it (`false`), `terminate` stops it (a loop cannot see the interruption: its worker is
 *    killed after `interruptGrace`), and `exitCode` says how it ended (-9: SIGKILL; a thread: 1).
 *
 *   node examples/processes.ts            # 2 tables of 12 pages, 2,000 messages
 *   node examples/processes.ts --small    # 2 tables of 3 pages, 200 messages (CI); or SMALL=1
 *   node examples/processes.ts --out=DIR  # where to write the CSV files (default out/); or OUT_DIR=DIR
 *
 * 4. Why not a pool? On a pool, each of these is a task waiting for a free worker: a consumer that waits
 *    for a producer queued behind it on a full pool waits forever. The pool sees it: every worker blocked
 *    in a shared-object wait with tasks behind them for `deadlockTimeout` is a deadlock, logged as a
 *    warning (the default) or, with `onDeadlock: "fail"` as here, failing the waiting producer with
 *    `WorkerError` reason `Deadlock`. A `Process` has its worker to itself.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Duration, Effect, Fiber, Option } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { Process, SharedEvent, SharedQueue, WorkerPool } from "../src/index.ts"
import { Consumer, Extract, Message, Producer, Runaway } from "./processes.tasks.ts"

const small = process.argv.includes("--small") || process.env.SMALL === "1"
const outDir = process.argv.find((a) => a.startsWith("--out="))?.slice(6) ?? process.env.OUT_DIR ?? "out"
const pages = small ? 3 : 12
const messages = small ? 200 : 2_000

const show = (code: Option.Option<number>) => Option.match(code, { onNone: () => "None", onSome: String })

/** Scene 1: `p1 = Process(target=extract, args=("customers",))`, the same for orders, start both, join both. */
const extractions = (kind: "process" | "thread") =>
  Effect.scoped(Effect.gen(function*() {
    const dir = path.join(outDir, "processes", kind)
    const start = Date.now()
    const [customers, orders] = yield* Effect.forEach(
      ["customers", "orders"],
      (table) => Process.spawn(Extract, { table, pages, rowsPerPage: 200, latencyMillis: small ? 10 : 100, dir }, { kind })
    )
    for (const p of [customers!, orders!]) {
      console.log(`  started ${p.taskName} on ${kind} ${kind === "process" ? `pid ${p.pid}` : `threadId ${p.threadId}`}, alive: ${yield* p.isAlive}`)
    }
    yield* customers!.join()
    yield* orders!.join()
    const results = [yield* customers!.result, yield* orders!.result]
    for (const [p, r] of [[customers!, results[0]!], [orders!, results[1]!]] as const) {
      console.log(`  ${r.table.padEnd(9)} ${r.rows} rows, checksum ${r.checksum}, exitCode ${show(yield* p.exitCode)}, alive: ${yield* p.isAlive}`)
    }
    console.log(`  both extractions took ${Date.now() - start} ms`)
    return { dir, results }
  }))

/** Scene 2: a consumer and a producer around one queue, each on its own worker. */
const pipeline = (kind: "process" | "thread") =>
  Effect.scoped(Effect.gen(function*() {
    const queue = yield* SharedQueue.make(Message, { capacity: 16 })
    const consumer = yield* Process.spawn(Consumer, { queue }, { kind })
    const producer = yield* Process.spawn(Producer, { queue, count: messages }, { kind })
    yield* producer.join()
    yield* SharedQueue.end(queue) // the tutorial's queue.put(None): the consumer's next take ends it
    yield* consumer.join()
    const { idSum, taken } = yield* consumer.result
    const expected = (messages * (messages - 1)) / 2
    if (taken !== messages || idSum !== expected) {
      return yield* Effect.die(new Error(`${kind}: the consumer took ${taken} messages (id sum ${idSum}) of ${messages} (${expected})`))
    }
    console.log(
      `  ${kind.padEnd(7)} producer put ${yield* producer.result}, consumer took ${taken}; exit codes ${show(yield* producer.exitCode)} and ${
        show(yield* consumer.exitCode)
      }`
    )
  }))

/** Scene 3: `p.join(timeout)`, `p.is_alive()`, `p.terminate()`, `p.exitcode`. */
const runaway = (kind: "process" | "thread") =>
  Effect.scoped(Effect.gen(function*() {
    const started = yield* SharedEvent.make
    const p = yield* Process.spawn(Runaway, { started }, { kind, interruptGrace: "200 millis" })
    yield* SharedEvent.await(started) // it is running its loop now
    const ended = yield* p.join({ timeout: "300 millis" })
    const aliveBefore = yield* p.isAlive
    const [took] = yield* Effect.timed(p.terminate)
    const code = yield* p.exitCode
    console.log(
      `  ${kind.padEnd(7)} join(300 ms): ${ended}, alive: ${aliveBefore}; terminate took ${Duration.toMillis(took).toFixed(0)} ms; ` +
        `alive: ${yield* p.isAlive}, exitCode ${show(code)}`
    )
    if (ended || !aliveBefore || (yield* p.isAlive) || Option.isNone(code)) {
      return yield* Effect.die(new Error(`${kind}: the runaway worker was not terminated as it should be`))
    }
  }))

/** Scene 4: the pipeline as two tasks on a pool of one worker: the consumer takes it, the producer waits behind. */
const onAPoolOfOne = Effect.scoped(Effect.gen(function*() {
  const queue = yield* SharedQueue.make(Message, { capacity: 16 })
  const consumer = yield* Effect.forkChild(Consumer({ queue }), { startImmediately: true })
  const error = yield* Effect.flip(Producer({ queue, count: messages }))
  console.log(`  the producer failed: ${error.message}`)
  if (error._tag !== "WorkerError" || error.reason._tag !== "Deadlock") {
    return yield* Effect.die(new Error(`expected a Deadlock, got ${error.message}`))
  }
  yield* SharedQueue.end(queue) // the consumer waits no more
  yield* Fiber.join(consumer)
})).pipe(Effect.provide(WorkerPool.layerThreads({ size: 1, deadlockTimeout: "1 second", onDeadlock: "fail" })))

const program = Effect.gen(function*() {
  console.log(`1. Two extractions (${pages} pages of 200 rows each), each on a worker of its own`)
  const onProcesses = yield* extractions("process")
  const onThreads = yield* extractions("thread")
  for (const table of ["customers", "orders"]) {
    const a = fs.readFileSync(path.join(onProcesses.dir, `${table}.csv`), "utf8")
    const b = fs.readFileSync(path.join(onThreads.dir, `${table}.csv`), "utf8")
    if (a !== b) return yield* Effect.die(new Error(`${table}.csv differs between processes and threads`))
  }
  console.log(`  the CSV files under ${path.join(outDir, "processes")} are the same on processes and threads\n`)

  console.log(`2. A producer and a consumer, ${messages} messages through a queue of 16`)
  yield* pipeline("process")
  yield* pipeline("thread")

  console.log(`\n3. A runaway worker: join with a timeout, then terminate`)
  yield* runaway("process")
  yield* runaway("thread")

  console.log(`\n4. The producer and the consumer as tasks on a pool of ONE worker (deadlockTimeout: 1 second, onDeadlock: "fail")`)
  yield* onAPoolOfOne

})

NodeRuntime.runMain(program)
