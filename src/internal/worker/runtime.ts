/**
 * The worker side: receives jobs, finds their tasks, runs their handlers (a chunk's items in one loop: a
 * handler that returns an `Exit` costs no fiber, any other effect runs in a fiber), replies with encoded
 * outcomes.
 *
 * Independent of the transport (thread, process, or the parent itself for the in-process backend): it is
 * given a `send` function and fed messages.
 *
 * Jobs run one at a time in arrival order. Between two jobs the runtime reads the messages that arrived
 * meanwhile, synchronously where the transport can (`poll`, threads: for a slice of a few milliseconds,
 * then it yields to the event loop) and by yielding to the event loop (`setImmediate`) where it cannot, so
 * an `Interrupt` for a job that has not started yet is always read before that job would start, and the
 * parent's "first unfinished job is the running one" rule stays exact (R2, R4).
 * A job's reply is sent before the next job starts, so that a crash in job k never loses the reply of
 * job k-1.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Random from "effect/Random"
import * as Tracer from "effect/Tracer"
import type { Task } from "../../Task.ts"
import { TaskContext, type TaskContextShape } from "../../TaskContext.ts"
import { codecOf, type TaskCodec } from "../codec.ts"
import { makeTaskLoader } from "../taskLoader.ts"
import type { FromWorker, ToWorker, WireJob, WireOutcome, WireProblem, WireReply } from "../protocol.ts"
import { toWireDefect } from "../protocol.ts"
import { makeTaskRandom, type TaskRandom } from "../random.ts"
import { endRun, OTHER_PROCESS, registry, SAME_MEMORY, startRun } from "../shared/registry.ts"

export interface Transport {
  /** Sends a message to the parent; throws when a value cannot be cloned. */
  readonly send: (message: FromWorker) => void
  /** Shared [job id, item] cursor (threads): written before every item, read by the parent after a crash. */
  readonly cursor?: Int32Array | undefined
  /** This worker's owner token for shared objects (absent in-process: the parent's token applies). */
  readonly owner?: number | undefined
  /**
   * Delivers (to `handle`) every message already waiting, synchronously (threads: `receiveMessageOnPort`);
   * absent where the transport cannot. Between two jobs it replaces an event-loop turn (`pump`).
   */
  readonly poll?: (() => void) | undefined
  /** Whether this worker shares memory with the parent (threads) or not (processes). */
  readonly sharedMemory?: boolean | undefined
  /**
   * The runtime runs in the isolate that made the tasks (the in-process backend): it runs a task made here
   * as it is, without importing its module (see `taskLoader.ts`).
   */
  readonly local?: boolean | undefined
}

type Found = { readonly task: Task.Any; readonly codec: TaskCodec }
type Loaded = Found | WireProblem

/** The job a worker runs (one at a time). */
interface Current {
  readonly job: WireJob
  /** Its handler started (the task module is loaded): a `process.exit` now is the task's own. */
  started: boolean
  /** The fiber of the item that runs asynchronously, while it does. */
  fiber: Fiber.Fiber<unknown, unknown> | undefined
  /** The parent asked to stop the job. */
  interrupted: boolean
}

/** An item that ended before its handler's effect could run (`invoke`): its outcome. */
class Ended {
  readonly outcome: WireOutcome
  constructor(outcome: WireOutcome) {
    this.outcome = outcome
  }
}

/** How long the item loop runs before it yields to the event loop, so that an `Interrupt` can be read. */
const SLICE_MILLIS = 4
/** Items that took less than this since the last time check get checked half as often. */
const STRIDE_GROW_MILLIS = 0.25

/** Why `runItems` stopped: the chunk is done, its slice is up, an item needs settling, or the job was stopped. */
type Stop = 0 | 1 | 2 | 3
const DONE = 0
const SLICE = 1
const SETTLE = 2
const STOPPED = 3

/**
 * A running chunk: what its loop (`runItems`) reads, where it is, and the values it kept. One object per
 * chunk, so that the loop is one function for the worker's life rather than a closure per chunk.
 */
