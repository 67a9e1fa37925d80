/**
 * The worker runtime's order of jobs, tested on `makeWorkerRuntime` alone with a fake transport: the test
 * delivers every message and reads every reply, so it sees exactly when a job starts.
 *
 * A worker whose transport can read its waiting messages synchronously (`poll`, threads) runs a job that
 * ended synchronously and the next one back to back, without an event-loop turn; one without (processes,
 * in-process) waits for `setImmediate` between two jobs. Either way an `Interrupt` for a queued job that
 * arrives while the job before it runs stops it before it starts (R2).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { FromWorker, ToWorker, WireJob, WireOutcome } from "../../src/internal/protocol.ts"
import { makeWorkerRuntime } from "../../src/internal/worker/runtime.ts"
import * as Task from "../../src/Task.ts"

/** Payloads of the handler calls, in order; `during` runs inside each call (a message "arrives"). */
const started: Array<number> = []
let during: ((x: number) => void) | undefined
/** Milliseconds each call spins for (a synchronous handler that takes time). */
let spinMillis = 0

/** Exported: the worker finds a task among its module's exports. */
export const Step = Task.make("Step", {
  module: import.meta.url,
  payload: Schema.Number,
  success: Schema.Number,
  run: (x) => {
    started.push(x)
    during?.(x)
    const end = performance.now() + spinMillis
    while (performance.now() < end) {
      // the handler's own synchronous work
    }
    return Effect.sync(() => x * 2)
  }
})

const job = (id: number, x: number): WireJob => ({
  id,
  module: Step.module,
  name: Step.name,
  payloads: [x],
  index: 0,
  attempt: 1,
  seed: 1,
  chunk: false,
  notifyStart: false,
  collect: false
})

/** A runtime over a fake transport; `port` holds messages that arrived and were not delivered yet. */
const harness = (options: { readonly poll: boolean }) => {
  const sent: Array<FromWorker> = []
  const port: Array<ToWorker> = []
  const runtime = makeWorkerRuntime({
    local: true,
    send: (message) => void sent.push(message),
    ...(options.poll ? { poll: () => deliverAll() } : {})
  })
  const deliverAll = (): void => {
    while (port.length > 0) runtime.handle(port.shift()!)
  }
  const outcomes = (): Map<number, WireOutcome | undefined> => {
    const out = new Map<number, WireOutcome | undefined>()
    for (const m of sent) if (m._tag === "Done") for (const r of m.replies) out.set(r.id, r.outcome)
    return out
  }
  /** Waits (event-loop turns, with a deadline) until job `id` has replied. */
  const replied = (id: number) =>
    Effect.promise(async () => {
      const deadline = Date.now() + 5_000
      while (!outcomes().has(id)) {
        if (Date.now() > deadline) throw new Error(`job ${id} never replied`)
        await new Promise((resolve) => setImmediate(resolve))
      }
    })
  return { sent, port, runtime, outcomes, replied }
}

/** Runs one job so that the task is loaded (the first job of a task waits for its module). */
const warm = (h: ReturnType<typeof harness>) =>
  Effect.gen(function*() {
    started.length = 0
    during = undefined
    spinMillis = 0
    h.runtime.handle({ _tag: "Run", jobs: [job(1, 0)] })
    yield* h.replied(1)
    assert.strictEqual(h.outcomes().get(1)?._tag, "Success")
    started.length = 0
  })

const tags = (outcomes: Map<number, WireOutcome | undefined>, ids: ReadonlyArray<number>) =>
  ids.map((id) => outcomes.get(id)?._tag ?? "none")

describe("worker runtime: jobs one after another", () => {
  it.live("with poll, queued jobs run back to back; an Interrupt that arrives during a job stops the next before it starts (R2)", () =>
    Effect.gen(function*() {
      const h = harness({ poll: true })
      yield* warm(h)
      // the Interrupt for job 3 arrives while job 2 runs: it waits in the port, as a real message would
      during = (x) => {
        if (x === 20) h.port.push({ _tag: "Interrupt", id: 3 })
      }
      h.runtime.handle({ _tag: "Run", jobs: [job(2, 20), job(3, 30), job(4, 40)] })
      // all three answered before handle returned: no event-loop turn between the jobs
      assert.deepStrictEqual(tags(h.outcomes(), [2, 3, 4]), ["Success", "Interrupted", "Success"])
      assert.deepStrictEqual(started, [20, 40], "job 3 never started")
      const values = [2, 4].map((id) => {
        const o = h.outcomes().get(id)
        return o?._tag === "Success" ? o.value : undefined
      })
      assert.deepStrictEqual(values, [40, 80])
    }))

  it.live("without poll, the next job waits for an event-loop turn, and an Interrupt delivered meanwhile stops it (R2)", () =>
    Effect.gen(function*() {
      const h = harness({ poll: false })
      yield* warm(h)
      h.runtime.handle({ _tag: "Run", jobs: [job(2, 20), job(3, 30), job(4, 40)] })
      // only the first job ran synchronously: the others wait for setImmediate
      assert.deepStrictEqual(tags(h.outcomes(), [2, 3, 4]), ["Success", "none", "none"])
      assert.deepStrictEqual(started, [20])
      // the port's next event, before that turn: the Interrupt for job 3
      h.runtime.handle({ _tag: "Interrupt", id: 3 })
      yield* h.replied(4)
      assert.deepStrictEqual(tags(h.outcomes(), [2, 3, 4]), ["Success", "Interrupted", "Success"])
      assert.deepStrictEqual(started, [20, 40], "job 3 never started")
    }))

  it.live("with poll, jobs run back to back for a slice at most, then the event loop gets a turn", () =>
    Effect.gen(function*() {
      const h = harness({ poll: true })
      yield* warm(h)
      // each job takes 3 ms: the slice (4 ms) ends after the second
      spinMillis = 3
      h.runtime.handle({ _tag: "Run", jobs: [job(2, 1), job(3, 2), job(4, 3), job(5, 4)] })
      assert.deepStrictEqual(started, [1, 2], "the loop yielded once its slice was spent")
      yield* h.replied(5)
      spinMillis = 0
      assert.deepStrictEqual(started, [1, 2, 3, 4])
      assert.deepStrictEqual(tags(h.outcomes(), [2, 3, 4, 5]), ["Success", "Success", "Success", "Success"])
    }))
})
