/**
 * Shared objects under faults (R1, R8): interruption storms over waits on every object, crash storms
 * (workers dying while they wait and while they hold), pools that recycle every worker or idle them out
 * while queues, pipes and semaphores are in use, a scope closed under hundreds of pending waits, and
 * thousands of contenders. On threads and processes.
 *
 * Afterwards, always: locks free and their critical sections never overlapped (a counter written under
 * the lock equals one added atomically in the same section), permits conserved (all back, never more
 * than the bound held at once), the condition's stock equal to produced - consumed, nobody left waiting;
 * items: every item of the plain queue and the pipe delivered exactly once (under crashes: never twice,
 * and lost only to a crash that held it), every item of the joinable queue delivered at least once (twice
 * only after a crash). Every test is bounded (`withPool`'s deadline); nothing outlives the pool.
 *
 * Sizes: SHARED_STORM_ROUNDS moves per storm (default 300), SHARED_CRASH_TASKS tasks per crash storm
 * (default 400, 1% of them crash), SHARED_ITEMS items per queue in the storms (default 400),
 * SHARED_RECYCLE_ITEMS items per queue while recycling (default 40: a worker start per 10), SHARED_CONTENDERS
 * fibers per worker (default 1,000), SHARED_SEED.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Option, Schedule, Schema, Scope } from "effect"
import {
  SharedArray,
  SharedBarrier,
  SharedCondition,
  SharedError,
  SharedEvent,
  SharedLock,
  SharedPipe,
  SharedQueue,
  SharedRLock,
  SharedSemaphore,
  WorkerError,
  WorkerPool
} from "../../src/index.ts"
import {
  C,
  Contenders,
  COUNTER_CELLS,
  type Crash,
  type Objects,
  Operate,
  operate,
  type OpKind,
  Produce,
  seenBase,
  WaitEverywhere
} from "../fixtures/shared-faults.ts"
import { assertNoLeaks, childWatcher, envInt, osThreads, prng, report, statsUntil, withPool } from "./helpers.ts"

const ROUNDS = envInt("SHARED_STORM_ROUNDS", 300)
const CRASH_TASKS = envInt("SHARED_CRASH_TASKS", 400)
const ITEMS = envInt("SHARED_ITEMS", 400)
const RECYCLE_ITEMS = envInt("SHARED_RECYCLE_ITEMS", 40)
const CONTENDERS = envInt("SHARED_CONTENDERS", 1_000)
const SEED = envInt("SHARED_SEED", 1_414)
const PERMITS = 3

/** Every object, in the current scope; the pipe's `left` end stays with the parent. */
const makeObjects = (items: number, parties = 3) =>
  Effect.gen(function*() {
    const { left, right } = yield* SharedPipe.make(Schema.Number, Schema.Number)
    const objects: Objects = {
      lock: yield* SharedLock.make,
      rlock: yield* SharedRLock.make,
      permits: yield* SharedSemaphore.make(PERMITS, { bounded: true }),
      event: yield* SharedEvent.make,
      condition: yield* SharedCondition.make(),
      barrier: yield* SharedBarrier.make(parties),
      queue: yield* SharedQueue.make(Schema.Number),
      joinable: yield* SharedQueue.make(Schema.Number, { joinable: true }),
      pipe: right,
      counters: yield* SharedArray.make("Int32", COUNTER_CELLS),
      seen: yield* SharedArray.make("Int32", 3 * Math.max(items, 1))
    }
    return { objects, left }
  })

const fill = (o: Objects, left: SharedPipe.SharedPipe<number, number>, from: number, to: number) =>
  Effect.gen(function*() {
    for (let n = from; n < to; n++) {
      yield* SharedQueue.offer(o.queue, n)
      yield* SharedQueue.offer(o.joinable, n)
      yield* SharedPipe.send(left, n)
    }
  })

/** Takes what is left (in the parent) and records it, so that every item offered is accounted for. */
const drain = (o: Objects, items: number) =>
  Effect.gen(function*() {
    const base = seenBase(items)
    const record = (at: number) => (item: Option.Option<number>) =>
      Option.isSome(item) ? Effect.as(SharedArray.add(o.seen, at + item.value, 1), true) : Effect.succeed(false)
    while (yield* Effect.flatMap(SharedQueue.takeIfAvailable(o.queue), record(base.take)));
    while (yield* Effect.flatMap(SharedQueue.takeIfAvailable(o.joinable), record(base.join)));
    while (yield* Effect.flatMap(SharedPipe.receiveIfAvailable(o.pipe), record(base.receive)));
  })

