/**
 * The engine's own rules, tested on `PoolCore` alone with a fake backend: no real worker, every message
 * and every exit made by the test, time moved by fake timers. Each test breaks if its rule (R1–R4,
 * timeouts, recycling, close) breaks in `core.ts`, whatever the layers above it do.
 */
import { afterEach, assert, beforeEach, describe, it, vi } from "@effect/vitest"
import { Result, Schema } from "effect"
import type { Backend, WorkerEvents, WorkerHandle } from "../../src/internal/parent/backend.ts"
import { type Job, type JobResult, PoolCore } from "../../src/internal/parent/core.ts"
import { type PoolOptions } from "../../src/WorkerPool.ts"
import { resolveOptions } from "../../src/internal/options.ts"
import type { ToWorker, WireJob, WireOutcome } from "../../src/internal/protocol.ts"

const task = { name: "Fake", module: "file:///fake.ts", payload: Schema.Number, success: Schema.Number, error: undefined }

/** A worker the test plays: it records what the parent sends, and answers only when told to. */
class FakeWorker {
  readonly sent: Array<ToWorker> = []
  killed = false
  readonly events: WorkerEvents
  readonly handle: WorkerHandle

  constructor(events: WorkerEvents) {
    this.events = events
    this.handle = {
      send: (message) => void this.sent.push(message),
      kill: () => void (this.killed = true)
    }
  }

  ready(): void {
    this.events.onMessage({ _tag: "Ready" })
  }

  /** The ids of the jobs sent to this worker, in order. */
  jobs(): Array<number> {
    return this.sent.flatMap((m) => m._tag === "Run" ? m.jobs.map((j: WireJob) => j.id) : [])
  }

  /** How many Run messages it got. */
  runMessages(): number {
    return this.sent.filter((m) => m._tag === "Run").length
  }

  interrupts(): Array<number> {
    return this.sent.flatMap((m) => m._tag === "Interrupt" ? [m.id] : [])
  }

  closes(): number {
    return this.sent.filter((m) => m._tag === "Close").length
  }

  started(id: number): void {
    this.events.onMessage({ _tag: "Started", id })
  }

  reply(id: number, outcome: WireOutcome, elapsed = 5): void {
    this.events.onMessage({ _tag: "Done", replies: [{ id, elapsed, outcome, values: undefined }] })
  }

  exit(code: number | null, signal: string | null = null, cursor?: { readonly job: number; readonly item: number }): void {
    this.events.onExit({ code, signal, error: undefined, cursor })
  }
}

const make = (options: PoolOptions) => {
  const workers: Array<FakeWorker> = []
  const backend: Backend = {
    name: "threads",
    spawn: (_boot, _options, events) => {
      const w = new FakeWorker(events)
      workers.push(w)
      return w.handle
    }
  }
  const core = new PoolCore(backend, Result.getOrThrow(resolveOptions({ interruptGrace: 100, ...options })))
  core.start()
  return { core, workers }
}

/** A pool whose first worker is ready. */
const started = (options: PoolOptions) => {
  const pool = make(options)
  const w = pool.workers[0]!
  w.ready()
  return { ...pool, w }
}

/** A submitted job and what became of it. */
const submit = (core: PoolCore, fields: { readonly timeoutMillis?: number; readonly items?: number } = {}) => {
  const items = fields.items ?? 1
  const job: Job = core.makeJob({
    task,
    items: Array.from({ length: items }, (_, i) => i),
    index: 0,
    attempt: 1,
    seed: 1,
    mode: items > 1 ? "values" : "single",
    timeoutMillis: fields.timeoutMillis,
    trace: undefined,
    transfer: undefined
  })
  const results: Array<JobResult> = []
  job.onResult = (r) => void results.push(r)
  core.submit(job)
  return { job, results }
}

/** Interrupts a job; tells whether the interruption has completed (the job really stopped). */
const interrupt = (core: PoolCore, job: Job) => {
  const state = { done: false }
  core.interrupt(job, () => void (state.done = true))
  return state
}

/** Lets the engine's dispatch (a microtask) run. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve()
}

const success = (value: number): WireOutcome => ({ _tag: "Success", value })
const interrupted: WireOutcome = { _tag: "Interrupted" }

/** Replies to a few tiny jobs so the policy sends jobs ahead (durations measured well under a millisecond). */
const warmUp = async (core: PoolCore, w: FakeWorker) => {
  for (let i = 0; i < 3; i++) {
    const { job } = submit(core)
    await settle()
    w.reply(job.id, success(0), 0.01)
  }
  await settle()
}

