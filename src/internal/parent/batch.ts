/**
 * Batches: `map`, `imap`, `imapUnordered`, `starmap` over any iterable, lazily pulled (R6).
 *
 * Items are grouped into chunks whose size is chosen when the chunk is cut (adaptive, see `policy.ts`),
 * so a generator of ten million items is never materialized: at most `window` chunks are in flight, and
 * the ordered stream's reorder buffer is bounded by the same window.
 *
 * Two modes. Fail-fast (default): the worker stops a chunk at its first failure and the batch fails,
 * interrupting the chunks still running. `mode: "result"`: every item runs, and the batch yields one
 * `BatchResult` per input (its index, and its value or error), to the end.
 *
 * Retries are per item: a chunk that stopped at a retryable failure retries that item alone, then goes
 * on with the rest of the chunk. A chunk whose worker crashed re-runs its other items and charges the
 * crash to the item that was running (threads know it exactly; processes re-run the chunk item by item).
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Stream from "effect/Stream"
import * as Progress from "../../Progress.ts"
import type { WorkerError } from "../../WorkerError.ts"
import { InvalidOption, WorkerError as WorkerErrorClass } from "../../WorkerError.ts"
import type { ChunkOutcome, PoolService, TaskRef } from "../service.ts"
import { WorkerPool } from "../service.ts"
import { randomSeed } from "../random.ts"
import type { ResolvedRetry, RetryOption } from "./retry.ts"
import { resolveRetry } from "./retry.ts"

export interface BatchOptions {
  /** Items per message to a worker: `"auto"` (default) adapts to measured task durations. */
  readonly chunkSize?: number | "auto" | undefined
  /** Seed of the batch: task k's random stream depends on (seed, k) only (R7). Default: random. */
  readonly seed?: number | undefined
  /** Chunks in flight at once (default: twice the pool size). Bounds memory on endless inputs. */
  readonly window?: number | undefined
  /** Retries per item: a number, a `Schedule`, or `{ times, schedule, retryable }`. */
  readonly retry?: RetryOption | undefined
  /** Show progress (a bar on a TTY, plain lines otherwise) or send it to `Progress.Reporter`. */
  readonly progress?: boolean | { readonly label?: string | undefined } | undefined
  /** `"fail-fast"` (default): the first failure fails the batch. `"result"`: one `BatchResult` per item. */
  readonly mode?: "fail-fast" | "result" | undefined
  /**
   * Per item, counted from the item's start (joblib's `timeout`): an item past it is interrupted and fails
   * with reason `TaskTimeout`. Items then travel one per message (a timeout needs its own clock).
   */
  readonly timeout?: import("effect/Duration").Input | undefined
}

/**
 * One input's outcome in a `mode: "result"` batch.
 *
 * @category models
 * @since 0.1.0
 */
export type BatchResult<A, E> =
  | { readonly _tag: "Success"; readonly index: number; readonly value: A; readonly attempts: number }
  | { readonly _tag: "Failure"; readonly index: number; readonly error: E; readonly attempts: number }
  | { readonly _tag: "Defect"; readonly index: number; readonly defect: unknown; readonly attempts: number }

interface Cut {
  readonly start: number
  readonly items: ReadonlyArray<unknown>
}

interface Item {
  readonly index: number
  readonly exit: Exit.Exit<unknown, unknown>
  readonly attempts: number
}

const invalid = (option: string, message: string) => new WorkerErrorClass({ reason: new InvalidOption({ option, message }) })

const validate = (options: BatchOptions | undefined): WorkerError | undefined => {
  const c = options?.chunkSize
  if (c !== undefined && c !== "auto" && !(typeof c === "number" && Number.isInteger(c) && c > 0)) {
    return invalid("chunkSize", `chunkSize must be a positive integer or "auto", got ${String(c)}`)
  }
  const w = options?.window
  if (w !== undefined && !(typeof w === "number" && Number.isInteger(w) && w > 0)) {
    return invalid("window", `window must be a positive integer, got ${String(w)}`)
  }
  const s = options?.seed
  if (s !== undefined && !(typeof s === "number" && Number.isFinite(s))) {
    return invalid("seed", `seed must be a finite number, got ${String(s)}`)
  }
  const m = options?.mode
  if (m !== undefined && m !== "fail-fast" && m !== "result") {
    return invalid("mode", `mode must be "fail-fast" or "result", got ${String(m)}`)
  }
  try {
    resolveRetry(options?.retry)
  } catch (e) {
    return invalid("retry", (e as Error).message)
  }
  return undefined
}

