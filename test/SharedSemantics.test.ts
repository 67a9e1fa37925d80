/**
 * The semantics of shared objects (docs/shared.md, "What happens when"): what a task keeps when it ends,
 * what only a crash gives back (R8), exactly-once delivery, use after close and waits answered by close,
 * `end` on a queue, and hand-offs that an interrupted waiter cannot stall. On threads and processes (and
 * in-process where the behaviour exists there).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Option, Schedule, Schema, Scope } from "effect"
import {
  SharedArray,
  SharedCondition,
  SharedError,
  SharedEvent,
  SharedLock,
  SharedPipe,
  SharedQueue,
  SharedRLock,
  SharedSemaphore,
  WorkerPool
} from "../src/index.ts"
import { backends } from "./conformance/backends.ts"
import {
  AcquireAndDie,
  AcquireKeep,
  Die,
  HandOffAfterInterrupt,
  handOffAfterInterrupt,
  ManyLockWaiters,
  ManyWaiters,
  ReceiveN,
  ReleaseOnly,
  TakeAvailable,
  TakeN,
  TakeNAndDie,
  UseAll,
  waitKinds,
  waitOn,
  WaitOnAll
} from "./fixtures/shared-semantics.ts"

/** Polls `check` until it holds (never a fixed sleep); dies after `within` ms. */
const until = <E, R>(what: string, check: Effect.Effect<boolean, E, R>, within = 10_000) =>
  check.pipe(
    Effect.repeat({ until: (ok) => ok, schedule: Schedule.spaced("2 millis") }),
    Effect.timeoutOrElse({ duration: within, orElse: () => Effect.die(new Error(`never happened within ${within} ms: ${what}`)) }),
    Effect.asVoid
  )

const statsUntil = (what: string, f: (s: WorkerPool.PoolStats) => boolean) => until(what, Effect.map(WorkerPool.stats, f))

/** Objects made in their own scope, so that a test can close it while they are in use. */
const makeObjects = Effect.gen(function*() {
  const lock = yield* SharedLock.make
  const rlock = yield* SharedRLock.make
  const permits = yield* SharedSemaphore.make(0)
  const event = yield* SharedEvent.make
  const array = yield* SharedArray.make("Int32", 4)
  const queue = yield* SharedQueue.make(Schema.Number)
  const full = yield* SharedQueue.make(Schema.Number, { capacity: 1 })
  const condition = yield* SharedCondition.make()
  yield* SharedQueue.offer(full, 1)
  return { lock, rlock, permits, event, array, queue, full, condition }
})

const allClosed = (reasons: Record<string, string>) => {
  for (const [op, reason] of Object.entries(reasons)) assert.strictEqual(reason, "Closed", `${op} after close`)
}

