/**
 * Deadlocks a pool can see, on threads and processes: the deadlocking producer / consumer (a pool of one
 * running a consumer that waits for a producer queued behind it) and a task waiting for a lock the parent
 * holds. Warn mode logs the objects and the tasks and `stats` shows it; fail mode fails the waiting tasks
 * with the typed `Deadlock` reason; no false positive while workers merely compute.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Logger, Schedule } from "effect"
import { SharedArray, SharedLock, SharedQueue, WorkerError, WorkerPool } from "../src/index.ts"
import { Consume, Job, LockedIncrements, Produce } from "./fixtures/shared-tasks.ts"
import { Busy, Double } from "./fixtures/tasks.ts"

/** A logger that keeps the warnings. */
const warnings = () => {
  const lines: Array<string> = []
  const logger = Logger.make<unknown, void>(({ logLevel, message }) => {
    if (logLevel === "Warn") lines.push(Array.isArray(message) ? message.join(" ") : String(message))
  })
  return { lines, layer: Logger.layer([logger]) }
}

/** Polls the pool's stats until `f` holds (the detection runs on its own timer). */
const statsUntil = (f: (s: WorkerPool.PoolStats) => boolean) =>
  WorkerPool.stats.pipe(Effect.repeat({ until: f, schedule: Schedule.spaced("10 millis") }), Effect.timeout("20 seconds"))

const reasonOf = (e: unknown) => (e instanceof WorkerError.WorkerError ? e.reason : undefined)

const backends = [
  { name: "threads", layer: WorkerPool.layerThreads },
  { name: "processes", layer: WorkerPool.layerProcesses }
] as const