class Chunk {
  readonly state: Current
  readonly task: Task.Any
  readonly codec: TaskCodec
  /** A chunk of numbers (success schema `Schema.Number`): the values, straight in the array that travels. */
  readonly packed: Float64Array | undefined
  readonly payloads: ArrayLike<unknown>
  readonly payloadAsIs: boolean
  readonly values: Array<unknown> = []
  /** Keeps an item's value without the encoder: set when its handler's `Exit` can be kept as it is. */
  readonly keepsExits: boolean
  readonly isEncoded: (u: unknown) => boolean
  /** The next item to run. */
  k = 0
  /** Values kept in `packed`. */
  count = 0
  stride = 1
  sinceCheck = 0
  sliceStart: number
  lastCheck: number
  /** The effect of item `k`, when `runItems` stopped for it to be settled. */
  pending: Effect.Effect<unknown, unknown, TaskContext> | Ended | undefined = undefined
  constructor(
    state: Current,
    task: Task.Any,
    codec: TaskCodec,
    packed: Float64Array | undefined,
    isEncoded: ((u: unknown) => boolean) | undefined,
    started: number
  ) {
    this.state = state
    this.task = task
    this.codec = codec
    this.packed = packed
    this.payloads = state.job.payloads
    this.payloadAsIs = codec.payloadAsIs === true
    this.keepsExits = isEncoded !== undefined
    this.isEncoded = isEncoded ?? never
    this.sliceStart = this.lastCheck = started
  }
}
const never = (): boolean => false

const RandomKey = Random.Random.key
const baseContext = Context.empty()

const interruptedReply = (job: WireJob): WireReply => ({
  id: job.id,
  elapsed: 0,
  outcome: { _tag: "Interrupted" },
  values: job.chunk ? [] : undefined
})

/**
 * What a running item's handler reads: its `TaskContext`, and Effect's `Random` service over the same
 * stream. One object per item that runs an effect, with nothing built ahead: the random stream is made on
 * first use (R7: a function of seed and index only, whenever it is made) and `progress` on first read.
 */
class ItemContext implements TaskContextShape, Random.Random {
  readonly index: number
  readonly attempt: number
  readonly seed: number
  private readonly job: number
  private readonly report: (job: number, index: number, fraction: number) => void
  private stream: TaskRandom | undefined
  private reporter: ((fraction: number) => Effect.Effect<void>) | undefined
  constructor(
    index: number,
    attempt: number,
    seed: number,
    job: number,
    report: (job: number, index: number, fraction: number) => void
  ) {
    this.index = index
    this.attempt = attempt
    this.seed = seed
    this.job = job
    this.report = report
  }
  get random(): TaskRandom {
    return this.stream ??= makeTaskRandom(this.seed, this.index)
  }
  get progress(): (fraction: number) => Effect.Effect<void> {
    return this.reporter ??= (fraction) => Effect.sync(() => this.report(this.job, this.index, fraction))
  }
  nextDoubleUnsafe(): number {
    return this.random.nextDoubleUnsafe()
  }
  nextIntUnsafe(): number {
    return this.random.nextIntUnsafe()
  }
}

export interface WorkerRuntime {
  readonly handle: (message: ToWorker) => void
  /** Imports modules ahead of the first job (the pool's preload list). */
  readonly preload: (modules: ReadonlyArray<string>) => Promise<void>
  /** Interrupts whatever runs (in-process backend: the parent's "terminate"). */
  readonly shutdown: () => void
  /**
   * Whether a task's handler is running now (not: idle, or importing the module of the job about to run).
   * Modules the pool has seen are imported only while no job is in hand (`warmWhenIdle`).
   */
  readonly inHandler: () => boolean
}