describe("shared objects in one isolate", () => {
  it.live("after its scope ends, every operation of every object fails with Closed", () =>
    Effect.gen(function*() {
      const o = yield* Effect.scoped(makeObjects)
      const reasonOf = (e: Effect.Effect<unknown, SharedError.SharedError>) =>
        e.pipe(Effect.as("ok"), Effect.catch((x) => Effect.succeed(x.reason._tag)))
      allClosed({
        lock: yield* reasonOf(SharedLock.acquire(o.lock)),
        lockIf: yield* reasonOf(SharedLock.acquireIfAvailable(o.lock)),
        lockIsLocked: yield* reasonOf(SharedLock.isLocked(o.lock)),
        rlock: yield* reasonOf(SharedRLock.acquire(o.rlock)),
        rlockIf: yield* reasonOf(SharedRLock.acquireIfAvailable(o.rlock)),
        permits: yield* reasonOf(SharedSemaphore.acquire(o.permits)),
        release: yield* reasonOf(SharedSemaphore.release(o.permits)),
        available: yield* reasonOf(SharedSemaphore.available(o.permits)),
        set: yield* reasonOf(SharedEvent.set(o.event)),
        await: yield* reasonOf(SharedEvent.await(o.event)),
        isSet: yield* reasonOf(SharedEvent.isSet(o.event)),
        add: yield* reasonOf(SharedArray.add(o.array, 0, 1)),
        get: yield* reasonOf(SharedArray.get(o.array, 0)),
        view: yield* reasonOf(SharedArray.view(o.array)),
        take: yield* reasonOf(SharedQueue.take(o.queue)),
        offer: yield* reasonOf(SharedQueue.offer(o.queue, 1)),
        notify: yield* reasonOf(SharedCondition.notify(o.condition))
      })
    }))

  it.live("every wait pending when the scope ends is answered with Closed, at once", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const o = yield* Scope.provide(makeObjects, scope)
      yield* SharedLock.acquire(o.lock)
      yield* Effect.forkChild(SharedRLock.acquire(o.rlock), { startImmediately: true })
      yield* until("the rlock is held", SharedRLock.isLocked(o.rlock))
      const waits = yield* Effect.forkChild(
        Effect.all(
          waitKinds.map((kind) =>
            waitOn(kind, o).pipe(Effect.as("ok"), Effect.catch((e) => Effect.succeed(e.reason._tag)))
          ),
          { concurrency: "unbounded" }
        ),
        { startImmediately: true }
      )
      yield* until("the queue waits are registered", Effect.map(Effect.all([SharedQueue.waiting(o.queue), SharedQueue.waiting(o.full)]), ([a, b]) => a.takers === 1 && b.offerers === 1))
      yield* until("the condition wait is registered", Effect.map(SharedCondition.waiting(o.condition), (n) => n === 1))
      const t0 = performance.now()
      yield* Scope.close(scope, Exit.void)
      const reasons = yield* Fiber.join(waits).pipe(Effect.timeout("5 seconds"))
      const ms = performance.now() - t0
      assert.deepStrictEqual(reasons, waitKinds.map(() => "Closed"))
      assert.isBelow(ms, 500, `the waits were answered ${Math.round(ms)} ms after the close`)
    }))

  it.live("an interrupted lock waiter does not keep the release's wake-up from the next waiter", () =>
    Effect.gen(function*() {
      const lock = yield* SharedLock.make
      const ms = yield* handOffAfterInterrupt(lock)
      assert.isBelow(ms, 200, `the next waiter got the lock ${Math.round(ms)} ms after the release`)
    }))

  it.live("end fails waiting offers with Ended; waiting takes get the remaining items, then Ended", () =>
    Effect.gen(function*() {
      const q = yield* SharedQueue.make(Schema.Number, { capacity: 1 })
      yield* SharedQueue.offer(q, 1)
      const offer = yield* Effect.forkChild(SharedQueue.offer(q, 2), { startImmediately: true })
      yield* until("the offer waits", Effect.map(SharedQueue.waiting(q), (w) => w.offerers === 1))
      yield* SharedQueue.end(q)
      const failed = yield* Effect.flip(Fiber.join(offer))
      assert.strictEqual(failed.reason._tag, "Ended")
      assert.strictEqual(yield* SharedQueue.take(q), 1)
      assert.strictEqual((yield* Effect.flip(SharedQueue.take(q))).reason._tag, "Ended", "the waiting offer's item never went in")

      const q2 = yield* SharedQueue.make(Schema.Number)
      const takers = yield* Effect.forkChild(
        Effect.all([1, 2].map(() => Effect.exit(SharedQueue.take(q2))), { concurrency: "unbounded" }),
        { startImmediately: true }
      )
      yield* until("two takes wait", Effect.map(SharedQueue.waiting(q2), (w) => w.takers === 2))
      yield* SharedQueue.offer(q2, 7)
      yield* SharedQueue.end(q2)
      const exits = yield* Fiber.join(takers)
      const got = exits.filter(Exit.isSuccess).map((e) => e.value)
      const ended = exits.filter(Exit.isFailure)
      assert.deepStrictEqual(got, [7])
      assert.strictEqual(ended.length, 1)
      assert.deepStrictEqual(yield* SharedQueue.waiting(q2), { takers: 0, offerers: 0 })
    }))

  it.live("a queue reports its waiting takers and offerers", () =>
    Effect.gen(function*() {
      const q = yield* SharedQueue.make(Schema.Number, { capacity: 1 })
      assert.deepStrictEqual(yield* SharedQueue.waiting(q), { takers: 0, offerers: 0 })
      const take = yield* Effect.forkChild(SharedQueue.take(q), { startImmediately: true })
      yield* until("one take waits", Effect.map(SharedQueue.waiting(q), (w) => w.takers === 1))
      yield* Fiber.interrupt(take)
      assert.deepStrictEqual(yield* SharedQueue.waiting(q), { takers: 0, offerers: 0 }, "an interrupted take leaves")
      yield* SharedQueue.offer(q, 1)
      const offers = yield* Effect.forkChild(Effect.all([SharedQueue.offer(q, 2), SharedQueue.offer(q, 3)], { concurrency: "unbounded" }), {
        startImmediately: true
      })
      yield* until("two offers wait", Effect.map(SharedQueue.waiting(q), (w) => w.offerers === 2))
      assert.deepStrictEqual([yield* SharedQueue.take(q), yield* SharedQueue.take(q), yield* SharedQueue.take(q)], [1, 2, 3])
      yield* Fiber.join(offers)
    }))

  it.live("a bounded semaphore released by another owner never exceeds its bound", () =>
    Effect.gen(function*() {
      const sem = yield* SharedSemaphore.make(1, { bounded: true })
      yield* Effect.scoped(Effect.gen(function*() {
        yield* SharedSemaphore.acquire(sem)
      }))
      const fromOther = yield* Effect.forkChild(SharedSemaphore.release(sem))
      yield* Fiber.join(fromOther)
      assert.strictEqual(yield* SharedSemaphore.available(sem), 1)
      assert.strictEqual((yield* Effect.flip(SharedSemaphore.release(sem))).reason._tag, "OverRelease")
    }))
})

