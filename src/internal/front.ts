/**
 * The front: the one Effect face of every pool, over any executor (`executor.ts`). `WorkerPool.make*` is
 * a front over the local pool's executor (threads, processes, in-process) or the cluster client's.
 *
 * What the front does, once for every backend:
 * - parses a run's options (retry, timeout, seed, index) once; a bad one fails with `InvalidOption`;
 * - encodes payloads and decodes outcomes with the executor's codecs (R5);
 * - opens a client span per task or chunk for a traced caller; its ids travel with the execution;
 * - retries, in one loop (`retry.ts`), every attempt with the same seed (R7);
 * - runs a batch's items: around an item that cannot be encoded (the items before it still run, and the
 *   items after it when the batch collects), charging a crash inside a chunk to the item that was running
 *   (the others run again), and one item at a time where a chunk cannot tell which item failed;
 * - counts completed, failed and retried tasks, and publishes the pool's metrics.
 *
 * The executor runs what it is given and nothing else.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Metric from "effect/Metric"
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Tracer from "effect/Tracer"
import { CodecFailed, TaskNotFound, WorkerError } from "../WorkerError.ts"
import type { PoolStats, RunOptions } from "../WorkerPool.ts"
import type { CodecIssue, TaskCodec } from "./codec.ts"
import type { ChunkOutcome, Conclude, Execution, Executor, ItemOutcome, Payloads } from "./executor.ts"
import { type Checked, timeoutMillis } from "./options.ts"
import { fromWireDefect } from "./protocol.ts"
import { randomSeed } from "./random.ts"
import { type ResolvedRetry, resolveRetry, retrying } from "./retry.ts"
import type { Item, ItemsPlan, ItemsRun, PoolService, TaskRef } from "./service.ts"
import type { Transferable } from "node:worker_threads"

const workerError = (reason: WorkerError["reason"]) => new WorkerError({ reason })

const codecFailed = (task: TaskRef, side: "parent" | "worker", direction: "payload" | "success" | "error", issue: CodecIssue) =>
  workerError(new CodecFailed({ taskName: task.name, side, direction, path: issue.path, message: issue.message }))

/** What an execution's fields other than its items and attempt are: the same for all attempts of a run. */
interface Fields {
  readonly seed: number
  readonly timeoutMillis: number | undefined
  readonly transfer?: ReadonlyArray<Transferable> | undefined
  readonly onProgress: ((index: number, fraction: number) => void) | undefined
}

/** A run's options, parsed once for all its attempts. */
interface Parsed extends Fields {
  readonly index: number
  readonly retry: ResolvedRetry | undefined
}

/** No options: a fresh seed, and nothing else to parse. */
const noOptions = (): Checked<Parsed> =>
  Result.succeed({ seed: randomSeed(), index: 0, timeoutMillis: undefined, transfer: undefined, onProgress: undefined, retry: undefined })

/** A run's options, parsed once; a bad one fails naming it. */
const parseRun = (options: RunOptions<any> | undefined): Checked<Parsed> => {
  if (options === undefined) return noOptions()
  const retry = resolveRetry(options.retry)
  if (Result.isFailure(retry)) return Result.fail(retry.failure)
  const timeout = timeoutMillis(options.timeout)
  if (Result.isFailure(timeout)) return Result.fail(timeout.failure)
  return Result.succeed({
    seed: options.seed ?? randomSeed(),
    index: options.index ?? 0,
    timeoutMillis: timeout.success,
    transfer: options.transfer,
    onProgress: undefined,
    retry: retry.success
  })
}

/** What one attempt at a chunk of items came to. */
type Tried =
  /**
   * The items' exits, from the first on. Fewer exits than items: the chunk `stopped` at its last exit (a
   * failure), or it ran only the items before one that could not be encoded (the next attempt starts there).
   */
  | { readonly _tag: "Ran"; readonly exits: ReadonlyArray<Exit.Exit<unknown, unknown>>; readonly stopped: boolean }
  /** The worker died while running item `item` (relative to this attempt's items). */
  | { readonly _tag: "Crashed"; readonly error: WorkerError; readonly item: number }
  /** Run the items one at a time: a crash that cannot be placed, or a chunk that could not travel whole. */
  | { readonly _tag: "OneByOne" }
  /** Every item succeeded: their decoded values (the common case, kept as one array). */
  | { readonly _tag: "Values"; readonly values: ArrayLike<unknown> }