const errorTag = (r: JobResult | undefined): string | undefined => r?._tag === "Error" ? r.reason._tag : r?._tag

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] })
})

afterEach(() => {
  vi.useRealTimers()
})

describe("PoolCore dispatch", () => {
  it("gives each job to the least loaded ready worker, one at a time until durations are measured", async () => {
    const { core, workers } = make({ size: 2 })
    assert.strictEqual(workers.length, 2, "workers start at once")
    const a = submit(core)
    const b = submit(core)
    const c = submit(core)
    await settle()
    assert.deepStrictEqual(workers.map((w) => w.jobs()), [[], []], "nothing is sent to a worker that is not ready")
    workers[0]!.ready()
    workers[1]!.ready()
    await settle()
    assert.deepStrictEqual(workers.map((w) => w.jobs()), [[a.job.id], [b.job.id]])
    assert.strictEqual(core.stats().queued, 1)
    workers[0]!.reply(a.job.id, success(10))
    await settle()
    assert.deepStrictEqual(a.results, [{ _tag: "Reply", reply: { id: a.job.id, elapsed: 5, outcome: success(10), values: undefined } }])
    assert.deepStrictEqual(workers[0]!.jobs(), [a.job.id, c.job.id], "the freed worker takes the queued job")
    assert.strictEqual(c.results.length, 0)
  })

  it("once tiny jobs are measured, spreads them over the workers: an idle worker's first job at once, the rest of its share in one message", async () => {
    const { core, workers } = make({ size: 2 })
    const [w0, w1] = [workers[0]!, workers[1]!]
    w0.ready()
    w1.ready()
    await warmUp(core, w0)
    const before = [w0.runMessages(), w1.runMessages()]
    const jobs = Array.from({ length: 10 }, () => submit(core).job.id)
    // no dispatch has run yet: each idle worker already has its first job, nothing else
    assert.deepStrictEqual([w0.jobs().at(-1), w1.jobs()], [jobs[0], [jobs[1]]], "a job that finds a worker idle is sent at once")
    assert.deepStrictEqual([w0.runMessages(), w1.runMessages()], [before[0]! + 1, before[1]! + 1])
    await settle()
    assert.deepStrictEqual([w0.runMessages(), w1.runMessages()], [before[0]! + 2, before[1]! + 2], "the rest of each share in one message")
    assert.deepStrictEqual(w0.jobs().slice(-5), jobs.filter((_, i) => i % 2 === 0), "the least loaded worker takes each job")
    assert.deepStrictEqual(w1.jobs(), jobs.filter((_, i) => i % 2 === 1))
  })

  it("sends a job at once only to an idle worker and only when nothing is queued before it (FIFO)", async () => {
    const { core, w } = started({ size: 1 })
    const a = submit(core)
    assert.deepStrictEqual(w.jobs(), [a.job.id], "the idle worker gets the job in submit")
    const b = submit(core)
    const c = submit(core)
    assert.deepStrictEqual(w.jobs(), [a.job.id], "a busy worker: the jobs wait for a dispatch")
    w.reply(a.job.id, success(1))
    await settle()
    assert.deepStrictEqual(w.jobs(), [a.job.id, b.job.id], "the queued job goes first")
    w.reply(b.job.id, success(2))
    const d = submit(core)
    await settle()
    assert.deepStrictEqual(w.jobs(), [a.job.id, b.job.id, c.job.id], "a job submitted behind a queued one does not overtake it")
    w.reply(c.job.id, success(3))
    await settle()
    assert.deepStrictEqual(w.jobs(), [a.job.id, b.job.id, c.job.id, d.job.id])
  })
})

