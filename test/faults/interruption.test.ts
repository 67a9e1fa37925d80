/**
 * Interruption storms (R1, R2, R3): a seeded PRNG starts single tasks (async naps, synchronous grinds,
 * retried tasks, submitted handles) and whole batches (`map`, `imapUnordered`, `Effect.forEach`), and
 * interrupts random ones at random moments, with random small sleeps in between. The sleeps ARE the
 * storm (they decide when interrupts land), not synchronization: every check afterwards polls the pool's
 * own state or the OS.
 *
 * Afterwards: every fiber that was not interrupted succeeded with the right value, every interrupted one
 * either finished first or ended interrupted (never another error); the pool is back at rest (no job
 * running, queued or waiting, every worker up); its counters still count exactly; and after the pool
 * closed no worker thread or process is left.
 *
 * Sizes: STORM_ROUNDS moves per storm (default 300), STORM_SEED.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Stream } from "effect"
import { AsyncResult, WorkerPool } from "../../src/index.ts"
import { Grind, Nap } from "../fixtures/faults.ts"
import { Double } from "../fixtures/tasks.ts"
import { envInt, prng, statsUntil, withPool } from "./helpers.ts"

const STORM_ROUNDS = envInt("STORM_ROUNDS", 300)
const STORM_SEED = envInt("STORM_SEED", 7_071)

interface Started {
  readonly id: number
  readonly kind: string
  readonly fiber: Fiber.Fiber<unknown, unknown>
  readonly expected: unknown
  interrupted: boolean
}

/** One storm on the pool in context; returns what happened, for the checks and the figures. */
const storm = (seed: number, rounds: number) =>
  Effect.gen(function*() {
    const r = prng(seed)
    const started: Array<Started> = []
    let nextId = 0
    const start = (kind: string, effect: Effect.Effect<unknown, unknown, WorkerPool.WorkerPool>, expected: unknown) =>
      Effect.gen(function*() {
        const fiber = yield* Effect.forkChild(effect, { startImmediately: true })
        started.push({ id: nextId++, kind, fiber, expected, interrupted: false })
      })
    const napItem = (n: number) => ({ n, ms: r.int(0, 30) })
    const grindItem = (n: number) => ({ n, ms: r.next() < 0.25 ? r.int(60, 200) : r.int(0, 20) })
    let submittedCancelled = 0

    for (let round = 0; round < rounds; round++) {
      const move = r.next()
      const n = r.int(0, 1_000_000)
      if (move < 0.2) {
        yield* start("nap", Nap(napItem(n)), n)
      } else if (move < 0.3) {
        // synchronous: an interrupt cannot reach it; past interruptGrace its worker is killed (R2)
        yield* start("grind", Grind(grindItem(n)), n)
      } else if (move < 0.35) {
        yield* start("nap+retry", Nap(napItem(n), { retry: 2 }), n)
      } else if (move < 0.4) {
        yield* start("double", Double(n), 2 * n)
      } else if (move < 0.5) {
        const items = Array.from({ length: r.int(1, 200) }, (_, k) => n + k)
        yield* start("map", WorkerPool.map(Double, items), items.map((x) => 2 * x))
      } else if (move < 0.55) {
        const items = Array.from({ length: r.int(1, 20) }, (_, k) => napItem(n + k))
        yield* start("map-naps", WorkerPool.map(Nap, items, { chunkSize: r.int(1, 4) }), items.map((i) => i.n))
      } else if (move < 0.6) {
        const items = Array.from({ length: r.int(1, 30) }, (_, k) => n + k)
        const unordered = WorkerPool.imapUnordered(Double, items).pipe(
          Stream.runCollect,
          Effect.map((xs) => [...xs].sort((a, b) => a - b))
        )
        yield* start("imapUnordered", unordered, items.map((x) => 2 * x))
      } else if (move < 0.65) {
        const items = Array.from({ length: r.int(1, 12) }, (_, k) => (k % 3 === 0 ? grindItem(n + k) : napItem(n + k)))
        const singles = Effect.forEach(items, (i, k) => (k % 3 === 0 ? Grind(i) : Nap(i)), { concurrency: r.int(1, 6) })
        yield* start("forEach", singles, items.map((i) => i.n))
      } else if (move < 0.7) {
        // submit + cancel: the handle's task is interrupted in its worker, and cancel waits for it
        yield* start(
          "submit",
          Effect.scoped(Effect.gen(function*() {
            const handle = yield* WorkerPool.submit(Nap, napItem(n))
            if (r.next() < 0.5) {
              yield* AsyncResult.cancel(handle)
              submittedCancelled++
              return n
            }
            return yield* AsyncResult.get(handle)
          })),
          n
        )
      } else if (move < 0.9) {
        const live = started.filter((s) => !s.interrupted)
        if (live.length > 0) {
          const victim = r.pick(live)
          victim.interrupted = true
          // half the time wait for the interrupt to land (R2: returns once the work stopped), half not
          if (r.next() < 0.5) yield* Fiber.interrupt(victim.fiber)
          else yield* Effect.forkChild(Fiber.interrupt(victim.fiber), { startImmediately: true })
        }
      } else {
        yield* Effect.sleep(r.int(0, 15))
      }
      if (r.next() < 0.3) yield* Effect.sleep(r.int(0, 5))
    }

    // the end of the storm: every fiber ends (joined, or interrupted above)
    const problems: Array<string> = []
    let succeeded = 0
    let interruptedEnded = 0
    for (const s of started) {
      const exit = yield* Fiber.await(s.fiber)
      if (Exit.isSuccess(exit)) {
        succeeded++
        try {
          assert.deepStrictEqual(exit.value, s.expected)
        } catch {
          problems.push(`${s.kind} #${s.id}: wrong value ${JSON.stringify(exit.value)?.slice(0, 80)}`)
        }
      } else if (s.interrupted && Cause.hasInterruptsOnly(exit.cause)) {
        interruptedEnded++
      } else {
        problems.push(`${s.kind} #${s.id}${s.interrupted ? " (interrupted)" : ""}: ${Cause.pretty(exit.cause).slice(0, 300)}`)
      }
    }
    assert.deepStrictEqual(problems.slice(0, 10), [], `${problems.length} problems`)
    return {
      fibers: started.length,
      interrupts: started.filter((s) => s.interrupted).length,
      succeeded,
      interruptedEnded,
      submittedCancelled
    }
  })

