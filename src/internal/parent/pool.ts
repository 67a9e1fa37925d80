/**
 * The Effect face of the engine: builds a `PoolService` over a `PoolCore`, turning jobs into interruptible
 * effects, encoding payloads and decoding outcomes with the task's cached codec.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Tracer from "effect/Tracer"
import type * as Scope from "effect/Scope"
import { CodecFailed, InvalidOption, SpawnFailed, TaskNotFound, WorkerError } from "../../WorkerError.ts"
import type { TaskCodec } from "../codec.ts"
import { codecOf } from "../codec.ts"
import type { PoolOptions } from "../options.ts"
import { resolveOptions } from "../options.ts"
import type { WireOutcome, WireReply, WireTrace } from "../protocol.ts"
import { fromWireDefect, missingGuardMessage, poolRefusals, workerMarker } from "../protocol.ts"
import type { ChunkOutcome, PoolService, RunOptions, TaskRef } from "../service.ts"
import type { Backend } from "./backend.ts"
import type { Job, JobResult } from "./core.ts"
import { randomSeed } from "../random.ts"
import { encodingFor } from "../shared/registry.ts"
import { PoolCore } from "./core.ts"
import { aroundBadItem } from "./chunk.ts"
import { withRetry } from "./retry.ts"


const workerError = (reason: WorkerError["reason"]) => new WorkerError({ reason })

/** The effect of one item's outcome, decoded in the parent. */
const outcomeEffect = (task: TaskRef, codec: TaskCodec, outcome: WireOutcome): Effect.Effect<unknown, unknown> => {
  switch (outcome._tag) {
    case "Success": {
      const r = codec.decodeSuccess(outcome.value)
      return r.ok
        ? Effect.succeed(r.value)
        : Effect.fail(workerError(new CodecFailed({ taskName: task.name, side: "parent", direction: "success", ...r.issue })))
    }
    case "Failure": {
      const r = codec.decodeError(outcome.error)
      return r.ok
        ? Effect.fail(r.value)
        : Effect.fail(workerError(new CodecFailed({ taskName: task.name, side: "parent", direction: "error", ...r.issue })))
    }
    case "Defect":
      return Effect.die(fromWireDefect(outcome.defect))
    case "Interrupted":
      return Effect.interrupt
    case "Problem": {
      const p = outcome.problem
      return Effect.fail(workerError(
        p._tag === "TaskNotFound"
          ? new TaskNotFound({ taskName: task.name, module: task.module, message: p.message })
          : new CodecFailed({ taskName: task.name, side: "worker", direction: p.direction, path: p.path, message: p.message })
      ))
    }
  }
}

const replyEffect = (task: TaskRef, result: JobResult): Effect.Effect<unknown, unknown> => {
  if (result._tag === "Error") return Effect.fail(workerError(result.reason))
  const outcome = result.reply.outcome
  if (outcome === undefined) return Effect.die(new Error("a single task's reply had no outcome"))
  return outcomeEffect(task, codecOf(task), outcome)
}

/** Decodes one item's outcome into an exit (for collecting chunks). */
const outcomeExit = (task: TaskRef, codec: TaskCodec, outcome: WireOutcome): Exit.Exit<unknown, unknown> =>
  Effect.runSyncExit(outcomeEffect(task, codec, outcome))

