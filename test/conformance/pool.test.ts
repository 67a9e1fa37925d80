/**
 * The pool's behaviour, the same on every backend (threads, processes, in-process).
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Latch, Layer, Option, Schedule, Schema, Scope, Stream } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { AsyncResult, Task, WorkerError, WorkerPool } from "../../src/index.ts"
import {
  Add,
  BadInput,
  BadResult,
  Busy,
  Cell,
  Checked,
  Double,
  Exit as ExitTask,
  FailingInit,
  Hog,
  Init,
  Probe,
  Rich,
  Same,
  Sleep,
  Spin,
  Throws,
  ThrowOutside,
  Tick,
  Unclonable,
  WhoAmI
} from "../fixtures/tasks.ts"
import { AwaitImporters } from "../fixtures/cold.ts"
import { clusterBackends } from "../cluster/backend.ts"
import { alive, backends, osThreads } from "./backends.ts"

const reasonOf = (e: unknown): WorkerError.WorkerErrorReason => {
  assert.instanceOf(e, WorkerError.WorkerError)
  return (e as WorkerError.WorkerError).reason
}

/** Waits until the pool's stats satisfy a condition (polls the pool's own state, never a fixed sleep). */
const statsUntil = (f: (s: WorkerPool.PoolStats) => boolean) =>
  WorkerPool.stats.pipe(Effect.repeat({ until: f, schedule: Schedule.spaced("2 millis") }))

/** An Int32Array over shared memory: [0] = "the task is running", [1] = "stop". */
const flag = () => new Int32Array(new SharedArrayBuffer(8)) as unknown as Int32Array<ArrayBuffer>

/** Waits (off the event loop's main path) until a task has set flag[0]. */
const awaitRunning = (f: Int32Array) =>
  Effect.promise(async () => {
    while (Atomics.load(f, 0) === 0) {
      const r = Atomics.waitAsync(f, 0, 0, 1000)
      if (r.async) await r.value
    }
  })

const NotExported = Task.make("NotExported", {
  module: import.meta.url,
  payload: Schema.Number,
  success: Schema.Number,
  run: (n) => Effect.succeed(n)
})
const MissingModule = Task.make("Ghost", {
  module: new URL("../fixtures/does-not-exist.ts", import.meta.url).href,
  payload: Schema.Number,
  success: Schema.Number,
  run: (n) => Effect.succeed(n)
})
const BrokenModule = Task.make("Broken", {
  module: new URL("../fixtures/throws-at-import.ts", import.meta.url).href,
  payload: Schema.Number,
  success: Schema.Number,
  run: (n) => Effect.succeed(n)
})

/** `f` with the path of a fresh, empty file where `test/fixtures/cold.ts` logs each worker that imports it. */
const withImportLog = <A, E, R>(f: (log: string) => Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.suspend(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ep-cold-"))
    const log = path.join(dir, "imports.log")
    fs.writeFileSync(log, "")
    return Effect.ensuring(f(log), Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })))
  })