/** Cuts an iterable into chunks lazily; each chunk's size is decided when it is cut. */
function* cuts(pool: PoolService, task: TaskRef, items: Iterable<unknown>, chunkSize: number | "auto"): Generator<Cut> {
  const known = Array.isArray(items) ? items.length : undefined
  const iterator = items[Symbol.iterator]()
  let index = 0
  try {
    while (true) {
      const size = chunkSize === "auto" ? pool.chunkSizeFor(task, known === undefined ? undefined : known - index) : chunkSize
      const chunk: Array<unknown> = []
      for (let k = 0; k < size; k++) {
        const r = iterator.next()
        if (r.done) break
        chunk.push(r.value)
      }
      if (chunk.length === 0) return
      const start = index
      index += chunk.length
      yield { start, items: chunk }
      if (chunk.length < size) return
    }
  } finally {
    iterator.return?.()
  }
}

/** What one batch shares between its chunks. */
interface Run {
  readonly pool: PoolService
  readonly task: TaskRef
  readonly seed: number
  readonly collect: boolean
  readonly retry: ResolvedRetry | undefined
  readonly onProgress: ((index: number, fraction: number) => void) | undefined
  readonly timeout: import("effect/Duration").Input | undefined
}

const failureOf = (exit: Exit.Exit<unknown, unknown>): unknown => {
  if (Exit.isSuccess(exit)) return undefined
  const fail = exit.cause.reasons.find(Cause.isFailReason)
  return fail?.error
}

const isInterruptOnly = (exit: Exit.Exit<unknown, unknown>): boolean =>
  Exit.isFailure(exit) && exit.cause.reasons.length > 0 && exit.cause.reasons.every(Cause.isInterruptReason)

/** Retries one item alone, as a single task, from `attempt` on, while the policy allows. */
const retryItem = (
  run: Run,
  payload: unknown,
  index: number,
  previous: Exit.Exit<unknown, unknown>,
  attempt: number
): Effect.Effect<Item> => {
  const policy = run.retry
  if (
    policy === undefined || Exit.isSuccess(previous) || isInterruptOnly(previous) ||
    policy.times === 0 || !policy.isRetryable(failureOf(previous))
  ) {
    return Effect.succeed({ index, exit: previous, attempts: attempt - 1 })
  }
  let attempts = attempt - 1
  const once = Effect.suspend(() => run.pool.run(run.task, payload, { index, seed: run.seed, timeout: run.timeout }, ++attempts))
  return Effect.map(
    Effect.exit(once.pipe(Effect.retry({
      while: policy.isRetryable,
      ...(policy.times === undefined ? {} : { times: policy.times - 1 }),
      ...(policy.schedule === undefined ? {} : { schedule: policy.schedule })
    }))),
    (exit) => ({ index, exit, attempts })
  )
}