export const makeWorkerRuntime = (transport: Transport): WorkerRuntime => {
  const resolved = new Map<string, Loaded>()
  const queue: Array<WireJob> = []
  let current: Current | undefined
  let scheduled = false
  let closed = false

  // Calls on parent-hosted shared objects: sent over the pool's channel, answered by "Return".
  // A call whose caller was interrupted may still complete in the parent (the answer crosses the
  // cancellation): its compensation (e.g. a release for an acquire) is then sent, so nothing leaks (R1).
  let nextCall = 1
  const calls = new Map<number, (ok: boolean, value: unknown) => void>()
  // cancelled calls whose answer may still come: what undoes them (by their result) if they succeeded
  const cancelled = new Map<number, { readonly object: number; readonly compensate: ((result: unknown) => unknown) | undefined }>()
  if (transport.owner !== undefined) {
    registry.owner = transport.owner
    registry.encoding = transport.sharedMemory === false ? OTHER_PROCESS : SAME_MEMORY
    // threads: waits on shared memory are published next to the cursor, for the parent's deadlock detection
    registry.waits = transport.cursor
    registry.host = (object, request, compensate) =>
      Effect.callback<unknown, unknown>((resume) => {
        const id = nextCall++
        calls.set(id, (ok, value) => resume(ok ? Effect.succeed(value) : Effect.fail(value)))
        transport.send({ _tag: "Call", id, object, request })
        return Effect.sync(() => {
          if (!calls.delete(id)) return
          cancelled.set(id, { object, compensate })
          transport.send({ _tag: "CallCancel", id })
        })
      })
    // a call whose answer nobody waits for (ids are never registered, so its Return is ignored)
    registry.post = (object, request) => {
      try {
        transport.send({ _tag: "Call", id: nextCall++, object, request })
      } catch {
        // the channel is gone: so is the worker
      }
    }
  }

  const loader = makeTaskLoader({ local: transport.local })
  // resolved (task, codec) pairs by (name, module): a hit starts a job without a promise hop
  const load = async (module: string, name: string): Promise<Loaded> => {
    const key = `${name}\u0000${module}`
    const hit = resolved.get(key)
    if (hit !== undefined) return hit
    const found = await loader.load(module, name)
    const loaded: Loaded = found._tag === "Found"
      ? { task: found.task, codec: codecOf(found.task) }
      : { _tag: "TaskNotFound", message: found.message }
    resolved.set(key, loaded)
    return loaded
  }

  const sendReplies = (replies: Array<WireReply>): void => {
    try {
      transport.send({ _tag: "Done", replies })
    } catch {
      // A value that structured clone cannot carry (a function, a symbol, a class with methods in an
      // unchecked field): never a hang, never a crash: that value becomes a typed error, and only that one
      // (a chunk's other items keep their outcomes and values).
      for (const reply of replies) {
        try {
          transport.send({ _tag: "Done", replies: [reply] })
        } catch (e) {
          try {
            transport.send({ _tag: "Done", replies: [clonableReply(reply, e)] })
          } catch {
            transport.send({ _tag: "Done", replies: [{ id: reply.id, elapsed: reply.elapsed, values: undefined, outcome: uncloneable(reply.outcome, e) }] })
          }
        }
      }
    }
  }

  const uncloneable = (o: WireOutcome | undefined, e: unknown): WireOutcome =>
    problem({
      _tag: "CodecFailed",
      direction: o?._tag === "Failure" ? "error" : "success",
      path: "",
      message: `the value cannot be cloned to the parent: ${e instanceof Error ? e.message : String(e)}`
    })

  /** The reply with every value that cannot be cloned replaced by its CodecFailed (the failure path only). */
  const clonableReply = (reply: WireReply, e: unknown): WireReply => {
    const cloneError = (v: unknown): unknown => {
      try {
        structuredClone(v)
        return undefined
      } catch (e2) {
        return e2 ?? e
      }
    }
    if (reply.outcomes !== undefined) {
      return {
        ...reply,
        outcomes: reply.outcomes.map((o) => {
          const bad = cloneError(o)
          return bad === undefined ? o : uncloneable(o, bad)
        })
      }
    }
    const values = reply.values ?? []
    for (let k = 0; k < values.length; k++) {
      const bad = cloneError(values[k])
      // a fail-fast chunk: the values before the bad one, which stops it
      if (bad !== undefined) return { ...reply, values: Array.prototype.slice.call(values, 0, k), outcome: uncloneable(undefined, bad) }
    }
    return { ...reply, outcome: uncloneable(reply.outcome, e) }
  }

  const problem = (p: WireProblem): WireOutcome => ({ _tag: "Problem", problem: p })

  /** Turns a handler's exit into the outcome that travels. */
  const outcomeOf = (codec: TaskCodec, exit: Exit.Exit<unknown, unknown>): WireOutcome => {
    if (Exit.isSuccess(exit)) {
      const r = codec.encodeSuccess(exit.value)
      return r.ok ? { _tag: "Success", value: r.value } : problem({ _tag: "CodecFailed", direction: "success", ...r.issue })
    }
    const reasons = exit.cause.reasons
    const fail = reasons.find(Cause.isFailReason)
    if (fail !== undefined) {
      const r = codec.encodeError(fail.error)
      return r.ok ? { _tag: "Failure", error: r.value } : problem({ _tag: "CodecFailed", direction: "error", ...r.issue })
    }
    const die = reasons.find(Cause.isDieReason)
    if (die !== undefined) return { _tag: "Defect", defect: toWireDefect(die.defect) }
    return { _tag: "Interrupted" }
  }

  // Progress reports are throttled per task: at most one every 50 ms, plus the final one (fraction 1).
  let lastProgressAt = 0
  let lastProgressKey = ""
  const reportProgress = (id: number, index: number, fraction: number): void => {
    const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0
    const now = performance.now()
    const key = `${id}:${index}`
    if (key === lastProgressKey && f < 1 && now - lastProgressAt < 50) return
    lastProgressKey = key
    lastProgressAt = now
    try {
      transport.send({ _tag: "Progress", id, index, fraction: f })
    } catch {
      // progress is advisory: a closed channel must not fail the task
    }
  }

  /**
   * Calls an item's handler on its encoded payload: its effect, or the outcome that ends the item at once
   * (a payload that does not decode, a handler that throws). The item's run of shared objects starts here
   * (what it takes is tracked until `endRun`; a crash before gives it back, R8).
   */
  const invoke = (
    task: Task.Any,
    codec: TaskCodec,
    payloadAsIs: boolean,
    encoded: unknown
  ): Effect.Effect<unknown, unknown, TaskContext> | Ended => {
    let payload = encoded
    if (!payloadAsIs) {
      const decoded = codec.decodePayload(payload)
      if (!decoded.ok) return new Ended(problem({ _tag: "CodecFailed", direction: "payload", ...decoded.issue }))
      payload = decoded.value
    }
    startRun()
    try {
      return task.run(payload)
    } catch (e) {
      endRun()
      return new Ended({ _tag: "Defect", defect: toWireDefect(e) })
    }
  }

  /**
   * Runs an item's effect in a fiber of its own, whose context holds the item's `TaskContext` and `Random`
   * (one object, the random stream made only when read, R7), continuing the caller's trace when it has one.
   */
  const forkItem = (job: WireJob, index: number, effect: Effect.Effect<unknown, unknown, TaskContext>): Fiber.Fiber<unknown, unknown> => {
    const itemContext = new ItemContext(index, job.attempt, job.seed, job.id, reportProgress)
    const context = Context.addUnsafe(Context.addUnsafe(baseContext, TaskContext.key, itemContext), RandomKey, itemContext)
    const trace = job.trace
    if (trace !== undefined) {
      // continue the caller's trace: spans made by the handler are children of the parent's task span,
      // and the handler's logs carry the trace and span ids
      effect = effect.pipe(
        Effect.withSpan(job.name, { kind: "server", attributes: { "task.index": index, "task.attempt": job.attempt } }),
        Effect.withParentSpan(Tracer.externalSpan(trace)),
        Effect.annotateLogs({ traceId: trace.traceId, spanId: trace.spanId, task: job.name, taskIndex: index })
      )
    }
    return Effect.runForkWith(context as Context.Context<TaskContext>)(effect)
  }

  /**
   * Runs a single task (not a chunk): the steps of a chunk's item (decode, run, encode), without the
   * chunk's loop, its time checks and its closures; its one outcome is the reply. The crash cursor is
   * written as for an item (R4); an `Interrupt` reaches the task's fiber (`handle`), and a timeout is the
   * parent's (it stops the job when its clock, started by `Started`, runs out).
   */
  const runSingle = (state: Current, loaded: Found): void => {
    const job = state.job
    // as a chunk's loop does before its first item
    if (closed) return finish(interruptedReply(job))
    const { task, codec } = loaded
    const started = performance.now()
    const end = (outcome: WireOutcome): void => finish({ id: job.id, elapsed: performance.now() - started, outcome, values: undefined })
    const cursor = transport.cursor
    if (cursor !== undefined) {
      cursor[0] = job.id
      cursor[1] = 0
    }
    const effect = invoke(task, codec, codec.payloadAsIs === true, job.payloads[0])
    if (effect instanceof Ended) return end(effect.outcome)
    if (job.trace === undefined && Exit.isExit(effect)) {
      endRun()
      return end(outcomeOf(codec, effect))
    }
    const fiber = forkItem(job, job.index, effect)
    const exit = fiber.pollUnsafe()
    if (exit !== undefined) {
      endRun()
      return end(outcomeOf(codec, exit))
    }
    state.fiber = fiber
    fiber.addObserver((exit) => {
      state.fiber = undefined
      endRun()
      end(outcomeOf(codec, exit))
    })
  }

  /**
   * The hot loop of every chunk (one function for the worker's life, so that V8 optimizes it once): runs
   * items from `c.k` while each handler returns a succeeded `Exit` that is its own encoding, keeping the
   * values, and stops at the first item that needs more (`SETTLE`, its effect in `c.pending`), at the end
   * (`DONE`), when the slice is up (`SLICE`) or the job is stopped (`STOPPED`). Everything rare stays out of
   * it: a call site first reached after V8 optimized the loop throws the optimized code away ("insufficient
   * type feedback"), and the loop used to be optimized again in each of the first few batches of a fresh
   * worker (`--trace-opt --trace-deopt`; each compile ~5 ms of CPU).
   *
   * Time checks come before an item (not the first of the chunk): every `stride` items, the stride doubling
   * while items are fast (a check costs ~25 ns).
   */
  const runItems = (c: Chunk): Stop => {
    const { payloads, state, task, codec, payloadAsIs, packed, values, keepsExits, isEncoded } = c
    const n = payloads.length
    const cursor = transport.cursor
    let k = c.k
    while (k < n) {
      if (k > 0 && ++c.sinceCheck >= c.stride) {
        c.sinceCheck = 0
        const now = performance.now()
        if (now - c.sliceStart >= SLICE_MILLIS) {
          c.stride = 1
          c.k = k
          return SLICE
        }
        c.stride = now - c.lastCheck < STRIDE_GROW_MILLIS ? Math.min(c.stride * 2, 1024) : 1
        c.lastCheck = now
      }
      if (state.interrupted || closed) return STOPPED
      // the crash cursor (R4): the item running, written before it starts
      if (cursor !== undefined) cursor[1] = k
      const effect = invoke(task, codec, payloadAsIs, payloads[k])
      if (keepsExits && Exit.isExit(effect) && effect._tag === "Success" && isEncoded(effect.value)) {
        endRun()
        if (packed !== undefined) packed[c.count++] = effect.value as number
        else values.push(effect.value)
        k++
        continue
      }
      c.k = k
      c.pending = effect
      return SETTLE
    }
    c.k = k
    return DONE
  }

  /**
   * Runs a chunk: its items one after the other, each decoded, run and encoded, in one loop (`runItems`).
   *
   * A handler that returns an `Exit` (`Effect.succeed`, `Effect.fail`: already evaluated) costs a call and
   * a test: no fiber, no context. Any other effect runs in a fiber of its own whose context holds the
   * item's `TaskContext` and `Random` (built only then; the random stream only when read, R7); a fiber that
   * completes synchronously is read at once, one that goes async is waited for and the loop resumes
   * from its observer. A chunk of 100,000 trivial items thus costs close to a plain loop, where a fiber and
   * a context per item (and an Effect.gen over the chunk) cost about a microsecond each.
   *
   * The loop yields to the event loop every few milliseconds (`SLICE_MILLIS`), so that an `Interrupt` for the
   * running chunk is read between two items and stops it there (R2): the chunk replies `Interrupted`, as a
   * fiber interrupted between two items did before. A single item that runs synchronously for longer is
   * stopped the way any synchronous loop is: its worker is killed after `interruptGrace`.
   */
  const runJob = (state: Current, loaded: Found): void => {
    const job = state.job
    const { task, codec } = loaded
    const collect = job.collect
    const outcomes: Array<WireOutcome> = []
    const started = performance.now()
    const cursor = transport.cursor
    const trace = job.trace
    const successIsEncoded = codec.successIsEncoded
    const c = new Chunk(
      state,
      task,
      codec,
      // each number goes straight into the Float64Array that travels (moved, not copied), instead of an
      // array of values packed by a second pass at the end
      !collect && codec.successIsNumber === true ? new Float64Array(job.payloads.length) : undefined,
      trace === undefined && !collect && successIsEncoded !== undefined ? successIsEncoded : undefined,
      started
    )
    // the crash cursor (R4): this job, then the item running (`runItems`)
    if (cursor !== undefined) {
      cursor[0] = job.id
      cursor[1] = 0
    }

    const reply = (outcome: WireOutcome | undefined): WireReply =>
      collect
        ? { id: job.id, elapsed: performance.now() - started, outcome: undefined, values: undefined, outcomes }
        : {
          id: job.id,
          elapsed: performance.now() - started,
          outcome,
          values: c.packed === undefined ? c.values : c.packed.subarray(0, c.count)
        }

    /** Keeps a succeeded item's encoded value (a fail-fast chunk). */
    const keep = (value: unknown): false => {
      if (c.packed !== undefined) c.packed[c.count++] = value as number
      else c.values.push(value)
      return false
    }

    /** One item's outcome; true when it ends the job. */
    const accept = (outcome: WireOutcome): boolean => {
      if (collect) {
        outcomes.push(outcome)
        return false
      }
      if (outcome._tag === "Success") return keep(outcome.value)
      finish(reply(outcome))
      return true
    }

    /** One item's exit, encoded; true when it ends the job. */
    const acceptExit = (exit: Exit.Exit<unknown, unknown>): boolean => {
      if (exit._tag === "Success" && !collect && successIsEncoded !== undefined && successIsEncoded(exit.value)) {
        return keep(exit.value)
      }
      return accept(outcomeOf(codec, exit))
    }

    /**
     * Settles item `c.k`'s effect, one that `runItems` does not keep by itself: true when the job is over or
     * waits for an asynchronous item (whose observer resumes the loop).
     */
    const settle = (effect: Effect.Effect<unknown, unknown, TaskContext> | Ended): boolean => {
      if (effect instanceof Ended) return accept(effect.outcome)
      if (trace === undefined && Exit.isExit(effect)) {
        endRun()
        return acceptExit(effect)
      }
      const fiber = forkItem(job, job.index + c.k, effect)
      const exit = fiber.pollUnsafe()
      if (exit !== undefined) {
        endRun()
        return acceptExit(exit)
      }
      state.fiber = fiber
      fiber.addObserver((exit) => {
        state.fiber = undefined
        endRun()
        if (acceptExit(exit)) return
        c.k++
        resume()
      })
      return true
    }

    const loop = (): void => {
      for (;;) {
        const stop = runItems(c)
        if (stop === DONE) return finish(reply(undefined))
        if (stop === STOPPED) return finish(interruptedReply(job))
        // let an Interrupt in; the loop goes on from the next item
        if (stop === SLICE) return void setImmediate(resume)
        const effect = c.pending!
        c.pending = undefined
        if (settle(effect)) return
        c.k++
      }
    }
    const resume = (): void => {
      c.sliceStart = c.lastCheck = performance.now()
      loop()
    }

    loop()
  }

  const finish = (r: WireReply): void => {
    current = undefined
    sendReplies([r])
    schedule()
    warmWhenIdle()
  }

  /**
   * Modules the pool has seen (`Warm`), imported in the background once this worker is idle, never under a
   * running handler: a task module without the `import.meta.main` guard starts its program when imported,
   * and that program's `process.exit` must not end the worker under an unrelated task (the exit guard lets
   * an exit through while a handler runs). A module that fails to import is reported by the first task
   * that needs it.
   */
  let warmLater: Array<string> = []
  const warmWhenIdle = (): void => {
    if (current !== undefined || queue.length > 0 || warmLater.length === 0) return
    const modules = warmLater
    warmLater = []
    for (const url of modules) loader.importModule(url).catch(() => undefined)
  }

  const start = (job: WireJob, loaded: Loaded): void => {
    const state = current!
    if (state.interrupted) return finish(interruptedReply(job))
    state.started = true
    if (!("task" in loaded)) {
      // a collecting chunk owes one outcome per item (mode "result"): every item fails with the problem
      const o = problem(loaded)
      const outcomes: Array<WireOutcome> = []
      for (let k = 0; k < job.payloads.length; k++) outcomes.push(o)
      return finish(
        job.chunk && job.collect
          ? { id: job.id, elapsed: 0, outcome: undefined, values: undefined, outcomes }
          : { id: job.id, elapsed: 0, outcome: o, values: undefined }
      )
    }
    // the timeout clock starts here, when the handler starts: importing the task module is pool work
    if (job.notifyStart) transport.send({ _tag: "Started", id: job.id })
    if (!job.chunk) return runSingle(state, loaded)
    runJob(state, loaded)
  }

  /** `pump` is running jobs back to back: a job that ends meanwhile schedules nothing (the loop goes on). */
  let pumping = false

  /**
   * Starts the queued jobs, one at a time. A job that ends synchronously is followed by the next one at
   * once, without an event-loop turn, where the transport can read its waiting messages synchronously
   * (`poll`, threads): they are read first, so an `Interrupt` for the next job still stops it before it
   * starts (R2). After `SLICE_MILLIS` of jobs, or without `poll`, the next job waits for `setImmediate`.
   */
  const pump = (): void => {
    scheduled = false
    if (pumping) return
    pumping = true
    const sliceStart = performance.now()
    try {
      while (current === undefined && !closed) {
        const job = queue.shift()
        if (job === undefined) return
        current = { job, started: false, fiber: undefined, interrupted: false }
        const hit = resolved.get(`${job.name}\u0000${job.module}`)
        if (hit === undefined) {
          load(job.module, job.name).then((loaded) => start(job, loaded))
          return
        }
        start(job, hit)
        // a job that runs asynchronously schedules the next one when it ends
        if (current !== undefined || transport.poll === undefined || performance.now() - sliceStart >= SLICE_MILLIS) break
        transport.poll()
      }
    } finally {
      pumping = false
    }
    schedule()
  }

  const schedule = (): void => {
    if (scheduled || pumping || current !== undefined || queue.length === 0) return
    scheduled = true
    setImmediate(pump)
  }

  const handle = (message: ToWorker): void => {
    switch (message._tag) {
      case "Run": {
        for (const job of message.jobs) queue.push(job)
        // An idle worker starts the first job at once: no event-loop hop on the latency path. The yield
        // between jobs (schedule) is what keeps Interrupts ahead of the jobs they target.
        if (current === undefined && !scheduled) pump()
        else schedule()
        return
      }
      case "Interrupt": {
        if (current !== undefined && current.job.id === message.id) {
          current.interrupted = true
          current.fiber?.interruptUnsafe()
          return
        }
        const i = queue.findIndex((j) => j.id === message.id)
        if (i >= 0) {
          const [job] = queue.splice(i, 1)
          sendReplies([interruptedReply(job!)])
        }
        return
      }
      case "Close": {
        closed = true
        return
      }
      case "Warm": {
        warmLater.push(...message.modules)
        warmWhenIdle()
        return
      }
      case "Return": {
        const resume = calls.get(message.id)
        if (resume !== undefined) {
          calls.delete(message.id)
          return resume(message.ok, message.value)
        }
        const gaveUp = cancelled.get(message.id)
        if (gaveUp !== undefined) {
          cancelled.delete(message.id)
          const undo = message.ok ? gaveUp.compensate?.(message.value) : undefined
          if (undo !== undefined) transport.send({ _tag: "Call", id: nextCall++, object: gaveUp.object, request: undo })
        }
        return
      }
    }
  }

  return {
    handle,
    preload: async (urls) => {
      await Promise.all(urls.map(loader.importModule))
    },
    shutdown: () => {
      closed = true
      queue.length = 0
      current?.fiber?.interruptUnsafe()
    },
    inHandler: () => current?.started === true
  }
}