const ran = (exits: ReadonlyArray<Exit.Exit<unknown, unknown>>, stopped: boolean): Tried => ({ _tag: "Ran", exits, stopped })
const oneByOne: Tried = { _tag: "OneByOne" }
const noValues: ReadonlyArray<unknown> = []

/**
 * Whether every payload is its own encoding. A function of its own, apart from the per-chunk code that
 * calls it: V8 compiles a loop over 100,000 items early (on-stack replacement), and a small function
 * compiles in a fraction of the time of the whole chunk preparation around it.
 */
const allEncoded = (payloads: Payloads, isEncoded: (u: unknown) => boolean): boolean => {
  for (let k = 0; k < payloads.length; k++) if (!isEncoded(payloads[k])) return false
  return true
}


let poolIds = 0

/**
 * Effect metrics of a pool, labelled with its backend and a pool number: gauges for workers, busy
 * workers, utilization, queued and running tasks; counters for completed, failed, retried tasks and
 * worker crashes. The effect returned samples the stats once (deltas for counters).
 */
const sampler = (stats: () => PoolStats, backend: string): Effect.Effect<void> => {
  const attributes = { backend, pool: String(++poolIds) }
  const gauge = (name: string, description: string) => Metric.gauge(`effect_parallel_${name}`, { description, attributes })
  const counter = (name: string, description: string) =>
    Metric.counter(`effect_parallel_${name}`, { description, attributes, incremental: true })
  const workers = gauge("workers", "workers alive")
  const busy = gauge("workers_busy", "workers running at least one task")
  const utilization = gauge("worker_utilization", "busy workers / pool size")
  const queued = gauge("tasks_queued", "tasks waiting for a worker, and submitters waiting for room")
  const running = gauge("tasks_running", "tasks sent to a worker and not finished")
  const completed = counter("tasks_completed_total", "tasks finished, whatever their outcome")
  const failed = counter("tasks_failed_total", "tasks that ended with an error or a defect")
  const retried = counter("tasks_retried_total", "task runs that were retries")
  const crashed = counter("worker_crashes_total", "workers that crashed")
  let last = { completed: 0, failed: 0, retried: 0, crashed: 0 }
  return Effect.suspend(() => {
    const s = stats()
    const delta = {
      completed: s.completed - last.completed,
      failed: s.failed - last.failed,
      retried: s.retried - last.retried,
      crashed: s.crashed - last.crashed
    }
    last = s
    return Effect.all([
      Metric.update(workers, s.workers),
      Metric.update(busy, s.busy),
      Metric.update(utilization, s.size === 0 ? 0 : s.busy / s.size),
      Metric.update(queued, s.queued + s.waiting),
      Metric.update(running, s.running),
      Metric.update(completed, delta.completed),
      Metric.update(failed, delta.failed),
      Metric.update(retried, delta.retried),
      Metric.update(crashed, delta.crashed)
    ], { discard: true })
  })
}

/**
 * Builds the front over the executor that `acquire` builds in the current scope. The pool's metrics are
 * sampled once a second, off the hot path, and a last time after the executor has closed; `metrics: false`
 * publishes none (a `Process`'s pool of one: a series per spawned worker would grow without bound).
 */