interface Checks {
  /** Crashes injected: the only way an item of a plain queue may be missing, or a joinable one repeated. */
  readonly crashes: number
}

/** The invariants every suite ends with (see the module comment); returns the figures. */
const invariants = (o: Objects, items: number, { crashes }: Checks) =>
  Effect.gen(function*() {
    const c = yield* SharedArray.toArray(o.counters)
    assert.isFalse(yield* SharedLock.isLocked(o.lock), "the lock is free")
    assert.isFalse(yield* SharedRLock.isLocked(o.rlock), "the re-entrant lock is free")
    // two overlapping sections lose an increment of the plain counter (read < done); a crash between its
    // two writes leaves read one ahead (read > done), at most once per crash
    for (const [read, done, what] of [[C.lockRead, C.lockDone, "lock"], [C.rlockRead, C.rlockDone, "rlock"]] as const) {
      assert.isAtLeast(c[read]!, c[done]!, `${what}: no two critical sections overlapped`)
      assert.isAtMost(c[read]! - c[done]!, crashes, `${what}: only a crash stops a section between its two writes`)
    }
    assert.strictEqual(yield* SharedSemaphore.available(o.permits), PERMITS, "every permit is back")
    assert.isAtMost(c[C.permitsPeak]!, PERMITS + crashes, "never more holders than permits")
    // (a crash between a section's two writes puts them one apart, at most once per crash)
    assert.isAtMost(Math.abs(c[C.stock]! - (c[C.produced]! - c[C.consumed]!)), crashes, "condition: stock = produced - consumed")
    assert.isAtLeast(c[C.stock]!, 0)
    assert.strictEqual(yield* SharedCondition.waiting(o.condition), 0, "nobody waits on the condition")
    assert.strictEqual(yield* SharedBarrier.waiting(o.barrier), 0, "nobody waits at the barrier")
    assert.deepStrictEqual(yield* SharedQueue.waiting(o.queue), { takers: 0, offerers: 0 })
    yield* drain(o, items)
    const seen = yield* SharedArray.toArray(o.seen)
    const base = seenBase(items)
    const tally = (from: number) => {
      let missing = 0
      let twice = 0
      for (let i = 0; i < items; i++) {
        const k = seen[from + i]!
        if (k === 0) missing++
        if (k > 1) twice += k - 1
      }
      return { missing, twice }
    }
    const plain = tally(base.take)
    const pipe = tally(base.receive)
    const joinable = tally(base.join)
    assert.strictEqual(plain.twice, 0, "plain queue: no item delivered twice")
    assert.strictEqual(pipe.twice, 0, "pipe: no message delivered twice")
    assert.strictEqual(joinable.missing, 0, "joinable queue: no item lost")
    if (crashes === 0) {
      assert.strictEqual(plain.missing, 0, "plain queue: every item delivered")
      assert.strictEqual(pipe.missing, 0, "pipe: every message delivered")
      assert.strictEqual(joinable.twice, 0, "joinable queue: exactly once without crashes")
    } else {
      assert.isAtMost(plain.missing, crashes, "plain queue: items lost only to crashes")
      assert.isAtMost(pipe.missing, crashes, "pipe: messages lost only to crashes")
      assert.isAtMost(joinable.twice, crashes, "joinable queue: repeated only after crashes")
    }
    return {
      lockSections: c[C.lockDone],
      rlockSections: c[C.rlockDone],
      permitsPeak: c[C.permitsPeak],
      produced: c[C.produced],
      consumed: c[C.consumed],
      items,
      plainLost: plain.missing,
      pipeLost: pipe.missing,
      joinableRepeated: joinable.twice
    }
  })

const kinds: ReadonlyArray<readonly [OpKind, number]> = [
  ["lock", 3],
  ["rlock", 2],
  ["permits", 3],
  ["event", 1],
  ["condition", 2],
  ["produce", 2],
  ["barrier", 1],
  ["take", 2],
  ["join", 2],
  ["receive", 2]
]
const pickKind = (r: ReturnType<typeof prng>): OpKind => {
  const total = kinds.reduce((s, [, w]) => s + w, 0)
  let x = r.next() * total
  for (const [k, w] of kinds) if ((x -= w) < 0) return k
  return "lock"
}