const chunkEffect = (task: TaskRef, result: JobResult): Effect.Effect<ChunkOutcome, WorkerError> => {
  if (result._tag === "Error") {
    if (result.reason._tag === "WorkerCrashed") {
      return Effect.succeed({ _tag: "Crashed", error: workerError(result.reason), item: result.crashedItem })
    }
    return Effect.fail(workerError(result.reason))
  }
  const reply: WireReply = result.reply
  const codec = codecOf(task)
  if (reply.outcomes !== undefined) {
    return Effect.succeed({ _tag: "Exits", exits: reply.outcomes.map((o) => outcomeExit(task, codec, o)) })
  }
  const raw = reply.values ?? []
  const values: Array<unknown> = new Array(raw.length)
  for (let i = 0; i < raw.length; i++) {
    const r = codec.decodeSuccess(raw[i])
    if (!r.ok) {
      values.length = i
      return Effect.succeed({
        _tag: "Values",
        values,
        stop: Exit.fail(workerError(new CodecFailed({ taskName: task.name, side: "parent", direction: "success", ...r.issue })))
      })
    }
    values[i] = r.value
  }
  const outcome = reply.outcome
  return Effect.succeed({
    _tag: "Values",
    values,
    stop: outcome === undefined ? undefined : (outcomeExit(task, codec, outcome) as Exit.Exit<never, unknown>)
  })
}

const timeoutMillisOf = (options: RunOptions | undefined): number | undefined => {
  if (options?.timeout === undefined) return undefined
  const d = Duration.fromInput(options.timeout)
  if (d._tag === "None") {
    throw new InvalidOption({ option: "timeout", message: `timeout must be a duration, got ${String(options.timeout)}` })
  }
  return Duration.toMillis(d.value)
}

let poolIds = 0

/**
 * Effect metrics of a pool, labelled with its backend and a pool number: gauges for workers, busy
 * workers, utilization, queued and running tasks; counters for completed, failed, retried tasks and
 * worker crashes. The effect returned samples the engine once (deltas for counters).
 */