for (const backend of backends) {
  const pool = (options?: WorkerPool.PoolOptions) =>
    backend.layer({ size: 1, deadlockTimeout: "300 millis", interruptGrace: "300 millis", preload: [Produce.module], ...options })

  describe(`deadlock detection on ${backend.name}`, () => {
    it.live("warn: a consumer waiting for the producer queued behind it is reported, named, shown in stats, then cleared", () => {
      const log = warnings()
      return Effect.gen(function*() {
        const queue = yield* SharedQueue.make(Job, { capacity: 4 })
        const consumer = yield* Effect.forkChild(Consume({ queue }), { startImmediately: true })
        yield* statsUntil((s) => s.blocked === 1)
        const producer = yield* Effect.forkChild(Produce({ queue, count: 3 }), { startImmediately: true })
        const stats = yield* statsUntil((s) => s.deadlock !== undefined)
        const d = stats.deadlock!
        assert.strictEqual(stats.blocked, 1)
        assert.lengthOf(d.waitingOn, 1)
        assert.match(d.waitingOn[0]!, /^SharedQueue #\d+$/)
        assert.deepStrictEqual(d.blocked.map((b) => b.taskName), ["Consume"])
        assert.deepStrictEqual(d.waiting, [{ taskName: "Produce", index: 0 }])
        assert.strictEqual(d.waitingCount, 1)
        assert.lengthOf(log.lines, 1, "logged once")
        const line = log.lines[0]!
        for (const part of ["deadlock", d.waitingOn[0]!, "Consume (index 0)", "Produce (index 0)", "bigger pool", "Process.spawn"]) {
          assert.include(line, part)
        }
        // the parent ends the queue: the consumer returns, the producer runs (and fails: the queue has ended)
        yield* SharedQueue.end(queue)
        assert.deepStrictEqual(yield* Fiber.join(consumer), [])
        yield* Effect.flip(Fiber.join(producer))
        const after = yield* WorkerPool.stats
        assert.isUndefined(after.deadlock)
        assert.strictEqual(after.blocked, 0)
        assert.lengthOf(log.lines, 1)
      }).pipe(Effect.provide(pool()), Effect.provide(log.layer))
    })

    it.live("warn: a task waiting for a lock the parent holds, with a task behind it, is a deadlock; the release clears it", () => {
      const log = warnings()
      return Effect.gen(function*() {
        const lock = yield* SharedLock.make
        const counter = yield* SharedArray.make("Int32", 1)
        yield* SharedLock.acquire(lock)
        const locked = yield* Effect.forkChild(LockedIncrements({ lock, counter, times: 1 }), { startImmediately: true })
        yield* statsUntil((s) => s.blocked === 1)
        const behind = yield* Effect.forkChild(Double(21), { startImmediately: true })
        const d = (yield* statsUntil((s) => s.deadlock !== undefined)).deadlock!
        assert.match(d.waitingOn[0]!, /^SharedLock #\d+$/)
        assert.deepStrictEqual(d.blocked.map((b) => b.taskName), ["LockedIncrements"])
        assert.deepStrictEqual(d.waiting.map((w) => w.taskName), ["Double"])
        assert.include(log.lines[0]!, "SharedLock #")
        yield* SharedLock.release(lock)
        yield* Fiber.join(locked)
        assert.strictEqual(yield* Fiber.join(behind), 42)
        assert.strictEqual(yield* SharedArray.get(counter, 0), 1)
        assert.isUndefined((yield* WorkerPool.stats).deadlock)
      }).pipe(Effect.provide(pool()), Effect.provide(log.layer))
    })

    it.live("fail: the tasks waiting behind the blocked workers fail with WorkerError reason Deadlock, which says what to do", () => {
      const log = warnings()
      return Effect.gen(function*() {
        const queue = yield* SharedQueue.make(Job, { capacity: 4 })
        const consumer = yield* Effect.forkChild(Consume({ queue }), { startImmediately: true })
        yield* statsUntil((s) => s.blocked === 1)
        const [first, second] = yield* Effect.all([Produce({ queue, count: 3 }), Produce({ queue, count: 5 })].map(Effect.flip), {
          concurrency: "unbounded"
        })
        for (const e of [first, second]) {
          const reason = reasonOf(e)
          assert.strictEqual(reason?._tag, "Deadlock")
          if (reason?._tag !== "Deadlock") continue
          assert.strictEqual(reason.taskName, "Produce")
          assert.strictEqual(reason.poolSize, 1)
          assert.match(reason.waitingOn[0]!, /^SharedQueue #\d+$/)
          assert.isAtLeast(reason.blockedMillis, 300)
          assert.include(e.message, "Process.spawn")
        }
        // the blocked consumer itself is left alone: the program decides (here: end the queue)
        yield* SharedQueue.end(queue)
        assert.deepStrictEqual(yield* Fiber.join(consumer), [])
        assert.isUndefined((yield* WorkerPool.stats).deadlock)
        assert.lengthOf(log.lines, 1, "logged as in warn mode")
      }).pipe(Effect.provide(pool({ onDeadlock: "fail" })), Effect.provide(log.layer))
    })

    it.live("no false positive: workers busy computing with tasks queued behind them are not blocked", () => {
      const log = warnings()
      return Effect.gen(function*() {
        const busy = yield* Effect.forkChild(Busy(900), { startImmediately: true })
        const queued = yield* Effect.forkChild(Effect.forEach([1, 2, 3], (n) => Double(n), { concurrency: "unbounded" }), {
          startImmediately: true
        })
        yield* statsUntil((s) => s.running === 1 && s.queued === 3)
        // three times the deadlock timeout, sampled meanwhile
        for (let i = 0; i < 6; i++) {
          const s = yield* WorkerPool.stats
          assert.strictEqual(s.blocked, 0)
          assert.isUndefined(s.deadlock)
          yield* Effect.sleep("100 millis")
        }
        yield* Fiber.join(busy)
        assert.deepStrictEqual(yield* Fiber.join(queued), [2, 4, 6])
        assert.deepStrictEqual(log.lines, [])
      }).pipe(Effect.provide(pool({ deadlockTimeout: "200 millis" })), Effect.provide(log.layer))
    })

    it.live("deadlockTimeout: false turns detection off; a bad value or onDeadlock fails the layer naming it", () => {
      const log = warnings()
      return Effect.gen(function*() {
        const queue = yield* SharedQueue.make(Job, { capacity: 4 })
        const consumer = yield* Effect.forkChild(Consume({ queue }), { startImmediately: true })
        yield* statsUntil((s) => s.blocked === 1)
        const producer = yield* Effect.forkChild(Produce({ queue, count: 1 }), { startImmediately: true })
        yield* statsUntil((s) => s.queued === 1)
        yield* Effect.sleep("400 millis") // longer than any timeout above: nothing may be reported
        const s = yield* WorkerPool.stats
        assert.strictEqual(s.blocked, 1, "blocked workers are still counted")
        assert.isUndefined(s.deadlock)
        assert.deepStrictEqual(log.lines, [])
        yield* Fiber.interrupt(producer)
        yield* Fiber.interrupt(consumer)
        for (const [options, option] of [[{ deadlockTimeout: "soon" }, "deadlockTimeout"], [{ onDeadlock: "panic" }, "onDeadlock"]] as const) {
          const e = yield* Effect.flip(Layer.build(backend.layer(options as unknown as WorkerPool.PoolOptions)))
          assert.strictEqual(e.reason._tag, "InvalidOption")
          assert.strictEqual(e.reason._tag === "InvalidOption" ? e.reason.option : "", option)
        }
      }).pipe(Effect.provide(pool({ deadlockTimeout: false })), Effect.provide(log.layer))
    })
  })
}