for (const backend of [...backends, ...clusterBackends]) {
  const pool = (options?: WorkerPool.PoolOptions) => backend.layer({ size: 2, interruptGrace: "300 millis", ...options })
  const isolatedOnly = (name: string) =>
    backend.isolated ? name : `${name} (skipped in-process: a task shares the parent's thread, nothing isolates it)`
  const localOnly = (name: string) =>
    backend.remote
      ? `${name} (skipped on cluster: the runners' pools are configured when they start; a test's pool options do not reach them)`
      : name
  const sharedOnly = (name: string) =>
    backend.sharedMemory ? name : `${name} (skipped on processes: the fixture synchronizes through shared memory)`

  describe(`WorkerPool on ${backend.name}`, () => {
    describe("running tasks", () => {
      it.live("a task is callable and returns its typed result", () =>
        Effect.gen(function*() {
          assert.strictEqual(yield* Double(21), 42)
          assert.strictEqual(yield* WorkerPool.run(Double, 4), 8)
        }).pipe(Effect.provide(pool())))

      it.live("a declared error arrives as an instance of its class and catchTag works (R5)", () =>
        Effect.gen(function*() {
          const e = yield* Effect.flip(Checked(-3))
          assert.instanceOf(e, BadInput)
          assert.strictEqual((e as BadInput).input, -3)
          const recovered = yield* Checked(-1).pipe(Effect.catchTag("BadInput", (b) => Effect.succeed(b.note)))
          assert.strictEqual(recovered, "negative")
        }).pipe(Effect.provide(pool())))

      it.live("an undeclared throw arrives as a defect with its name, message and the worker's stack (R5)", () =>
        Effect.gen(function*() {
          const exit = yield* Effect.exit(Throws("kaboom"))
          assert.isTrue(Exit.isFailure(exit))
          const defect = Cause.squash((exit as Exit.Failure<number, unknown>).cause) as Error
          assert.instanceOf(defect, Error)
          assert.strictEqual(defect.name, "RangeError")
          assert.strictEqual(defect.message, "kaboom")
          assert.include(defect.stack ?? "", "tasks.ts")
        }).pipe(Effect.provide(pool())))

      it.live("dates, maps and typed arrays cross the boundary as they are", () =>
        Effect.gen(function*() {
          const r = yield* Rich({
            when: new Date("2024-05-06T00:00:00Z"),
            tags: new Map([["a", 1], ["b", 2]]),
            data: new Float64Array([1.5, 2.5])
          })
          assert.deepStrictEqual(r, { year: 2024, total: 3, sum: 4 })
        }).pipe(Effect.provide(pool())))

      it.live("a payload that fails its schema is a CodecFailed error naming the side and the path", () =>
        Effect.gen(function*() {
          const e = yield* Effect.flip(Cell({ i: 1, j: "x" as unknown as number }))
          const r = reasonOf(e)
          assert.strictEqual(r._tag, "CodecFailed")
          if (r._tag !== "CodecFailed") return
          assert.strictEqual(r.side, "parent")
          assert.strictEqual(r.direction, "payload")
          assert.strictEqual(r.path, `["j"]`)
          assert.strictEqual(yield* Double(1), 2, "the pool goes on")
        }).pipe(Effect.provide(pool())))

      it.live("a result that does not match its schema fails that task with a clear error, never a hang (R5)", () =>
        Effect.gen(function*() {
          const r = reasonOf(yield* Effect.flip(BadResult(1)))
          assert.strictEqual(r._tag, "CodecFailed")
          if (r._tag === "CodecFailed") {
            assert.strictEqual(r.side, "worker")
            assert.strictEqual(r.direction, "success")
          }
          const r2 = reasonOf(yield* Effect.flip(Unclonable(1)))
          assert.strictEqual(r2._tag, "CodecFailed")
          // refused by structured clone in the worker, on every backend (a cluster runner's too)
          assert.include(r2.message, "cannot be cloned")
          assert.strictEqual(yield* Double(5), 10, "the pool goes on")
        }).pipe(Effect.provide(pool())))

      it.live("an unknown task or module, or a module that throws at import, is a TaskNotFound error", () =>
        Effect.gen(function*() {
          for (const task of [NotExported, MissingModule, BrokenModule]) {
            const r = reasonOf(yield* Effect.flip(task(1)))
            assert.strictEqual(r._tag, "TaskNotFound", task.name)
          }
          const broken = reasonOf(yield* Effect.flip(BrokenModule(1)))
          assert.include(broken.message, "failed to import")
          assert.strictEqual(yield* Double(2), 4, "the pool goes on")
        }).pipe(Effect.provide(pool())))
    })

    describe("timeouts and interruption", () => {
      it.live("run with a timeout interrupts the task and fails with TaskTimeout", () =>
        Effect.gen(function*() {
          const r = reasonOf(yield* Effect.flip(WorkerPool.run(Sleep, 60_000, { timeout: "100 millis" })))
          assert.strictEqual(r._tag, "TaskTimeout")
          const s = yield* WorkerPool.stats
          assert.strictEqual(s.killed, 0, "an async task stops when asked: no worker killed")
        }).pipe(Effect.provide(pool())))

      it.live.skipIf(backend.remote === true)(localOnly("the timeout counts from the task's start, not from when it was queued"), () =>
        Effect.gen(function*() {
          // one worker, busy for 400 ms; the timed task waits behind it, then runs for 50 ms of its 250 ms
          const busy = yield* Effect.forkChild(Sleep(400), { startImmediately: true })
          yield* statsUntil((s) => s.running === 1)
          const r = yield* WorkerPool.run(Sleep, 50, { timeout: "250 millis" })
          assert.strictEqual(r, 50)
          yield* Fiber.join(busy)
        }).pipe(Effect.provide(pool({ size: 1 }))))

      it.live("interrupting an async task interrupts its fiber in the worker without killing the worker", () =>
        Effect.gen(function*() {
          const fiber = yield* Effect.forkChild(Sleep(60_000), { startImmediately: true })
          yield* statsUntil((s) => s.running === 1)
          yield* Fiber.interrupt(fiber)
          const s = yield* WorkerPool.stats
          assert.strictEqual(s.running, 0, "the slot is free once the interrupt returned")
          assert.strictEqual(s.killed, 0)
          assert.strictEqual(yield* Double(3), 6)
          // a generous grace: an async task stops at once when asked, so a kill here means the interrupt never
          // reached its fiber (a loaded machine once took more than 300 ms to confirm it on processes)
        }).pipe(Effect.provide(pool({ interruptGrace: "5 seconds" }))))

      it.live.skipIf(!backend.isolated || !backend.sharedMemory)(
        isolatedOnly(sharedOnly("interrupting a synchronous CPU loop kills and replaces its worker; the next task does not wait (R2)")),
        () =>
          Effect.gen(function*() {
            const f = flag()
            const fiber = yield* Effect.forkChild(Spin({ flag: f }), { startImmediately: true })
            yield* awaitRunning(f)
            const t0 = performance.now()
            yield* Fiber.interrupt(fiber)
            const took = performance.now() - t0
            assert.isAtLeast(took, 250, "the worker had interruptGrace to stop")
            const s = yield* WorkerPool.stats
            assert.strictEqual(s.killed, 1)
            assert.strictEqual(s.running, 0)
            // the next task runs at once on a worker that is free, not behind the loop
            assert.strictEqual(yield* Double(7), 14)
            assert.strictEqual(Atomics.load(f, 1), 0, "the loop was stopped, not finished")
          }).pipe(Effect.provide(pool({ size: 1 })))
      )

      it.live.skipIf(!backend.isolated)(
        isolatedOnly("a synchronous loop past its timeout is killed after interruptGrace and fails with TaskTimeout"),
        () =>
          Effect.gen(function*() {
            const r = reasonOf(yield* Effect.flip(WorkerPool.run(Busy, 60_000, { timeout: "100 millis" })))
            assert.strictEqual(r._tag, "TaskTimeout")
            // a runner's kills are counted by the runner's pool, not by the client
            if (!backend.remote) assert.strictEqual((yield* WorkerPool.stats).killed, 1)
            assert.strictEqual(yield* Double(1), 2)
          }).pipe(Effect.provide(pool({ size: 1 })))
      )

      it.live("a fail-fast batch stops the rest of its tasks when one fails", () =>
        Effect.gen(function*() {
          const e = yield* Effect.flip(
            Effect.forEach([1, 2, -1, 4], (n) => (n < 0 ? Checked(n) : Sleep(60_000)), { concurrency: "unbounded" })
          )
          assert.instanceOf(e, BadInput)
          const s = yield* WorkerPool.stats
          assert.strictEqual(s.running, 0)
          assert.strictEqual(s.queued, 0)
          assert.strictEqual(s.killed, 0)
        }).pipe(Effect.provide(pool({ size: 4 }))))
    })

    describe("crashes (R4)", () => {
      it.live.skipIf(!backend.isolated)(
        isolatedOnly("process.exit in a task fails exactly that task; the rest of the batch succeeds"),
        () =>
          Effect.gen(function*() {
            const results = yield* Effect.forEach(
              [1, 2, 3, 4, 5, 6, 7, 8],
              (n) => Effect.result(n === 5 ? ExitTask(3) : Double(n)),
              { concurrency: "unbounded" }
            )
            const failed = results.filter((r) => r._tag === "Failure")
            assert.strictEqual(failed.length, 1)
            const r = reasonOf((failed[0] as { failure: unknown }).failure)
            assert.strictEqual(r._tag, "WorkerCrashed")
            if (r._tag === "WorkerCrashed") {
              assert.strictEqual(r.exitCode, 3)
              assert.strictEqual(r.taskName, "Exit")
            }
            assert.deepStrictEqual(
              results.filter((r) => r._tag === "Success").map((r) => (r as { success: number }).success),
              [2, 4, 6, 8, 12, 14, 16]
            )
            const s = yield* statsUntil((s) => s.workers === 2)
            assert.strictEqual(s.crashed, 1)
          }).pipe(Effect.provide(pool()))
      )

      it.live.skipIf(!backend.isolated)(
        isolatedOnly("an exception thrown outside the handler fails that task with the error's message"),
        () =>
          Effect.gen(function*() {
            const r = reasonOf(yield* Effect.flip(ThrowOutside("stray timer")))
            assert.strictEqual(r._tag, "WorkerCrashed")
            assert.include(r.message, "stray timer")
            assert.strictEqual(yield* Double(4), 8)
          }).pipe(Effect.provide(pool()))
      )

      it.live.skipIf(!backend.isolated || backend.remote === true)(
        localOnly(isolatedOnly("a task that exhausts its resourceLimits heap fails with WorkerCrashed; the pool goes on")),
        () =>
          Effect.gen(function*() {
            const r = reasonOf(yield* Effect.flip(Hog(1)))
            assert.strictEqual(r._tag, "WorkerCrashed")
            if (backend.name === "threads") assert.include(r.message, "out of memory")
            assert.strictEqual(yield* Double(4), 8)
          }).pipe(Effect.provide(pool({ size: 1, resourceLimits: { maxOldGenerationSizeMb: 32 } })))
      )
    })

    describe("batches", () => {
      it.live("map returns results in input order; starmap spreads tuples over tuple and struct payloads", () =>
        Effect.gen(function*() {
          const xs = Array.from({ length: 1000 }, (_, i) => i)
          assert.deepStrictEqual(yield* WorkerPool.map(Double, xs), xs.map((x) => x * 2))
          assert.deepStrictEqual(yield* WorkerPool.map(Double, xs, { chunkSize: 7 }), xs.map((x) => x * 2))
          assert.deepStrictEqual(yield* WorkerPool.starmap(Add, [[1, 2], [3, 4]]), [3, 7])
          assert.deepStrictEqual(yield* WorkerPool.starmap(Cell, [[0, 1], [2, 3]]), ["0,1", "2,3"])
          assert.deepStrictEqual(yield* WorkerPool.map(Double, []), [])
        }).pipe(Effect.provide(pool())))

      it.live.skipIf(backend.remote === true)(
        localOnly("map carries every number exactly (NaN, -0, the infinities, doubles), and values of mixed types") +
          (backend.remote === true ? " (values cross as JSON there, where -0 is 0)" : ""),
        () =>
        Effect.gen(function*() {
          const special = [NaN, -0, 0, Infinity, -Infinity, 0.1 + 0.2, Number.MAX_VALUE, Number.MIN_VALUE, -1e-300, 2 ** 53 + 2]
          const numbers = Array.from({ length: 500 }, (_, i) => special[i % special.length]! * (i % 3 === 0 ? 1 : -1))
          const back = yield* WorkerPool.map(Same, numbers)
          assert.strictEqual(back.length, numbers.length)
          for (let i = 0; i < numbers.length; i++) assert.isTrue(Object.is(back[i], numbers[i]), `item ${i}: ${back[i]} for ${numbers[i]}`)
          const mixed = numbers.map((x, i) => (i % 7 === 0 ? String(x) : x))
          assert.deepStrictEqual(yield* WorkerPool.map(Same, mixed), mixed)
        }).pipe(Effect.provide(pool()))
      )

      it.live.skipIf(!backend.sharedMemory || backend.remote === true)(
        sharedOnly("interrupting a running chunk of synchronous items stops it between two items, without killing its worker (R2)"),
        () =>
          Effect.gen(function*() {
            const cells = new Int32Array(new SharedArrayBuffer(4)) as unknown as Int32Array<ArrayBuffer>
            const items = Array.from({ length: 400 }, () => ({ cells, ms: 5 }))
            // one chunk of 2 s of synchronous work; interruptGrace is 300 ms
            const fiber = yield* Effect.forkChild(WorkerPool.map(Tick, items, { chunkSize: 400 }), { startImmediately: true })
            yield* Effect.promise(async () => {
              while (Atomics.load(cells, 0) < 2) {
                const seen = Atomics.load(cells, 0)
                const r = Atomics.waitAsync(cells, 0, seen, 1000)
                if (r.async) await r.value
              }
            })
            yield* Fiber.interrupt(fiber)
            const ran = Atomics.load(cells, 0)
            assert.isBelow(ran, 400, "the chunk stopped before its end")
            const s = yield* WorkerPool.stats
            assert.strictEqual(s.killed, 0, "the worker stopped by itself, within interruptGrace")
            assert.strictEqual(s.running, 0)
            assert.strictEqual(yield* Double(5), 10)
            assert.strictEqual(Atomics.load(cells, 0), ran, "nothing of the chunk ran after the interrupt returned")
          }).pipe(Effect.provide(pool({ size: 1 })))
      )

      it.live.skipIf(!backend.isolated || backend.remote === true)(
        localOnly(isolatedOnly("the first task of a cold module makes every idle worker import it, so the first batch is parallel too")),
        () =>
          withImportLog((log) =>
            Effect.gen(function*() {
              yield* WorkerPool.awaitReady
              // one task: it finishes only once both workers have imported its module (or gives up after 20 s)
              const importers = yield* AwaitImporters(2)
              assert.strictEqual(importers, 2, "the idle worker imported the module while the first task ran")
              const s = yield* WorkerPool.stats
              assert.strictEqual(s.workers, 2)
              assert.strictEqual(s.crashed, 0)
            }).pipe(Effect.provide(pool({ env: { ...process.env, EFFECT_PARALLEL_COLD_LOG: log } })))
          )
      )

      it.live.skipIf(!backend.isolated || backend.remote === true)(
        localOnly(isolatedOnly("a busy worker imports a newly seen module only once its running task has ended, never under it")),
        () =>
          withImportLog((log) =>
            Effect.gen(function*() {
              yield* WorkerPool.awaitReady
              // one worker runs a task of another module (a task module without the import.meta.main guard
              // would start its program on import, and its process.exit would end the worker under this task)
              let slept = false
              const sleeping = yield* Effect.forkChild(Sleep(1500).pipe(Effect.tap(() => Effect.sync(() => { slept = true }))))
              yield* statsUntil((s) => s.running === 1)
              // the other worker runs the cold module's task: it ends once both workers have imported the module
              const importers = yield* AwaitImporters(2)
              assert.strictEqual(importers, 2)
              assert.isTrue(slept, "the busy worker imported the module before its running task had ended")
              yield* Fiber.join(sleeping)
            }).pipe(Effect.provide(pool({ preload: [Sleep.module], env: { ...process.env, EFFECT_PARALLEL_COLD_LOG: log } })))
          )
      )

      it.live("imap streams in input order; imapUnordered in completion order", () =>
        Effect.gen(function*() {
          yield* WorkerPool.awaitReady // all four start together: completion order is then the sleep order
          const ms = [300, 200, 100, 10]
          const ordered = yield* Stream.runCollect(WorkerPool.imap(Sleep, ms, { chunkSize: 1 }))
          assert.deepStrictEqual(ordered, ms)
          const unordered = yield* Stream.runCollect(WorkerPool.imapUnordered(Sleep, ms, { chunkSize: 1 }))
          assert.deepStrictEqual(unordered, [10, 100, 200, 300])
        }).pipe(Effect.provide(pool({ size: 4, preload: [Sleep.module] }))))

      it.live("map fails fast with the first declared error", () =>
        Effect.gen(function*() {
          const e = yield* Effect.flip(WorkerPool.map(Checked, [1, 2, 3, -4, 5, 6], { chunkSize: 2 }))
          assert.instanceOf(e, BadInput)
          assert.strictEqual((e as BadInput).input, -4)
        }).pipe(Effect.provide(pool())))

      it.live("map pulls a lazy iterable: the input is never materialized (R6)", () =>
        Effect.gen(function*() {
          let pulled = 0
          const endless = {
            *[Symbol.iterator]() {
              for (let i = 0;; i++) {
                pulled++
                yield i
              }
            }
          }
          const first = yield* WorkerPool.imap(Double, endless).pipe(Stream.take(5000), Stream.runCollect)
          assert.strictEqual(first.length, 5000)
          assert.strictEqual(first[4999], 9998)
          // the chunk that holds the 5,000th item (it may end up to 16,383 items past it), then at most
          // `window` (2 × 2 workers) chunks of at most 16,384 items in flight, plus the one chunk the stream
          // has cut and holds while the window is full; reached once a pool has measured the task as fast
          // (every chunk at the cap). (The bound used to leave out the first term: 94,144 items were once
          // pulled against 86,920.)
          assert.isBelow(pulled, 5000 + (1 + 4 + 1) * 16_384, "only a bounded window was pulled ahead")
        }).pipe(Effect.provide(pool())))
    })

    describe("submit and AsyncResult", () => {
      it.live("get with a timeout gives up without cancelling; a later get returns the result", () =>
        Effect.gen(function*() {
          const handle = yield* WorkerPool.submit(Sleep, 300)
          const e = yield* Effect.flip(AsyncResult.get(handle, { timeout: "20 millis" }))
          const r = reasonOf(e)
          assert.strictEqual(r._tag, "GetTimeout")
          assert.include(r.message, "not cancelled")
          assert.isFalse(yield* AsyncResult.ready(handle))
          assert.strictEqual(yield* AsyncResult.get(handle), 300)
          assert.isTrue(yield* AsyncResult.ready(handle))
          assert.isTrue(yield* AsyncResult.successful(handle))
        }).pipe(Effect.provide(pool())))

      it.live("cancel interrupts the task in its worker", () =>
        Effect.gen(function*() {
          const handle = yield* WorkerPool.submit(Sleep, 60_000)
          yield* statsUntil((s) => s.running === 1)
          yield* AsyncResult.cancel(handle)
          assert.strictEqual((yield* WorkerPool.stats).running, 0)
          assert.isFalse(yield* AsyncResult.successful(handle))
          const polled = yield* AsyncResult.poll(handle)
          assert.isTrue(Option.isSome(polled) && Exit.isFailure(polled.value) && Cause.hasInterruptsOnly(polled.value.cause))
          assert.isTrue(yield* AsyncResult.wait(handle, { timeout: "1 second" }))
        }).pipe(Effect.provide(pool())))

      it.live("a submitted task runs although nobody waits for it", () =>
        Effect.gen(function*() {
          const handle = yield* WorkerPool.submit(Double, 5)
          yield* statsUntil((s) => s.completed >= 1)
          assert.strictEqual(yield* AsyncResult.get(handle), 10)
        }).pipe(Effect.provide(pool())))

      it.live("asCompleted emits handles in completion order and never fails on a task's error", () =>
        Effect.gen(function*() {
          const slow = yield* WorkerPool.submit(Sleep, 60_000) // finishes only when cancelled
          const fails = yield* WorkerPool.submit(Checked, -1)
          const fast = yield* WorkerPool.submit(Double, 21)
          const first = yield* AsyncResult.asCompleted([slow, fails, fast, fast]).pipe(Stream.take(2), Stream.runCollect)
          assert.sameMembers(Array.from(first), [fails, fast])
          assert.isFalse(yield* AsyncResult.ready(slow))
          // the stream ended early: the slow task goes on running
          assert.strictEqual(yield* AsyncResult.get(fast), 42)
          const two = yield* Latch.make()
          let received = 0
          const fiber = yield* Effect.forkChild(AsyncResult.asCompleted([slow, fails, fast]).pipe(
            Stream.tap(() => ++received === 2 ? two.open : Effect.void),
            Stream.runCollect
          ))
          yield* two.await // the finished ones came at once; the slow one is still running
          yield* AsyncResult.cancel(slow)
          const all = Array.from(yield* Fiber.join(fiber))
          assert.strictEqual(all.length, 3, "each distinct handle once")
          assert.strictEqual(all[2], slow, "the cancelled one last: it was the last to finish")
          const exit = yield* AsyncResult.exit(fails)
          assert.isTrue(Exit.isFailure(exit) && Cause.squash(exit.cause) instanceof BadInput)
        }).pipe(Effect.provide(pool())))

      it.live("asCompleted with a timeout fails with GetTimeout naming the tasks still running, and cancels none", () =>
        Effect.gen(function*() {
          yield* WorkerPool.awaitReady // the timeout below is about the tasks, not the workers' start-up
          const slow = yield* WorkerPool.submit(Sleep, 60_000)
          const fast = yield* WorkerPool.submit(Double, 1)
          const seen: Array<unknown> = []
          const e = yield* Effect.flip(
            AsyncResult.asCompleted([slow, fast], { timeout: "1 second" }).pipe(Stream.runForEach((h) => Effect.sync(() => seen.push(h))))
          )
          assert.deepStrictEqual(seen, [fast], "what finished in time was emitted first")
          const r = reasonOf(e)
          assert.strictEqual(r._tag, "GetTimeout")
          assert.include(r.message, "1 of 2 tasks (Sleep)")
          assert.isFalse(yield* AsyncResult.ready(slow))
          yield* AsyncResult.cancel(slow)
        }).pipe(Effect.provide(pool())))

      it.live("wait over handles: first-completed, first-exception, all-completed, timeout", () =>
        Effect.gen(function*() {
          const slow = yield* WorkerPool.submit(Sleep, 60_000)
          const fast = yield* WorkerPool.submit(Double, 2)
          const first = yield* AsyncResult.wait([slow, fast], { returnWhen: "first-completed" })
          assert.deepStrictEqual(first, { done: [fast], notDone: [slow] })
          // a success is no exception: first-exception waits on, here until its timeout
          const noException = yield* AsyncResult.wait([slow, fast], { returnWhen: "first-exception", timeout: "200 millis" })
          assert.deepStrictEqual(noException, { done: [fast], notDone: [slow] })
          const fails = yield* WorkerPool.submit(Checked, -5)
          const exception = yield* AsyncResult.wait([slow, fast, fails], { returnWhen: "first-exception" })
          assert.deepStrictEqual(exception, { done: [fast, fails], notDone: [slow] })
          const timedOut = yield* AsyncResult.wait([slow, fast, fails], { timeout: "100 millis" })
          assert.deepStrictEqual(timedOut, { done: [fast, fails], notDone: [slow] }, "all-completed is the default")
          assert.isFalse(yield* AsyncResult.ready(slow), "waiting never cancels")
          yield* AsyncResult.cancel(slow)
          const all = yield* AsyncResult.wait([slow, fast, fails])
          assert.deepStrictEqual(all, { done: [slow, fast, fails], notDone: [] })
          assert.deepStrictEqual(yield* AsyncResult.wait([]), { done: [], notDone: [] })
        }).pipe(Effect.provide(pool())))

      it.live("interrupting a wait over handles leaves their tasks running (R1)", () =>
        Effect.gen(function*() {
          const slow = yield* WorkerPool.submit(Sleep, 60_000)
          const waiter = yield* Effect.forkChild(AsyncResult.wait([slow]))
          yield* statsUntil((s) => s.running === 1)
          yield* Fiber.interrupt(waiter)
          assert.isFalse(yield* AsyncResult.ready(slow))
          assert.strictEqual((yield* WorkerPool.stats).running, 1)
          yield* AsyncResult.cancel(slow)
        }).pipe(Effect.provide(pool())))

      it.live("wait and asCompleted refuse bad input with InvalidOption naming it", () =>
        Effect.gen(function*() {
          const h = yield* WorkerPool.submit(Double, 1)
          const notAHandle = reasonOf(yield* Effect.flip(AsyncResult.wait([h, 7 as never])))
          assert.strictEqual(notAHandle._tag, "InvalidOption")
          assert.include(notAHandle.message, "item 1 is not an AsyncResult")
          const badWhen = reasonOf(yield* Effect.flip(AsyncResult.wait([h], { returnWhen: "first" as never })))
          assert.include(badWhen.message, "returnWhen")
          const badTimeout = reasonOf(yield* Effect.flip(AsyncResult.asCompleted([h], { timeout: "soon" as never }).pipe(Stream.runCollect)))
          assert.include(badTimeout.message, "timeout must be a duration")
        }).pipe(Effect.provide(pool())))
    })

    describe("workers", () => {
      it.live.skipIf(!backend.isolated || backend.remote === true)(
        localOnly(isolatedOnly("maxTasksPerWorker recycles workers (fresh module state), and stats show it")),
        () =>
        Effect.gen(function*() {
          const calls: Array<number> = []
          for (let i = 0; i < 7; i++) calls.push((yield* Probe(undefined)).calls)
          assert.deepStrictEqual(calls, [1, 2, 3, 1, 2, 3, 1])
          const s = yield* WorkerPool.stats
          assert.isAtLeast(s.recycled, 2)
          assert.isAtLeast(s.spawned, 3)
        }).pipe(Effect.provide(pool({ size: 1, maxTasksPerWorker: 3 })))
      )

      it.live.skipIf(backend.remote === true)(localOnly("the initializer runs once in every worker before its first task"), () =>
        Effect.gen(function*() {
          const probes = yield* Effect.forEach([1, 2, 3, 4], () => Probe(undefined), { concurrency: "unbounded" })
          for (const p of probes) assert.strictEqual(p.initialized, "warm")
        }).pipe(Effect.provide(pool({ initializer: { task: Init, payload: "warm" } }))))

      it.live.skipIf(backend.remote === true)(localOnly("a failing initializer fails the pool with a clear error instead of respawning forever"), () =>
        Effect.gen(function*() {
          const r = reasonOf(yield* Effect.flip(Double(1)))
          assert.strictEqual(r._tag, "InitializerFailed")
          assert.include(r.message, "database unreachable")
          const r2 = reasonOf(yield* Effect.flip(Double(2)))
          assert.strictEqual(r2._tag, "InitializerFailed")
          assert.isAtMost((yield* WorkerPool.stats).spawned, 2)
        }).pipe(Effect.provide(pool({ initializer: FailingInit }))))

      it.live.skipIf(backend.remote === true)(localOnly("maxQueued makes submitters wait for room (backpressure)"), () =>
        Effect.gen(function*() {
          const blocker = yield* Effect.forkChild(Sleep(300), { startImmediately: true })
          yield* statsUntil((s) => s.running === 1)
          const fibers = yield* Effect.forEach([1, 2, 3, 4, 5], (n) => Effect.forkChild(Double(n), { startImmediately: true }))
          const s = yield* statsUntil((s) => s.queued + s.waiting === 5)
          assert.strictEqual(s.queued, 2)
          assert.strictEqual(s.waiting, 3)
          const results = yield* Effect.forEach(fibers, Fiber.join)
          assert.deepStrictEqual(results, [2, 4, 6, 8, 10])
          yield* Fiber.join(blocker)
        }).pipe(Effect.provide(pool({ size: 1, maxQueued: 2, prefetch: 1 }))))

      it.live.skipIf(backend.remote === true)(localOnly("a waiting submitter can be interrupted and leaves no job behind (R1)"), () =>
        Effect.gen(function*() {
          const blocker = yield* Effect.forkChild(Sleep(200), { startImmediately: true })
          yield* statsUntil((s) => s.running === 1)
          const queued = yield* Effect.forkChild(Double(1), { startImmediately: true })
          const waiting = yield* Effect.forkChild(Double(2), { startImmediately: true })
          yield* statsUntil((s) => s.waiting === 1)
          yield* Fiber.interrupt(waiting)
          yield* Fiber.interrupt(queued)
          const s = yield* WorkerPool.stats
          assert.strictEqual(s.waiting, 0)
          assert.strictEqual(s.queued, 0)
          yield* Fiber.join(blocker)
          assert.strictEqual((yield* WorkerPool.stats).completed, 1, "the interrupted jobs never ran")
        }).pipe(Effect.provide(pool({ size: 1, maxQueued: 1, prefetch: 1 }))))

      it.live.skipIf(backend.remote === true)(localOnly("invalid options fail the layer with a message naming the option and the value"), () =>
        Effect.gen(function*() {
          const e = yield* Effect.flip(Layer.build(backend.layer({ size: -1 })))
          const r = reasonOf(e)
          assert.strictEqual(r._tag, "InvalidOption")
          assert.strictEqual(r.message, `size must be a positive integer or "cores", got -1`)
          const e2 = reasonOf(yield* Effect.flip(Layer.build(backend.layer({ maxQueued: 0 }))))
          assert.include(e2.message, "maxQueued")
          const e3 = reasonOf(yield* Effect.flip(Layer.build(backend.layer({ interruptGrace: "soon" as never }))))
          assert.include(e3.message, "interruptGrace")
        }).pipe(Effect.scoped))

      it.live.skipIf(backend.name === "in-process" || backend.remote === true)(
        backend.remote
          ? "closing the pool's scope interrupts running tasks and ends every worker (R3) (skipped on cluster: closing a client does not end the runners; test/cluster/cluster.test.ts covers a client's close)"
          : isolatedOnly("closing the pool's scope interrupts running tasks and ends every worker (R3)"),
        () =>
          Effect.gen(function*() {
            const before = osThreads()
            const scope = yield* Scope.make()
            const context = yield* Layer.buildWithScope(pool(), scope)
            const run = <A, E>(e: Effect.Effect<A, E, WorkerPool.WorkerPool>) => Effect.provide(e, context)
            yield* run(WorkerPool.awaitReady)
            const who = yield* run(Effect.forEach([1, 2], () => WhoAmI(0), { concurrency: "unbounded" }))
            const pids = [...new Set(who.map((w) => w.pid))].filter((p) => p !== process.pid)
            const running = yield* Effect.forkChild(run(Sleep(60_000)), { startImmediately: true })
            yield* run(statsUntil((s) => s.running === 1))
            const t0 = performance.now()
            yield* Scope.close(scope, Exit.void)
            assert.isBelow(performance.now() - t0, 2000, "closing is prompt")
            const exit = yield* Fiber.await(running)
            assert.isTrue(Exit.isFailure(exit))
            const r = reasonOf(Cause.squash((exit as Exit.Failure<number, unknown>).cause))
            assert.strictEqual(r._tag, "PoolClosed")
            if (backend.name === "threads") assert.strictEqual(osThreads(), before, "no worker thread left")
            if (backend.name === "processes") {
              assert.strictEqual(pids.length, 2)
              for (const pid of pids) assert.isFalse(alive(pid), `worker process ${pid} is gone`)
            }
            const after = yield* Effect.flip(run(Double(1)))
            assert.strictEqual(reasonOf(after)._tag, "PoolClosed")
          })
      )
    })

    describe("reproducible randomness (R7)", () => {
      it.live("a batch's random streams depend on the seed and the index only", () =>
        Effect.gen(function*() {
          const one = yield* WorkerPool.map(WhoAmI, [0, 0, 0, 0, 0, 0], { seed: 42, chunkSize: 1 }).pipe(
            Effect.provide(pool({ size: 1 }))
          )
          const three = yield* WorkerPool.map(WhoAmI, [0, 0, 0, 0, 0, 0], { seed: 42, chunkSize: 2 }).pipe(
            Effect.provide(pool({ size: 3 }))
          )
          assert.deepStrictEqual(one.map((r) => [r.index, r.draws, r.effectDraw]), three.map((r) => [r.index, r.draws, r.effectDraw]))
          const other = yield* WorkerPool.map(WhoAmI, [0, 0], { seed: 43 }).pipe(Effect.provide(pool()))
          assert.notDeepEqual(other[0]!.draws, one[0]!.draws)
          assert.notDeepEqual(one[0]!.draws, one[1]!.draws)
        }))
    })
  })
}

describe("maxTasksPerWorker with chunks", () => {
  it.live("chunks that do not fit a worker's remaining budget go to a fresh worker instead of waiting", () =>
    Effect.gen(function*() {
      const xs = Array.from({ length: 40 }, (_, i) => i)
      assert.deepStrictEqual(yield* WorkerPool.map(Double, xs, { chunkSize: 8 }), xs.map((x) => x * 2))
      const s = yield* WorkerPool.stats
      assert.isAtLeast(s.spawned, 4)
    }).pipe(Effect.provide(WorkerPool.layerThreads({ size: 1, maxTasksPerWorker: 10 }))))
})