/** Runs a cut to the end (collect) or to its first unrecovered failure (fail-fast). Never fails itself. */
const runCut = (run: Run, cut: Cut): Effect.Effect<Array<Item>, WorkerError> =>
  Effect.gen(function*() {
    const out: Array<Item> = []
    if (run.timeout !== undefined) {
      // each item on its own, with its own clock
      for (let k = 0; k < cut.items.length; k++) {
        const payload = cut.items[k]
        const exit = yield* Effect.exit(
          run.pool.run(run.task, payload, { index: cut.start + k, seed: run.seed, timeout: run.timeout }, 1)
        )
        const item = Exit.isSuccess(exit) ? { index: cut.start + k, exit, attempts: 1 } : yield* retryItem(run, payload, cut.start + k, exit, 2)
        out.push(item)
        if (!run.collect && Exit.isFailure(item.exit)) return out
      }
      return out
    }
    let offset = 0
    while (offset < cut.items.length) {
      const payloads = offset === 0 ? cut.items : cut.items.slice(offset)
      const base = cut.start + offset
      const outcome: ChunkOutcome = yield* run.pool.runChunk(run.task, payloads, base, {
        seed: run.seed,
        attempt: 1,
        collect: run.collect,
        onProgress: run.onProgress
      })
      if (outcome._tag === "Exits") {
        for (let k = 0; k < outcome.exits.length; k++) {
          const exit = outcome.exits[k]!
          out.push(
            Exit.isSuccess(exit) ? { index: base + k, exit, attempts: 1 } : yield* retryItem(run, payloads[k], base + k, exit, 2)
          )
        }
        return out
      }
      if (outcome._tag === "Values") {
        for (let k = 0; k < outcome.values.length; k++) {
          out.push({ index: base + k, exit: Exit.succeed(outcome.values[k]), attempts: 1 })
        }
        if (outcome.stop === undefined) return out
        const at = outcome.values.length
        const item = yield* retryItem(run, payloads[at], base + at, outcome.stop, 2)
        out.push(item)
        if (Exit.isFailure(item.exit)) return out
        offset += at + 1
        continue
      }
      // Crashed: the item that was running is charged with the crash (or retried); the others run again.
      if (outcome.item !== undefined) {
        const k = outcome.item
        if (k > 0) {
          // items before the crash had finished, but their results died with the worker: run them again
          const again = yield* runCut(run, { start: base, items: payloads.slice(0, k) })
          out.push(...again)
          if (!run.collect && again.some((i) => Exit.isFailure(i.exit))) return out
        }
        const crashed = yield* retryItem(run, payloads[k], base + k, Exit.fail(outcome.error), 2)
        out.push(crashed)
        if (!run.collect && Exit.isFailure(crashed.exit)) return out
        offset += k + 1
        continue
      }
      // the backend cannot tell which item crashed: run the chunk again one item at a time
      for (let k = 0; k < payloads.length; k++) {
        const exit = yield* Effect.exit(run.pool.run(run.task, payloads[k], { index: base + k, seed: run.seed }, 1))
        const item = Exit.isSuccess(exit) ? { index: base + k, exit, attempts: 1 } : yield* retryItem(run, payloads[k], base + k, exit, 2)
        out.push(item)
        if (!run.collect && Exit.isFailure(item.exit)) return out
      }
      return out
    }
    return out
  })

const toResult = (item: Item): BatchResult<unknown, unknown> => {
  const { index, exit, attempts } = item
  if (Exit.isSuccess(exit)) return { _tag: "Success", index, value: exit.value, attempts }
  const fail = exit.cause.reasons.find(Cause.isFailReason)
  if (fail !== undefined) return { _tag: "Failure", index, error: fail.error, attempts }
  const die = exit.cause.reasons.find(Cause.isDieReason)
  return { _tag: "Defect", index, defect: die !== undefined ? die.defect : Cause.squash(exit.cause), attempts }
}

const labelOf = (task: TaskRef, progress: BatchOptions["progress"]): string | undefined => {
  if (progress === undefined || progress === false) return undefined
  return progress === true ? task.name : progress.label ?? task.name
}

/**
 * A stream of chunk results: arrays of items in input order, or in completion order. Fail-fast batches
 * fail with the first unrecovered failure (after the items before it in the same chunk were emitted).
 */
const itemStream = (
  task: TaskRef,
  items: Iterable<unknown>,
  options: BatchOptions | undefined,
  unordered: boolean
): Stream.Stream<ReadonlyArray<Item>, unknown, WorkerPool> =>
  Stream.unwrap(Effect.gen(function*() {
    const invalidOptions = validate(options)
    if (invalidOptions !== undefined) return Stream.fail(invalidOptions) as Stream.Stream<ReadonlyArray<Item>, unknown>
    const pool = yield* WorkerPool
    const collect = options?.mode === "result"
    const window = options?.window ?? pool.size * 2
    const label = labelOf(task, options?.progress)
    const reporter = label === undefined ? undefined : yield* Progress.Reporter
    const total = Array.isArray(items) ? items.length : undefined
    let done = 0
    let failed = 0
    const run: Run = {
      pool,
      task,
      seed: options?.seed ?? randomSeed(),
      collect,
      retry: resolveRetry(options?.retry),
      timeout: options?.timeout,
      onProgress: reporter === undefined || label === undefined
        ? undefined
        : (index, fraction) => reporter.report({ _tag: "TaskProgress", label, index, fraction, at: Date.now() })
    }
    const chunkSize = options?.timeout !== undefined ? 1 : options?.chunkSize ?? "auto"
    const chunks = Stream.fromIterable(cuts(pool, task, items, chunkSize), { chunkSize: 1 }).pipe(
      Stream.mapEffect((cut) => runCut(run, cut), { concurrency: window, unordered }),
      Stream.tap((batch) =>
        Effect.sync(() => {
          if (reporter === undefined || label === undefined) return
          for (const i of batch) {
            done++
            if (Exit.isFailure(i.exit)) failed++
          }
          reporter.report({ _tag: "Advanced", label, done, failed, total, at: Date.now() })
        })
      )
    )
    if (reporter === undefined || label === undefined) return chunks
    return Stream.ensuring(
      Stream.concat(
        Stream.fromEffect(Effect.sync(() => reporter.report({ _tag: "Started", label, total, at: Date.now() }))).pipe(Stream.drain),
        chunks
      ),
      Effect.sync(() => reporter.report({ _tag: "Finished", label, done, failed, total, at: Date.now() }))
    )
  }))