const poolOf = (backend: "threads" | "processes", options?: WorkerPool.PoolOptions) =>
  (backend === "threads" ? WorkerPool.layerThreads : WorkerPool.layerProcesses)({ size: 3, interruptGrace: "500 millis", ...options })

/**
 * `withPool` for a pool whose workers idle out: at rest it has no worker at all (instead of `size` ready
 * ones). Same bound, same leak checks.
 */
const withIdlingPool = <A, E>(label: string, layer: ReturnType<typeof poolOf>, body: Effect.Effect<A, E, WorkerPool.WorkerPool>) =>
  Effect.gen(function*() {
    const threadsBefore = osThreads()
    const watcher = childWatcher()
    const [result, stats] = yield* Effect.gen(function*() {
      const result = yield* body
      const stats = yield* statsUntil((s) => s.workers === 0 && s.running === 0 && s.queued === 0 && s.waiting === 0 && s.busy === 0)
      return [result, stats] as const
    }).pipe(
      Effect.timeoutOrElse({ duration: "600 seconds", orElse: () => Effect.die(new Error(`${label}: not done within 600 s (a hang)`)) }),
      Effect.provide(layer),
      Effect.ensuring(Effect.sync(() => watcher.stop()))
    )
    yield* assertNoLeaks(threadsBefore, watcher.seen)
    return { result, stats }
  })

/** Waits for fibers, within a bound (a hang fails the test). */
const joinAll = (fibers: ReadonlyArray<Fiber.Fiber<unknown, unknown>>, what: string) =>
  Effect.forEach(fibers, (f) => Fiber.await(f)).pipe(
    Effect.timeoutOrElse({ duration: "60 seconds", orElse: () => Effect.die(new Error(`${what}: not done within 60 s (a hang)`)) })
  )