/** After a storm: the counters still count exactly (a batch of k items adds exactly k completed). */
const countsStillExact = Effect.gen(function*() {
  const before = yield* statsUntil((s) => s.running === 0 && s.queued === 0 && s.waiting === 0)
  const items = Array.from({ length: 1000 }, (_, i) => i)
  assert.deepStrictEqual(yield* WorkerPool.map(Double, items), items.map((i) => 2 * i))
  const after = yield* WorkerPool.stats
  assert.strictEqual(after.completed - before.completed, 1000, "completed counts each item once")
  assert.strictEqual(after.failed, before.failed, "no failure counted for a clean batch")
})

for (const backend of ["threads", "processes"] as const) {
  const make = backend === "threads" ? WorkerPool.layerThreads : WorkerPool.layerProcesses
  for (const maxQueued of [undefined, 4]) {
    const label = `${backend}${maxQueued === undefined ? "" : `, maxQueued ${maxQueued}`}`
    describe(`interruption storm on ${label}`, () => {
      it.live(`${STORM_ROUNDS} random starts and interrupts leave nothing behind (R1, R2, R3)`, () =>
        Effect.gen(function*() {
          const seed = STORM_SEED + (backend === "threads" ? 0 : 1000) + (maxQueued ?? 0)
          let figures: Record<string, unknown> = {}
          const { stats } = yield* withPool(
            `storm ${label}`,
            make({ size: 2, interruptGrace: "50 millis", ...(maxQueued === undefined ? {} : { maxQueued }) }),
            Effect.gen(function*() {
              figures = yield* storm(seed, STORM_ROUNDS)
              const s = yield* statsUntil((s) => s.running === 0 && s.queued === 0 && s.waiting === 0 && s.workers === s.size && s.ready === s.size)
              assert.strictEqual(s.crashed, 0, "interruption never looks like a crash")
              yield* countsStillExact
            }),
            () => figures
          )
          assert.strictEqual(stats.workers, 2)
        }))
    })
  }
}