/** Values in order (fail-fast): the first failure ends the stream after the values before it. */
const failFast = (batch: ReadonlyArray<Item>): Stream.Stream<unknown, unknown> => {
  const values: Array<unknown> = []
  for (const item of batch) {
    if (Exit.isFailure(item.exit)) {
      const failed = item.exit
      return Stream.concat(Stream.fromIterable(values), Stream.fromEffect(Effect.failCause(failed.cause)))
    }
    values.push(item.exit.value)
  }
  return Stream.fromIterable(values)
}

export const imap = (task: TaskRef, items: Iterable<unknown>, options: BatchOptions | undefined, unordered: boolean) =>
  options?.mode === "result"
    ? itemStream(task, items, options, unordered).pipe(Stream.flatMap((batch) => Stream.fromIterable(batch.map(toResult))))
    : itemStream(task, items, options, unordered).pipe(Stream.flatMap(failFast))

export const map = (
  task: TaskRef,
  items: Iterable<unknown>,
  options: BatchOptions | undefined
): Effect.Effect<Array<unknown>, unknown, WorkerPool> =>
  Effect.flatMap(Stream.runCollect(itemStream(task, items, options, false)), (batches) => {
    let n = 0
    for (const b of batches) n += b.length
    const out: Array<unknown> = new Array(n)
    let i = 0
    const collect = options?.mode === "result"
    for (const b of batches) {
      for (const item of b) {
        if (collect) {
          out[i++] = toResult(item)
        } else if (Exit.isFailure(item.exit)) {
          return Effect.failCause(item.exit.cause)
        } else {
          out[i++] = item.exit.value
        }
      }
    }
    return Effect.succeed(out)
  })

/** Spreads each argument tuple over the payload: tuple schemas take it as is, structs by field order. */
export const spread = (task: TaskRef, args: Iterable<ReadonlyArray<unknown>>): Iterable<unknown> => {
  const fields = (task.payload as { readonly fields?: Record<string, unknown> }).fields
  if (fields === undefined) return args
  const keys = Object.keys(fields)
  const toStruct = (tuple: ReadonlyArray<unknown>) => {
    const o: Record<string, unknown> = {}
    for (let i = 0; i < keys.length; i++) o[keys[i]!] = tuple[i]
    return o
  }
  // an array stays an array, so that chunking still knows how many items are left
  if (Array.isArray(args)) return (args as ReadonlyArray<ReadonlyArray<unknown>>).map(toStruct)
  return {
    *[Symbol.iterator]() {
      for (const tuple of args) yield toStruct(tuple)
    }
  }
}

/**
 * Counts of a `mode: "result"` batch.
 *
 * @category models
 * @since 0.1.0
 */
export interface BatchSummary {
  readonly total: number
  readonly succeeded: number
  /** Failures by error tag (`WorkerError` reasons as `WorkerError.<reason>`), and `Defect`. */
  readonly failed: Readonly<Record<string, number>>
  /** Items that needed more than one attempt. */
  readonly retried: number
}

export const summarize = (results: ReadonlyArray<BatchResult<unknown, unknown>>): BatchSummary => {
  let succeeded = 0
  let retried = 0
  const failed: Record<string, number> = {}
  for (const r of results) {
    if (r.attempts > 1) retried++
    if (r._tag === "Success") {
      succeeded++
      continue
    }
    let key = "Defect"
    if (r._tag === "Failure") {
      const e = r.error as { readonly _tag?: unknown; readonly reason?: { readonly _tag?: unknown } }
      key = e instanceof WorkerErrorClass ? `WorkerError.${e.reason._tag}` : typeof e?._tag === "string" ? e._tag : "Failure"
    }
    failed[key] = (failed[key] ?? 0) + 1
  }
  return { total: results.length, succeeded, failed, retried }
}