export const makeFront = (
  acquire: Effect.Effect<Executor, WorkerError, Scope.Scope>,
  options?: { readonly metrics?: boolean | undefined }
): Effect.Effect<PoolService, WorkerError, Scope.Scope> =>
  Effect.gen(function*() {
    const counts = { completed: 0, failed: 0, retried: 0 }
    let sample: Effect.Effect<void> = Effect.void
    // added before the executor's finalizers, so it runs after them: the last sample sees the pool closed
    yield* Effect.addFinalizer(() => Effect.suspend(() => sample))
    const executor = yield* acquire
    const stats = (): PoolStats => ({ blocked: 0, deadlock: undefined, ...executor.stats(), ...counts })
    if (options?.metrics !== false) {
      sample = sampler(stats, executor.backend)
      yield* sample.pipe(Effect.repeat(Schedule.spaced("1 second")), Effect.forkScoped)
    }

    /** A task, or an execution as a whole, that ended in failure without an item's outcome (a crash, a timeout ...). */
    const countFailure = (): void => {
      counts.completed++
      counts.failed++
    }

    /** Decodes one item's outcome and counts it; an interrupted item counts as neither completed nor failed. */
    const decode = (task: TaskRef, codec: TaskCodec, o: ItemOutcome): Exit.Exit<unknown, unknown> => {
      let exit: Exit.Exit<unknown, unknown>
      switch (o._tag) {
        case "Success": {
          const r = codec.decodeSuccess(o.value)
          if (r.ok) {
            counts.completed++
            return Exit.succeed(r.value)
          }
          exit = Exit.fail(codecFailed(task, "parent", "success", r.issue))
          break
        }
        case "Failure": {
          const r = codec.decodeError(o.error)
          exit = Exit.fail(r.ok ? r.value : codecFailed(task, "parent", "error", r.issue))
          break
        }
        case "Defect":
          exit = Exit.die(fromWireDefect(o.defect))
          break
        case "Interrupted":
          return Exit.interrupt()
        case "Problem": {
          const p = o.problem
          exit = Exit.fail(
            p._tag === "TaskNotFound"
              ? workerError(new TaskNotFound({ taskName: task.name, module: task.module, message: p.message }))
              : codecFailed(task, "worker", p.direction, p)
          )
          break
        }
        case "WorkerError":
          exit = Exit.fail(o.error)
      }
      countFailure()
      return exit
    }

    /**
     * Runs an execution on the executor, inside a client span when the caller is traced (has a parent
     * span): the span's ids travel with the execution to continue where the task runs. Untraced callers pay
     * one context lookup and nothing else.
     */
    const execute = <A, E>(execution: Execution, conclude: Conclude<A, E>): Effect.Effect<A, E> =>
      Effect.withFiber((fiber) => executeIn(fiber, execution, conclude))

    /** `execute`, inside the caller's fiber. */
    const executeIn = <A, E>(fiber: Fiber.Fiber<unknown, unknown>, execution: Execution, conclude: Conclude<A, E>): Effect.Effect<A, E> => {
      if (Context.getOrUndefined(fiber.context, Tracer.ParentSpan) === undefined) return executor.execute(execution, conclude)
      const { task, index, mode } = execution
      const [name, attributes] = mode === "single"
        ? [`effect-parallel.task ${task.name}`, { "task.name": task.name, "task.index": index, "task.attempt": execution.attempt }]
        : [`effect-parallel.chunk ${task.name}`, { "task.name": task.name, "chunk.index": index, "chunk.items": execution.items.length }]
      return Effect.withSpan(
        Effect.flatMap(Effect.orDie(Effect.currentSpan), (span) =>
          executor.execute({ ...execution, trace: { traceId: span.traceId, spanId: span.spanId, sampled: span.sampled } }, conclude)),
        name,
        { kind: "client", attributes }
      )
    }

    /**
     * An execution of the payloads, encoded up to the first one that cannot be (the execution holds the
     * payloads before it, and runs first; the next attempt then starts at the bad one), or, when the first
     * cannot be encoded, its failure. Payloads that are their own encoding (primitive schemas) are not copied.
     */
    const prepare = (
      task: TaskRef,
      payloads: Payloads,
      index: number,
      mode: Execution["mode"],
      fields: Fields,
      attempt: number
    ): Execution | Exit.Exit<never, WorkerError> => {
      const items = encodeAll(task, payloads, index, mode)
      if (Exit.isExit(items)) return items
      if (attempt > 1) counts.retried += items.length
      return {
        task,
        items,
        index,
        seed: fields.seed,
        attempt,
        mode,
        timeoutMillis: fields.timeoutMillis,
        trace: undefined,
        transfer: fields.transfer,
        onProgress: fields.onProgress
      }
    }

    /**
     * The payloads encoded, up to the first one that cannot be (the next attempt starts there), or the
     * failure of the first. Payloads that are their own encoding (primitive schemas) are not copied.
     */
    const encodeAll = (
      task: TaskRef,
      payloads: Payloads,
      index: number,
      mode: Execution["mode"]
    ): Payloads | Exit.Exit<never, WorkerError> => {
      const codec = executor.codec(task)
      // primitive schemas: values that are their own encoding travel as they are, the array too
      const isEncoded = codec.payloadIsEncoded
      if (isEncoded !== undefined && allEncoded(payloads, isEncoded)) return payloads
      const items: Array<unknown> = new Array(payloads.length)
      for (let k = 0; k < payloads.length; k++) {
        const r = codec.encodePayload(payloads[k])
        if (!r.ok) {
          if (k > 0) {
            items.length = k
            break
          }
          // a batch's item is named by its index in the batch
          const issue = mode === "single" ? r.issue : { path: `[${index}]${r.issue.path}`, message: r.issue.message }
          return Exit.fail(codecFailed(task, "parent", "payload", issue))
        }
        items[k] = r.value
      }
      return items
    }

    /** A single task's result: its one item's exit, or the failure of its execution. */
    const concludeSingle = (o: ChunkOutcome, execution: Execution): Effect.Effect<unknown, unknown> => {
      const task = execution.task
      if (o._tag === "Exits" && o.exits.length === 1) return decode(task, executor.codec(task), o.exits[0]!)
      if (o._tag === "Crashed" || o._tag === "Failed") {
        countFailure()
        return Effect.fail(o.error)
      }
      return Effect.die(new Error(`a single task of ${task.name} came back as ${o._tag}`))
    }

    /** One attempt at a single task; called when it is to run (it encodes the payload at once). */
    const single = (task: TaskRef, payload: unknown, index: number, fields: Fields, attempt: number): Effect.Effect<unknown, unknown> => {
      const execution = prepare(task, [payload], index, "single", fields, attempt)
      return Exit.isExit(execution) ? execution : execute(execution, concludeSingle)
    }

    /** Decodes and counts a chunk's outcome. */
    const interpret = (outcome: ChunkOutcome, execution: Execution): Effect.Effect<Tried, WorkerError> => {
      const task = execution.task
      const codec = executor.codec(task)
      switch (outcome._tag) {
        case "Failed":
          return failed(execution, outcome.error)
        case "Crashed": {
          countFailure()
          const k = outcome.item
          return Effect.succeed(k !== undefined && k < execution.items.length ? { _tag: "Crashed", error: outcome.error, item: k } : oneByOne)
        }
        case "Exits":
          return Effect.succeed(ran(outcome.exits.map((o) => decode(task, codec, o)), false))
        case "Values": {
          const raw = outcome.values
          let values: ArrayLike<unknown> = raw
          if (codec.successAsIs !== true) {
            const decoded: Array<unknown> = new Array(raw.length)
            for (let i = 0; i < raw.length; i++) {
              const r = codec.decodeSuccess(raw[i])
              if (!r.ok) {
                const exits: Array<Exit.Exit<unknown, unknown>> = []
                for (let j = 0; j < i; j++) exits.push(Exit.succeed(decoded[j]))
                counts.completed += i
                countFailure()
                exits.push(Exit.fail(codecFailed(task, "parent", "success", r.issue)))
                return Effect.succeed(ran(exits, true))
              }
              decoded[i] = r.value
            }
            values = decoded
          }
          counts.completed += raw.length
          if (outcome.stop === undefined) return Effect.succeed<Tried>({ _tag: "Values", values })
          const exits: Array<Exit.Exit<unknown, unknown>> = []
          for (let i = 0; i < values.length; i++) exits.push(Exit.succeed(values[i]))
          exits.push(decode(task, codec, outcome.stop))
          return Effect.succeed(ran(exits, true))
        }
      }
    }

    /** A chunk that failed as a whole. */
    const failed = (execution: Execution, error: WorkerError): Effect.Effect<Tried, WorkerError> => {
      countFailure()
      if (error.reason._tag === "CodecFailed" && error.reason.side === "parent") {
        // the chunk could not travel whole (the transport refused a payload, or the parent could not read the
        // reply): the failure belongs to one item, not to the batch
        return Effect.succeed(execution.items.length === 1 ? ran([Exit.fail(error)], true) : oneByOne)
      }
      return Effect.fail(error)
    }

    /** One attempt at a chunk of a batch's items. */
    const attempt = (
      task: TaskRef,
      payloads: Payloads,
      index: number,
      mode: "values" | "exits",
      plan: ItemsPlan
    ): Effect.Effect<Tried, WorkerError> =>
      Effect.suspend(() => {
        const execution = prepare(task, payloads, index, mode, plan, plan.attempt)
        if (Exit.isExit(execution)) return Effect.succeed(ran([execution], mode === "values"))
        return execute(execution, interpret)
      })

    /**
     * One item of a batch as a single task, with its retries; `made` is an attempt already made (by a
     * chunk). Never fails: the item's exit says how it ended.
     */
    const runItem = (
      task: TaskRef,
      payload: unknown,
      index: number,
      plan: ItemsPlan,
      made?: Exit.Exit<unknown, unknown> | undefined
    ): Effect.Effect<Item> => {
      const once = (attempt: number) => single(task, payload, index, plan, attempt)
      if (plan.retry === undefined) {
        if (made !== undefined) return Effect.succeed({ index, exit: made, attempts: plan.attempt })
        return Effect.map(Effect.exit(once(plan.attempt)), (exit) => ({ index, exit, attempts: plan.attempt }))
      }
      return Effect.map(retrying(plan.retry, plan.attempt, once, made), (r) => ({ index, exit: r.exit, attempts: r.attempts }))
    }

    /** The one loop that runs items one at a time: to the end (collect) or to the first unrecovered failure. */
    const itemByItem = (task: TaskRef, payloads: Payloads, start: number, plan: ItemsPlan) =>
      Effect.gen(function*() {
        const out: Array<Item> = []
        for (let k = 0; k < payloads.length; k++) {
          const item = yield* runItem(task, payloads[k], start + k, plan)
          out.push(item)
          if (!plan.collect && Exit.isFailure(item.exit)) break
        }
        return out
      })

    /** A chunk's items, each with its own exit. */
    const expand = (r: ItemsRun): Array<Item> => {
      const out: Array<Item> = new Array(r.values.length)
      for (let i = 0; i < r.values.length; i++) out[i] = { index: r.start + i, exit: Exit.succeed(r.values[i]), attempts: r.attempts }
      for (const item of r.items) out.push(item)
      return out
    }

    const runItems = (
      task: TaskRef,
      payloads: Payloads,
      start: number,
      plan: ItemsPlan
    ): Effect.Effect<Array<Item>, WorkerError> => Effect.map(runChunk(task, payloads, start, plan), expand)

    const runChunk = (
      task: TaskRef,
      payloads: Payloads,
      start: number,
      plan: ItemsPlan
    ): Effect.Effect<ItemsRun, WorkerError> => {
      const itemsRun = (items: ReadonlyArray<Item>): ItemsRun => ({ start, values: noValues, attempts: plan.attempt, items })
      // each item with its own clock: one per message
      if (plan.timeoutMillis !== undefined) return Effect.map(itemByItem(task, payloads, start, plan), itemsRun)
      return Effect.gen(function*() {
        const out: Array<Item> = []
        const mode = plan.collect ? "exits" : "values"
        let offset = 0
        while (offset < payloads.length) {
          const rest = offset === 0 ? payloads : payloads.slice(offset)
          const base = start + offset
          const tried = yield* attempt(task, rest, base, mode, plan)
          if (tried._tag === "OneByOne") {
            out.push(...yield* itemByItem(task, rest, base, plan))
            return itemsRun(out)
          }
          if (tried._tag === "Crashed") {
            // the item that was running is charged with the crash (or retried); the items before it had
            // finished, but their results died with the worker: they run again
            const k = tried.item
            if (k > 0) {
              const again = yield* runItems(task, rest.slice(0, k), base, plan)
              out.push(...again)
              if (!plan.collect && again.some((i) => Exit.isFailure(i.exit))) return itemsRun(out)
            }
            const crashed = yield* runItem(task, rest[k], base + k, plan, Exit.fail(tried.error))
            out.push(crashed)
            if (!plan.collect && Exit.isFailure(crashed.exit)) return itemsRun(out)
            offset += k + 1
            continue
          }
          if (tried._tag === "Values") {
            const values = tried.values
            if (values.length === 0) return yield* Effect.die(new Error(`a chunk of ${task.name} came back with no outcome`))
            // the whole chunk at its first try: its values as they came, one array
            if (offset === 0 && values.length === payloads.length) return { start, values, attempts: plan.attempt, items: out }
            for (let k = 0; k < values.length; k++) out.push({ index: base + k, exit: Exit.succeed(values[k]), attempts: plan.attempt })
            // it ran only the items before one that could not be encoded: the rest runs now
            offset += values.length
            continue
          }
          if (tried.exits.length === 0) return yield* Effect.die(new Error(`a chunk of ${task.name} came back with no outcome`))
          for (let k = 0; k < tried.exits.length; k++) {
            const exit = tried.exits[k]!
            const item = Exit.isSuccess(exit)
              ? { index: base + k, exit, attempts: plan.attempt }
              : yield* runItem(task, rest[k], base + k, plan, exit)
            out.push(item)
            // a failure that its retries did not recover ends a fail-fast batch's chunk, and a chunk that stopped
            if (Exit.isFailure(item.exit) && (!plan.collect || tried.stopped)) return itemsRun(out)
          }
          // the chunk stopped at a failure that its retry recovered, or ran only the items before one that could
          // not be encoded: the rest runs now
          offset += tried.exits.length
        }
        return itemsRun(out)
      })
    }

    /**
     * A task inside the caller's fiber (a task call's one `withFiber`, `runTask`). Without options nothing is
     * parsed (a fresh seed); an attempt without retries builds only the execution: no retry loop, no timeout,
     * no span unless the caller is traced (`executeIn`); retries run each attempt through `single`.
     */
    const runIn: PoolService["runIn"] = (fiber, task, payload, options) => {
      const parsed = parseRun(options)
      if (Result.isFailure(parsed)) return Effect.fail(workerError(parsed.failure))
      const p = parsed.success
      if (p.retry === undefined) {
        const execution = prepare(task, [payload], p.index, "single", p, 1)
        return Exit.isExit(execution) ? execution : executeIn(fiber, execution, concludeSingle)
      }
      return Effect.flatMap(retrying(p.retry, 1, (n) => single(task, payload, p.index, p, n)), (r) => r.exit)
    }

    const run: PoolService["run"] = (task, payload, options) => Effect.withFiber((fiber) => runIn(fiber, task, payload, options))

    const admit = executor.admit ??
      (<A, E>(execution: Execution, conclude: Conclude<A, E>) => Effect.succeed(executor.execute(execution, conclude)))

    const submit: PoolService["submit"] = (task, payload, options) =>
      Effect.suspend(() => {
        const parsed = parseRun(options)
        if (Result.isFailure(parsed)) return Effect.fail(workerError(parsed.failure))
        const p = parsed.success
        const execution = prepare(task, [payload], p.index, "single", p, 1)
        if (Exit.isExit(execution)) return execution
        const retry = p.retry
        // without retries, the admitted wait is the result as it is (no effect around it)
        if (retry === undefined) return admit(execution, concludeSingle)
        return Effect.map(
          admit(execution, concludeSingle),
          (first) => Effect.flatMap(retrying(retry, 1, (n) => single(task, payload, p.index, p, n), first), (r) => r.exit)
        )
      })

    return {
      size: executor.size,
      run,
      runIn,
      submit,
      runItems,
      runChunk,
      chunkSize: executor.chunkSize,
      stats: Effect.sync(stats),
      awaitReady: executor.awaitReady
    } satisfies PoolService
  })