describe("PoolCore interruption (R1, R2)", () => {
  it("a queued job interrupted ends at once and is never sent (R1)", async () => {
    const { core, w } = started({ size: 1 })
    const running = submit(core)
    const queued = submit(core)
    await settle()
    const stop = interrupt(core, queued.job)
    assert.isTrue(stop.done, "nothing ran: the interruption completes at once")
    assert.strictEqual(core.stats().queued, 0)
    w.reply(running.job.id, success(1))
    await settle()
    assert.deepStrictEqual(w.jobs(), [running.job.id], "the interrupted job never reaches the worker")
    assert.deepStrictEqual(queued.results, [])
  })

  it("a submitter waiting for room (maxQueued) interrupted leaves no job behind (R1)", async () => {
    const { core, w } = started({ size: 1, maxQueued: 1 })
    const running = submit(core)
    await settle()
    const queued = submit(core)
    let admitted = false
    const waiting = core.makeJob({
      task,
      items: [0],
      index: 0,
      attempt: 1,
      seed: 1,
      mode: "single",
      timeoutMillis: undefined,
      trace: undefined,
      transfer: undefined
    })
    waiting.onAdmit = () => void (admitted = true)
    core.submit(waiting)
    assert.isFalse(admitted, "the queue is full: the submitter waits")
    assert.strictEqual(core.stats().waiting, 1)
    assert.isTrue(interrupt(core, waiting).done)
    assert.strictEqual(core.stats().waiting, 0)
    w.reply(running.job.id, success(1))
    await settle()
    w.reply(queued.job.id, success(2))
    await settle()
    assert.deepStrictEqual(w.jobs(), [running.job.id, queued.job.id])
    assert.isFalse(admitted)
  })

  it("a running job interrupted is stopped in its worker; the wait ends when the worker confirms, and the worker lives on (R2)", async () => {
    const { core, w } = started({ size: 1 })
    const { job, results } = submit(core)
    await settle()
    const stop = interrupt(core, job)
    assert.deepStrictEqual(w.interrupts(), [job.id])
    assert.isFalse(stop.done, "the wait lasts until the worker has stopped the job")
    assert.strictEqual(core.stats().busy, 1, "the slot counts as busy until the worker is really free")
    w.reply(job.id, interrupted)
    assert.isTrue(stop.done)
    assert.deepStrictEqual(results, [], "an interrupted job has no result for its caller")
    vi.advanceTimersByTime(1_000)
    assert.isFalse(w.killed)
    assert.strictEqual(core.stats().busy, 0)
  })

  it("a running job that does not stop within interruptGrace gets its worker killed and replaced; the wait ends when it exited (R2)", async () => {
    const { core, workers, w } = started({ size: 1, interruptGrace: 100 })
    const { job } = submit(core)
    await settle()
    const stop = interrupt(core, job)
    vi.advanceTimersByTime(99)
    assert.isFalse(w.killed, "not before the grace period")
    vi.advanceTimersByTime(1)
    assert.isTrue(w.killed, "a synchronous loop is killed, not abandoned")
    assert.isFalse(stop.done, "until the worker is gone, the slot is not free")
    w.exit(1)
    assert.isTrue(stop.done)
    await settle()
    assert.strictEqual(workers.length, 2, "a new worker replaces the killed one")
    const s = core.stats()
    assert.strictEqual(s.killed, 1)
    assert.strictEqual(s.crashed, 0, "a kill for interruption is no crash")
  })
})

describe("PoolCore crashes (R4)", () => {
  it("a worker that dies fails the job it was running with WorkerCrashed; the jobs queued behind it run on its replacement", async () => {
    const { core, workers, w } = started({ size: 1 })
    await warmUp(core, w)
    const a = submit(core)
    const b = submit(core)
    const c = submit(core)
    await settle()
    assert.deepStrictEqual(w.jobs().slice(-3), [a.job.id, b.job.id, c.job.id], "all three went to the one worker")
    w.exit(7)
    assert.strictEqual(errorTag(a.results[0]), "WorkerCrashed")
    const reason = a.results[0]!._tag === "Error" ? a.results[0]!.reason : undefined
    assert.isTrue(reason?._tag === "WorkerCrashed" && reason.exitCode === 7 && reason.message.includes("code 7"))
    assert.deepStrictEqual([b.results, c.results], [[], []], "the others had not started: they do not fail")
    await settle()
    assert.strictEqual(workers.length, 2)
    const next = workers[1]!
    next.ready()
    await settle()
    assert.deepStrictEqual(next.jobs(), [b.job.id, c.job.id], "requeued at the front, in order")
    assert.strictEqual(core.stats().crashed, 1)
  })

  it("a chunk whose worker died tells which item was running (threads' cursor)", async () => {
    const { core, w } = started({ size: 1 })
    const { job, results } = submit(core, { items: 5 })
    await settle()
    w.exit(null, "SIGKILL", { job: job.id, item: 3 })
    const r = results[0]!
    assert.isTrue(r._tag === "Error" && r.reason._tag === "WorkerCrashed" && r.crashedItem === 3)
  })
})