for (const backend of backends) {
  const pool = (options?: WorkerPool.PoolOptions) => backend.layer({ size: 1, interruptGrace: "300 millis", ...options })
  const crashes = backend.isolated ? "" : " (skipped in-process: a crash would end the test process)"

  describe(`shared-object semantics on ${backend.name}`, () => {
    it.live("items a task took with a plain take are never delivered again: not after recycling, idling out or the pool closing", () =>
      Effect.gen(function*() {
        const queue = yield* SharedQueue.make(Schema.Number)
        for (let n = 0; n < 15; n++) yield* SharedQueue.offer(queue, n)
        // recycled after one task
        const first = yield* Effect.gen(function*() {
          const got = yield* TakeN({ queue, n: 5 })
          yield* statsUntil("the first worker was replaced", (s) => s.spawned >= 2 && s.workers === 1 && s.ready === 1)
          return got
        }).pipe(Effect.provide(pool({ maxTasksPerWorker: 1 })))
        assert.deepStrictEqual(first, [0, 1, 2, 3, 4])
        assert.strictEqual(yield* SharedQueue.size(queue), 10, "recycling gave nothing back")
        // idled out
        const second = yield* Effect.gen(function*() {
          const got = yield* TakeN({ queue, n: 5 })
          yield* statsUntil("the worker idled out", (s) => s.workers === 0)
          assert.strictEqual(yield* SharedQueue.size(queue), 5, "idling out gave nothing back")
          return got
        }).pipe(Effect.provide(pool({ idleTimeout: "20 millis" })))
        assert.deepStrictEqual(second, [5, 6, 7, 8, 9])
        // the pool closes
        const third = yield* TakeN({ queue, n: 5 }).pipe(Effect.provide(pool()))
        assert.deepStrictEqual(third, [10, 11, 12, 13, 14])
        assert.strictEqual(yield* SharedQueue.size(queue), 0, "closing the pool gave nothing back")
        assert.isTrue(Option.isNone(yield* SharedQueue.takeIfAvailable(queue)))
      }))

    it.live("messages received from a pipe are never received again", () =>
      Effect.gen(function*() {
        const { left, right } = yield* SharedPipe.make(Schema.String, Schema.String)
        for (const m of ["a", "b", "c", "d"]) yield* SharedPipe.send(left, m)
        const got = yield* ReceiveN({ pipe: right, n: 3 }).pipe(Effect.provide(pool({ maxTasksPerWorker: 1 })))
        assert.deepStrictEqual(got, ["a", "b", "c"])
        const rest = yield* ReceiveN({ pipe: right, n: 1 }).pipe(Effect.provide(pool()))
        assert.deepStrictEqual(rest, ["d"])
        assert.isTrue(Option.isNone(yield* SharedPipe.receiveIfAvailable(right)), "nothing came back after the pools closed")
      }))

    it.live("a joinable queue's items taken by a task that ended stay taken, even without taskDone", () =>
      Effect.gen(function*() {
        const queue = yield* SharedQueue.make(Schema.Number, { joinable: true })
        for (let n = 0; n < 3; n++) yield* SharedQueue.offer(queue, n)
        const got = yield* TakeN({ queue, n: 2 }).pipe(Effect.provide(pool({ maxTasksPerWorker: 1 })))
        assert.deepStrictEqual(got, [0, 1])
        assert.deepStrictEqual(yield* TakeAvailable({ queue }).pipe(Effect.provide(pool())), [2])
      }))

    it.live.skipIf(!backend.isolated)(`a crash gives back a joinable queue's items its task took, never a plain queue's (R8)${crashes}`, () =>
      Effect.gen(function*() {
        const joinable = yield* SharedQueue.make(Schema.Number, { joinable: true })
        const plain = yield* SharedQueue.make(Schema.Number)
        for (let n = 0; n < 3; n++) {
          yield* SharedQueue.offer(joinable, n)
          yield* SharedQueue.offer(plain, n)
        }
        yield* Effect.gen(function*() {
          assert.isTrue(Exit.isFailure(yield* Effect.exit(TakeNAndDie({ queue: joinable, n: 2 }))))
          assert.isTrue(Exit.isFailure(yield* Effect.exit(TakeNAndDie({ queue: plain, n: 2 }))))
        }).pipe(Effect.provide(pool()))
        assert.deepStrictEqual([...(yield* TakeAvailable({ queue: joinable }).pipe(Effect.provide(pool())))].sort(), [0, 1, 2])
        assert.deepStrictEqual(yield* TakeAvailable({ queue: plain }).pipe(Effect.provide(pool())), [2], "exactly once")
      }))

    it.live.skipIf(!backend.isolated)(`a crash in a later task gives back nothing an earlier, finished task kept${crashes}`, () =>
      Effect.gen(function*() {
        const queue = yield* SharedQueue.make(Schema.Number, { joinable: true })
        const permits = yield* SharedSemaphore.make(3)
        for (let n = 0; n < 3; n++) yield* SharedQueue.offer(queue, n)
        yield* Effect.gen(function*() {
          assert.deepStrictEqual(yield* TakeN({ queue, n: 2 }), [0, 1])
          yield* AcquireKeep({ permits, n: 2 })
          assert.isTrue(Exit.isFailure(yield* Effect.exit(Die({ code: 9 }))))
        }).pipe(Effect.provide(pool()))
        assert.strictEqual(yield* SharedSemaphore.available(permits), 1)
        assert.strictEqual(yield* SharedQueue.size(queue), 1)
      }))

    it.live("permits a task kept stay taken when its worker retires or the pool closes; no release counts twice", () =>
      Effect.gen(function*() {
        const counter = yield* SharedSemaphore.make(5)
        yield* Effect.forEach([1, 2, 3, 4, 5], () => AcquireKeep({ permits: counter, n: 1 }), { discard: true }).pipe(
          Effect.provide(pool({ maxTasksPerWorker: 2 }))
        )
        assert.strictEqual(yield* SharedSemaphore.available(counter), 0, "five items consumed stay consumed")

        const bounded = yield* SharedSemaphore.make(1, { bounded: true })
        yield* Effect.gen(function*() {
          yield* AcquireKeep({ permits: bounded, n: 1 })
          yield* SharedSemaphore.release(bounded) // released by another owner: allowed
          yield* ReleaseOnly({ permits: bounded, n: 1 }).pipe(Effect.flip, Effect.map((e) => assert.strictEqual(e.reason._tag, "OverRelease")))
        }).pipe(Effect.provide(pool({ maxTasksPerWorker: 1 })))
        assert.strictEqual(yield* SharedSemaphore.available(bounded), 1)
        assert.isTrue(yield* SharedSemaphore.acquireIfAvailable(bounded))
        assert.isFalse(yield* SharedSemaphore.acquireIfAvailable(bounded))
      }))

    it.live.skipIf(!backend.isolated)(`permits held by a crashed task come back, never beyond the bound (R8)${crashes}`, () =>
      Effect.gen(function*() {
        const permits = yield* SharedSemaphore.make(3, { bounded: true })
        yield* Effect.gen(function*() {
          assert.isTrue(Exit.isFailure(yield* Effect.exit(AcquireAndDie({ permits, n: 2 }))))
        }).pipe(Effect.provide(pool()))
        assert.strictEqual(yield* SharedSemaphore.available(permits), 3)
      }))

    it.live("an object whose scope ended fails every operation in a worker with Closed", () =>
      Effect.gen(function*() {
        const o = yield* Effect.scoped(makeObjects)
        allClosed(yield* UseAll({ ...o }).pipe(Effect.provide(pool())))
      }))

    it.live("waits pending in a worker when the objects' scope ends are answered with Closed, at once", () =>
      Effect.gen(function*() {
        const started = yield* SharedArray.make("Int32", 1)
        const scope = yield* Scope.make()
        const o = yield* Scope.provide(makeObjects, scope)
        yield* SharedLock.acquire(o.lock)
        yield* Effect.forkChild(SharedRLock.acquire(o.rlock), { startImmediately: true })
        yield* until("the rlock is held", SharedRLock.isLocked(o.rlock))
        const result = yield* Effect.gen(function*() {
          const task = yield* Effect.forkChild(WaitOnAll({ objects: o, started }), { startImmediately: true })
          yield* until("the task started waiting", Effect.map(SharedArray.get(started, 0), (n) => n === 1))
          yield* until(
            "the queue waits are registered",
            Effect.map(Effect.all([SharedQueue.waiting(o.queue), SharedQueue.waiting(o.full)]), ([a, b]) => a.takers === 1 && b.offerers === 1)
          )
          yield* until("the condition wait is registered", Effect.map(SharedCondition.waiting(o.condition), (n) => n === 1))
          const t0 = performance.now()
          yield* Scope.close(scope, Exit.void)
          const reasons = yield* Fiber.join(task).pipe(Effect.timeout("5 seconds"))
          return { reasons, ms: performance.now() - t0 }
        }).pipe(Effect.provide(pool()))
        allClosed(result.reasons)
        assert.isBelow(result.ms, 500, `the waits were answered ${Math.round(result.ms)} ms after the close`)
      }))

    it.live("an interrupted lock waiter in a worker does not stall the hand-off to the next", () =>
      Effect.gen(function*() {
        const lock = yield* SharedLock.make
        const ms = yield* HandOffAfterInterrupt({ lock }).pipe(Effect.provide(pool()))
        assert.isBelow(ms, 200, `the next waiter got the lock ${Math.round(ms)} ms after the release`)
      }))

    it.live("a waiting take in a worker fails with Ended when the queue ends", () =>
      Effect.gen(function*() {
        const queue = yield* SharedQueue.make(Schema.Number)
        const failed = yield* Effect.gen(function*() {
          const task = yield* Effect.forkChild(TakeN({ queue, n: 1 }), { startImmediately: true })
          yield* until("the take waits", Effect.map(SharedQueue.waiting(queue), (w) => w.takers === 1))
          yield* SharedQueue.end(queue)
          return yield* Effect.flip(Fiber.join(task))
        }).pipe(Effect.provide(pool()))
        assert.isTrue(SharedError.isSharedError(failed) && failed.reason._tag === "Ended", String(failed))
      }))

    it.live("1,000 fibers of one worker waiting on a semaphore are served one release at a time (no herd)", () =>
      Effect.gen(function*() {
        const permits = yield* SharedSemaphore.make(1)
        const lock = yield* SharedLock.make
        const [semMs, lockMs] = yield* Effect.gen(function*() {
          yield* ManyLockWaiters({ lock, fibers: 100 }) // warm-up
          const lockMs = yield* ManyLockWaiters({ lock, fibers: 1000 })
          const semMs = yield* ManyWaiters({ permits, fibers: 1000 })
          return [semMs, lockMs] as const
        }).pipe(Effect.provide(pool()))
        // a herd makes this quadratic (tens of seconds on processes); the bound is loose on purpose: the
        // ratio is measured in bench/shared-costs.ts
        assert.isBelow(semMs, 4 * lockMs + 1000, `semaphore ${Math.round(semMs)} ms, lock ${Math.round(lockMs)} ms`)
        assert.strictEqual(yield* SharedSemaphore.available(permits), 1)
        assert.isFalse(yield* SharedLock.isLocked(lock))
      }))
  })
}