const sampler = (core: PoolCore, backend: string): Effect.Effect<void> => {
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
    const s = core.stats()
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
 * Runs `f` inside a client span when the caller is traced (has a parent span), handing it the span's ids
 * to continue in the worker; untraced callers pay one context lookup and nothing else.
 */
const traced = <A, E>(
  name: string,
  attributes: Record<string, unknown>,
  f: (trace: WireTrace | undefined) => Effect.Effect<A, E>
): Effect.Effect<A, E> =>
  Effect.withFiber((fiber) =>
    Option.isNone(Context.getOption(fiber.context, Tracer.ParentSpan))
      ? f(undefined)
      : Effect.withSpan(
        Effect.flatMap(Effect.orDie(Effect.currentSpan), (span) =>
          f({ traceId: span.traceId, spanId: span.spanId, sampled: span.sampled })),
        name,
        { kind: "client", attributes }
      ))

/**
 * Builds a pool on a backend within the current scope: workers start at once, in parallel; closing the
 * scope interrupts every task and ends every worker before it finishes closing (R3).
 */
export const makePool = (
  backend: Backend,
  options: PoolOptions | undefined
): Effect.Effect<PoolService, WorkerError, Scope.Scope> =>
  Effect.gen(function*() {
    const resolved = yield* Effect.try({
      try: () => resolveOptions(options),
      catch: (e) => workerError(e instanceof InvalidOption ? e : new InvalidOption({ option: "options", message: String(e) }))
    })
    if ((globalThis as Record<symbol, unknown>)[workerMarker] === true && options?.allowInWorker !== true) {
      // counted: the worker's task loader then refuses the tasks of the module whose import started this
      const g = globalThis as Record<symbol, unknown>
      g[poolRefusals] = ((g[poolRefusals] as number | undefined) ?? 0) + 1
      return yield* Effect.fail(workerError(new SpawnFailed({ message: missingGuardMessage })))
    }
    const core = new PoolCore(backend, resolved)
    // Shared objects travel with their memory to threads, as references to the parent to processes.
    const encodePayload = backend.name === "processes"
      ? (codec: TaskCodec, payload: unknown) => encodingFor(false, () => codec.encodePayload(payload))
      : (codec: TaskCodec, payload: unknown) => codec.encodePayload(payload)
    const init = resolved.initializer
    if (init !== undefined) {
      const encoded = encodePayload(codecOf(init.task), init.payload)
      if (!encoded.ok) {
        return yield* Effect.fail(workerError(
          new InvalidOption({ option: "initializer", message: `the initializer's payload does not match its schema: ${encoded.issue.message}` })
        ))
      }
      core.setInitializer(() =>
        core.makeJob(init.task, [encoded.value], {
          index: 0,
          attempt: 1,
          seed: 0,
          chunk: false,
          timeoutMillis: undefined,
          transfer: undefined
        })
      )
    }
    const sample = sampler(core, backend.name)
    yield* Effect.acquireRelease(
      Effect.sync(() => core.start()),
      () => Effect.andThen(Effect.callback<void>((resume) => core.close(() => resume(Effect.void))), sample)
    )
    // Metrics are sampled from the engine's counters once a second, off the hot path.
    yield* sample.pipe(Effect.repeat(Schedule.spaced("1 second")), Effect.forkScoped)

    /** Waits for a submitted job; interrupting the wait interrupts the job and waits until it stopped. */
    const awaitJob = <A, E>(job: Job, convert: (result: JobResult) => Effect.Effect<A, E>): Effect.Effect<A, E> =>
      Effect.callback<A, E>((resume) => {
        if (job.result !== undefined) return resume(convert(job.result))
        job.onResult = (result) => resume(convert(result))
        return Effect.callback<void>((resumeCancel) => core.interrupt(job, () => resumeCancel(Effect.void)))
      })

    const prepare = (
      task: TaskRef,
      payload: unknown,
      options: RunOptions | undefined,
      attempt = 1,
      trace: WireTrace | undefined = undefined
    ): Job | WorkerError => {
      const encoded = encodePayload(codecOf(task), payload)
      if (!encoded.ok) {
        return workerError(new CodecFailed({ taskName: task.name, side: "parent", direction: "payload", ...encoded.issue }))
      }
      let timeoutMillis: number | undefined
      try {
        timeoutMillis = timeoutMillisOf(options)
      } catch (e) {
        return workerError(e as InvalidOption)
      }
      return core.makeJob(task, [encoded.value], {
        index: options?.index ?? 0,
        attempt,
        seed: options?.seed ?? randomSeed(),
        chunk: false,
        trace,
        timeoutMillis,
        transfer: options?.transfer
      })
    }

    const runOnce = (task: TaskRef, payload: unknown, options: RunOptions | undefined, attempt: number) =>
      traced(`effect-parallel.task ${task.name}`, {
        "task.name": task.name,
        "task.index": options?.index ?? 0,
        "task.attempt": attempt
      }, (trace) => runTraced(task, payload, options, attempt, trace))

    const runTraced = (
      task: TaskRef,
      payload: unknown,
      options: RunOptions | undefined,
      attempt: number,
      trace: WireTrace | undefined
    ) =>
      Effect.suspend(() => {
        const job = prepare(task, payload, options, attempt, trace)
        if (job instanceof WorkerError) return Effect.fail(job)
        return Effect.callback<unknown, unknown>((resume) => {
          job.onResult = (result) => resume(replyEffect(task, result))
          core.submit(job)
          return Effect.callback<void>((resumeCancel) => core.interrupt(job, () => resumeCancel(Effect.void)))
        })
      })

    const run: PoolService["run"] = (task, payload, options, firstAttempt = 1) =>
      withRetry(options, firstAttempt, (options, attempt) => runOnce(task, payload, options, attempt))

    const admit: PoolService["admit"] = (task, payload, options) =>
      Effect.suspend(() => {
        const job = prepare(task, payload, options)
        if (job instanceof WorkerError) return Effect.fail(job)
        return Effect.callback<Effect.Effect<unknown, unknown>, WorkerError>((resume) => {
          job.onAdmit = () => resume(Effect.succeed(awaitJob(job, (r) => replyEffect(task, r))))
          core.submit(job)
          return Effect.callback<void>((resumeCancel) => core.interrupt(job, () => resumeCancel(Effect.void)))
        })
      })

    const runChunk: PoolService["runChunk"] = (task, payloads, index, options) =>
      traced(`effect-parallel.chunk ${task.name}`, {
        "task.name": task.name,
        "chunk.index": index,
        "chunk.items": payloads.length
      }, (trace) => runChunkTraced(task, payloads, index, options, trace))

    const runChunkTraced = (
      task: TaskRef,
      payloads: ReadonlyArray<unknown>,
      index: number,
      options: Parameters<PoolService["runChunk"]>[3],
      trace: WireTrace | undefined
    ): Effect.Effect<ChunkOutcome, WorkerError> =>
      Effect.suspend(() => {
        const codec = codecOf(task)
        const encoded: Array<unknown> = new Array(payloads.length)
        for (let k = 0; k < payloads.length; k++) {
          const r = encodePayload(codec, payloads[k])
          if (!r.ok) {
            const error = workerError(
              new CodecFailed({ taskName: task.name, side: "parent", direction: "payload", path: `[${index + k}]${r.issue.path}`, message: r.issue.message })
            )
            return aroundBadItem(payloads, index, k, options.collect, error, (p, i) => runChunk(task, p, i, options))
          }
          encoded[k] = r.value
        }
        const job = core.makeJob(task, encoded, {
          index,
          attempt: options.attempt,
          seed: options.seed,
          chunk: true,
          collect: options.collect,
          trace,
          timeoutMillis: undefined,
          transfer: undefined
        })
        job.onProgress = options.onProgress
        return Effect.callback<ChunkOutcome, WorkerError>((resume) => {
          job.onResult = (result) =>
            resume(
              result._tag === "Error" && result.reason._tag === "CodecFailed" && result.reason.side === "parent"
                ? splitChunk(task, payloads, index, options, result.reason)
                : chunkEffect(task, result)
            )
          core.submit(job)
          return Effect.callback<void>((resumeCancel) => core.interrupt(job, () => resumeCancel(Effect.void)))
        })
      })

    /**
     * A chunk whose message could not travel as a whole (structured clone refused a payload, or the parent
     * could not read the reply): the failure belongs to one item, not to the batch. A single item fails
     * with it; a longer chunk runs again one item at a time, so that exactly the bad items fail.
     */
    const splitChunk = (
      task: TaskRef,
      payloads: ReadonlyArray<unknown>,
      index: number,
      options: Parameters<PoolService["runChunk"]>[3],
      reason: CodecFailed
    ): Effect.Effect<ChunkOutcome, WorkerError> => {
      if (payloads.length === 1) {
        const exit = Exit.fail(workerError(reason))
        return Effect.succeed(options.collect ? { _tag: "Exits", exits: [exit] } : { _tag: "Values", values: [], stop: exit })
      }
      return Effect.gen(function*() {
        const exits: Array<Exit.Exit<unknown, unknown>> = []
        const values: Array<unknown> = []
        for (let k = 0; k < payloads.length; k++) {
          const exit = yield* Effect.exit(runOnce(task, payloads[k], { index: index + k, seed: options.seed }, options.attempt))
          if (options.collect) exits.push(exit)
          else if (Exit.isSuccess(exit)) values.push(exit.value)
          else return { _tag: "Values", values, stop: exit as Exit.Exit<never, unknown> } satisfies ChunkOutcome
        }
        return (options.collect ? { _tag: "Exits", exits } : { _tag: "Values", values, stop: undefined }) satisfies ChunkOutcome
      })
    }

    return {
      size: resolved.size,
      run,
      admit,
      runChunk,
      chunkSizeFor: (task, remaining) => core.policy.chunkSize(task, remaining, resolved.size),
      stats: Effect.sync(() => core.stats()),
      awaitReady: Effect.callback<void, WorkerError>((resume) => {
        const cancel = core.awaitReady(() => {
          const failure = core.failure()
          resume(failure === undefined ? Effect.void : Effect.fail(workerError(failure)))
        })
        return Effect.sync(cancel)
      })
    } satisfies PoolService
  })