describe("PoolCore timeouts", () => {
  it("a timeout counts from the job's start in its worker, not from the queue, and fails the job with TaskTimeout", async () => {
    const { core, w } = started({ size: 1 })
    const { job, results } = submit(core, { timeoutMillis: 100 })
    await settle()
    vi.advanceTimersByTime(500)
    assert.deepStrictEqual(w.interrupts(), [], "waiting to start is not charged")
    w.started(job.id)
    vi.advanceTimersByTime(99)
    assert.deepStrictEqual(w.interrupts(), [])
    vi.advanceTimersByTime(1)
    assert.deepStrictEqual(w.interrupts(), [job.id], "past its timeout, the job is interrupted")
    w.reply(job.id, interrupted)
    assert.strictEqual(errorTag(results[0]), "TaskTimeout")
  })

  it("a timed-out job that does not stop is killed after the grace and still fails with TaskTimeout", async () => {
    const { core, w } = started({ size: 1, interruptGrace: 100 })
    const { job, results } = submit(core, { timeoutMillis: 50 })
    await settle()
    w.started(job.id)
    vi.advanceTimersByTime(50)
    vi.advanceTimersByTime(100)
    assert.isTrue(w.killed)
    w.exit(1)
    assert.strictEqual(errorTag(results[0]), "TaskTimeout")
  })

  it("a job that finishes just as its timeout passes keeps its result", async () => {
    const { core, w } = started({ size: 1 })
    const { job, results } = submit(core, { timeoutMillis: 50 })
    await settle()
    w.started(job.id)
    vi.advanceTimersByTime(50)
    w.reply(job.id, success(4))
    assert.strictEqual(errorTag(results[0]), "Reply")
  })
})

describe("PoolCore recycling and close (R3)", () => {
  it("a worker retires after maxTasksPerWorker items; a replacement takes the next job", async () => {
    const { core, workers, w } = started({ size: 1, maxTasksPerWorker: 2 })
    const a = submit(core)
    const b = submit(core)
    const c = submit(core)
    await settle()
    w.reply(a.job.id, success(1))
    await settle()
    w.reply(b.job.id, success(2))
    await settle()
    assert.strictEqual(w.closes(), 1, "asked to close once it has done its share")
    assert.strictEqual(core.stats().recycled, 1)
    assert.strictEqual(workers.length, 2, "its replacement starts before it is gone")
    workers[1]!.ready()
    await settle()
    assert.deepStrictEqual(workers[1]!.jobs(), [c.job.id])
    assert.deepStrictEqual(w.jobs(), [a.job.id, b.job.id])
  })

  it("close fails queued jobs with PoolClosed, interrupts running ones, and is done when every worker has exited", async () => {
    const { core, w } = started({ size: 1 })
    const running = submit(core)
    const queued = submit(core)
    await settle()
    let closed = false
    core.close(() => void (closed = true))
    assert.strictEqual(errorTag(queued.results[0]), "PoolClosed")
    assert.deepStrictEqual(w.interrupts(), [running.job.id])
    w.reply(running.job.id, interrupted)
    assert.strictEqual(errorTag(running.results[0]), "PoolClosed")
    assert.strictEqual(w.closes(), 1)
    assert.isFalse(closed, "not before its worker is gone")
    w.exit(0)
    assert.isTrue(closed)
    assert.strictEqual(errorTag(submit(core).results[0]), "PoolClosed", "a closed pool refuses new jobs")
  })

  it("close kills a worker whose running job does not stop within interruptGrace", async () => {
    const { core, w } = started({ size: 1, interruptGrace: 100 })
    const running = submit(core)
    await settle()
    let closed = false
    core.close(() => void (closed = true))
    vi.advanceTimersByTime(99)
    assert.isFalse(w.killed)
    vi.advanceTimersByTime(51)
    assert.isTrue(w.killed)
    w.exit(null, "SIGKILL")
    assert.isTrue(closed)
    assert.strictEqual(errorTag(running.results[0]), "PoolClosed")
  })
})