for (const backend of ["threads", "processes"] as const) {
  describe(`shared objects under faults on ${backend}`, () => {
    it.live(`interruption storm: ${ROUNDS} moves over waits on every object, in workers and in the parent`, () =>
      Effect.scoped(Effect.gen(function*() {
        const { left, objects: o } = yield* makeObjects(ITEMS)
        yield* fill(o, left, 0, ITEMS)
        let interrupts = 0
        let started = 0
        const { result } = yield* withPool(
          `shared interruption storm, ${backend}`,
          poolOf(backend),
          Effect.gen(function*() {
            const r = prng(SEED)
            const live: Array<Fiber.Fiber<unknown, unknown>> = []
            const all: Array<Fiber.Fiber<unknown, unknown>> = []
            for (let round = 0; round < ROUNDS; round++) {
              const move = r.next()
              if (move < 0.25 && live.length > 0) {
                const i = r.int(0, live.length - 1)
                const victim = live[i]!
                live.splice(i, 1)
                interrupts++
                yield* Fiber.interrupt(victim)
              } else if (move < 0.3) {
                yield* r.next() < 0.5 ? SharedEvent.set(o.event) : SharedEvent.clear(o.event)
              } else if (move < 0.32) {
                yield* SharedBarrier.reset(o.barrier)
              } else {
                const kind = pickKind(r)
                const ms = r.int(0, 8)
                const op = r.next() < 0.6
                  ? Operate({ objects: o, kind, ms, items: ITEMS, crash: "" })
                  : operate(o, kind, ms, ITEMS)
                const fiber = yield* Effect.forkChild(op, { startImmediately: true })
                started++
                live.push(fiber)
                all.push(fiber)
              }
              yield* Effect.sleep(r.int(0, 3)) // the storm's own pauses: they decide when interrupts land
            }
            yield* SharedEvent.set(o.event)
            yield* SharedBarrier.abort(o.barrier)
            const exits = yield* joinAll(all, "storm fibers")
            // an operation ends with its value, its own timeout, or an interruption: never another error
            const unexpected = exits.filter((e) => Exit.isFailure(e) && !Cause.hasInterruptsOnly(e.cause))
            assert.deepStrictEqual(unexpected.slice(0, 3).map((e) => String(e)), [], "no operation failed")
            const stats = yield* WorkerPool.stats
            assert.strictEqual(stats.crashed + stats.killed, 0, "no worker crashed or was killed")
          })
        )
        void result
        const figures = yield* invariants(o, ITEMS, { crashes: 0 })
        report(`shared interruption storm, ${backend}`, { rounds: ROUNDS, started, interrupts, ...figures })
      })))

    it.live(`crash storm: ${CRASH_TASKS} operations, 1% of them end their worker while holding or waiting (R8)`, () =>
      Effect.scoped(Effect.gen(function*() {
        const { left, objects: o } = yield* makeObjects(ITEMS)
        yield* fill(o, left, 0, ITEMS)
        const r = prng(SEED + 1)
        const plan = Array.from({ length: CRASH_TASKS }, () => {
          const kind = pickKind(r)
          const crash: Crash = r.next() < 0.01 ? (r.next() < 0.5 ? "holding" : "waiting") : ""
          return { kind, crash, ms: r.int(0, 5) }
        })
        // at least one crash of each kind, whatever the seed
        plan[0] = { kind: "lock", crash: "holding", ms: 2 }
        plan[1] = { kind: "join", crash: "holding", ms: 2 }
        plan[2] = { kind: "permits", crash: "waiting", ms: 2 }
        const { result: outcomes, stats } = yield* withPool(
          `shared crash storm, ${backend}`,
          poolOf(backend),
          Effect.andThen(
            SharedEvent.set(o.event),
            Effect.forEach(plan, (p) => Effect.exit(Operate({ objects: o, kind: p.kind, ms: p.ms, items: ITEMS, crash: p.crash })), {
              concurrency: 6
            })
          )
        )
        const crashes = (yield* SharedArray.get(o.counters, C.crashes))
        const failed = outcomes.filter(Exit.isFailure)
        for (const e of failed) {
          const err = Cause.findErrorOption(e.cause)
          assert.isTrue(Option.isSome(err) && err.value instanceof WorkerError.WorkerError, `only crashes fail: ${String(e)}`)
        }
        assert.isAtLeast(crashes, 3)
        assert.strictEqual(stats.crashed, crashes, "every injected crash, and only those, crashed a worker")
        const figures = yield* invariants(o, ITEMS, { crashes })
        report(`shared crash storm, ${backend}`, { tasks: CRASH_TASKS, crashes, failed: failed.length, ...figures })
      })))

    for (const mode of ["maxTasksPerWorker: 1", "idleTimeout: 10 ms"] as const) {
      it.live(`queues, pipes, semaphores and locks in use while workers are recycled (${mode}): exactly once, nothing given back`, () =>
        Effect.scoped(Effect.gen(function*() {
          const items = RECYCLE_ITEMS
          const { left, objects: o } = yield* makeObjects(items)
          const r = prng(SEED + 2)
          const idle = mode !== "maxTasksPerWorker: 1"
          const options = idle ? { idleTimeout: "10 millis" as const } : { maxTasksPerWorker: 1 }
          const rounds = Math.ceil(items / 10)
          const { stats } = yield* (idle ? withIdlingPool : withPool)(
            `shared objects while recycling (${mode}), ${backend}`,
            poolOf(backend, options),
            Effect.gen(function*() {
              for (let round = 0; round < rounds; round++) {
                // a producer in a worker (that retires after it, or idles out), consumers and holders alongside
                const from = round * 10
                const to = Math.min(items, from + 10)
                yield* Effect.all([
                  Produce({ objects: o, from, to, pipeEnd: left }),
                  ...(["take", "join", "receive"] as const).map((kind) =>
                    Operate({ objects: o, kind, ms: 0, items, crash: "", times: to - from })
                  ),
                  Operate({ objects: o, kind: r.next() < 0.5 ? "permits" : "lock", ms: 1, items, crash: "", times: 3 })
                ], { concurrency: "unbounded", discard: true })
                // idle mode: every worker idles out before the next round (the pool's own state, polled)
                if (idle) yield* statsUntil((s) => s.workers === 0)
              }
            })
          )
          assert.strictEqual(stats.crashed, 0)
          assert.isAtLeast(stats.spawned, idle ? 2 * rounds : 5 * rounds, "workers were replaced")
          const figures = yield* invariants(o, items, { crashes: 0 })
          report(`shared objects while recycling (${mode}), ${backend}`, { spawned: stats.spawned, ...figures })
        })))
    }

    it.live("a scope closed under hundreds of pending waits answers every one with Closed, at once", () =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const { objects: o } = yield* Scope.provide(makeObjects(1, 10_000), scope)
        const waitKinds: ReadonlyArray<OpKind> = ["lock", "rlock", "permits", "event", "condition", "barrier", "take", "join", "receive"]
        const fibersPerKind = 40
        const { result } = yield* withPool(
          `shared scope close under waits, ${backend}`,
          poolOf(backend, { size: 2 }),
          Effect.gen(function*() {
            // every wait blocks: the parent holds the locks and the permits; nothing is set, offered or notified
            yield* SharedLock.acquire(o.lock)
            yield* Effect.forkChild(Effect.andThen(SharedRLock.acquire(o.rlock), Effect.never), { startImmediately: true })
            yield* SharedSemaphore.acquire(o.permits, PERMITS)
            const never = 3_600_000
            const fibers: Array<Fiber.Fiber<unknown, unknown>> = []
            for (const kind of waitKinds) {
              for (let k = 0; k < fibersPerKind; k++) fibers.push(yield* Effect.forkChild(operate(o, kind, 0, 1, "", never), { startImmediately: true }))
            }
            // the same in both workers, many fibers each (the barrier breaks on any interrupt: keep it to the parent)
            const workerKinds = waitKinds.filter((k) => k !== "barrier")
            const workers = yield* Effect.forEach(
              [1, 2],
              () => Effect.forkChild(WaitEverywhere({ objects: o, kinds: workerKinds, fibers: fibersPerKind, waitMs: never }), { startImmediately: true })
            )
            // every wait that the parent can count is registered (the others wait alongside them)
            yield* Effect.all([
              SharedCondition.waiting(o.condition),
              SharedBarrier.waiting(o.barrier),
              Effect.map(SharedQueue.waiting(o.queue), (w) => w.takers),
              Effect.map(SharedQueue.waiting(o.joinable), (w) => w.takers)
            ]).pipe(
              Effect.repeat({
                until: ([cond, barrier, plain, joinable]) =>
                  cond === 3 * fibersPerKind && barrier === fibersPerKind && plain === 3 * fibersPerKind && joinable === 3 * fibersPerKind,
                schedule: Schedule.spaced("5 millis")
              }),
              Effect.timeoutOrElse({ duration: "30 seconds", orElse: () => Effect.die(new Error("the waits never all registered")) })
            )
            const t0 = performance.now()
            yield* Scope.close(scope, Exit.void)
            const parentExits = yield* joinAll(fibers, "parent waiters")
            const workerResults = yield* Effect.forEach(workers, Fiber.join)
            const ms = performance.now() - t0
            const closed = (e: Exit.Exit<unknown, unknown>) => {
              const err = Exit.isFailure(e) ? Cause.findErrorOption(e.cause) : Option.none()
              return Option.isSome(err) && SharedError.isSharedError(err.value) && err.value.reason._tag === "Closed"
            }
            assert.deepStrictEqual(parentExits.filter((e) => !closed(e)).length, 0, "every parent wait failed with Closed")
            for (const w of workerResults) assert.strictEqual(w.closed, w.waits, "every worker's waits failed with Closed")
            assert.isBelow(ms, 1_000, `answered ${Math.round(ms)} ms after the close`)
            return { waits: fibers.length + workerResults.reduce((n, w) => n + w.waits, 0), answeredWithinMs: Math.round(ms) }
          })
        )
        report(`shared scope close under waits, ${backend}`, result)
      }))

    it.live(`${CONTENDERS} contenders per worker on a lock, a re-entrant lock and a semaphore`, () =>
      Effect.scoped(Effect.gen(function*() {
        const { objects: o } = yield* makeObjects(0)
        const workers = 3
        const { result } = yield* withPool(
          `shared contenders, ${backend}`,
          poolOf(backend),
          Effect.gen(function*() {
            const t0 = performance.now()
            for (const kind of ["lock", "rlock", "permits"] as const) {
              yield* Effect.all([
                Effect.forEach(Array.from({ length: workers }), () => Contenders({ objects: o, kind, fibers: CONTENDERS, ms: 0, items: 1, waitMs: 60_000 }), {
                  concurrency: "unbounded",
                  discard: true
                }),
                Effect.forEach(Array.from({ length: CONTENDERS }), () => operate(o, kind, 0, 1), { concurrency: "unbounded", discard: true })
              ], { concurrency: "unbounded" })
            }
            return { ms: Math.round(performance.now() - t0) }
          })
        )
        const c = yield* SharedArray.toArray(o.counters)
        const total = (workers + 1) * CONTENDERS
        assert.strictEqual(c[C.lockDone], total)
        assert.strictEqual(c[C.rlockDone], total)
        const figures = yield* invariants(o, 0, { crashes: 0 })
        report(`shared contenders, ${backend}`, { contenders: total, ...result, ...figures })
      })))
  })
}
