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
 * The front (`front.ts`) runs each chunk's items: retries per item, a crash charged to the item that was
 * running, an item that cannot be encoded failing where it stands. Here: options, cutting, streams,
 * progress, results.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Queue from "effect/Queue"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import * as Progress from "../../Progress.ts"
import type { BatchOptions, BatchResult } from "../../WorkerPool.ts"
import type { Payloads } from "../executor.ts"
import { type Checked, invalid, orFail, timeoutMillis } from "../options.ts"
import { randomSeed } from "../random.ts"
import { type ResolvedRetry, resolveRetry } from "../retry.ts"
import type { Item, ItemsRun, PoolService, TaskRef } from "../service.ts"
import { WorkerPool } from "../service.ts"
import { PACK_MIN } from "../wire.ts"

export interface Cut {
  readonly start: number
  readonly items: Payloads
}

/** A batch's options, validated once. */
const validate = (options: BatchOptions<any> | undefined): Checked<{
  readonly retry: ResolvedRetry | undefined
  readonly timeoutMillis: number | undefined
}> =>
  Result.gen(function*() {
    const c = options?.chunkSize
    if (c !== undefined && c !== "auto" && !(typeof c === "number" && Number.isInteger(c) && c > 0)) {
      return yield* invalid("chunkSize", `chunkSize must be a positive integer or "auto", got ${String(c)}`)
    }
    const w = options?.window
    if (w !== undefined && !(typeof w === "number" && Number.isInteger(w) && w > 0)) {
      return yield* invalid("window", `window must be a positive integer, got ${String(w)}`)
    }
    const s = options?.seed
    if (s !== undefined && !(typeof s === "number" && Number.isFinite(s))) {
      return yield* invalid("seed", `seed must be a finite number, got ${String(s)}`)
    }
    const m = options?.mode
    if (m !== undefined && m !== "fail-fast" && m !== "result") {
      return yield* invalid("mode", `mode must be "fail-fast" or "result", got ${String(m)}`)
    }
    const retry = yield* resolveRetry(options?.retry)
    return { retry, timeoutMillis: yield* timeoutMillis(options?.timeout) }
  })

/**
 * How many items of a stream source wait ready to be cut, at most, with `chunkSize: "auto"` (with a number,
 * that number): how far the source is pulled ahead of the chunks in flight (R6).
 */
export const STREAM_BUFFER = 4096

/** A batch's input: an iterable, pulled lazily, or an Effect `Stream`. */
export type Source = Iterable<unknown> | Stream.Stream<unknown, unknown, unknown>

/**
 * Cuts a stream into chunks as its items arrive: a chunk is cut when it is full OR when the source has
 * nothing more ready, so a slow source never waits to fill a chunk (`Queue.takeBetween(1, size)` on a
 * bounded buffer the source runs into: the buffer's capacity is how far ahead the source is pulled).
 * The source's failure ends the cuts with it; ending the cuts (interruption) stops the source.
 */
export const streamCuts = <E, R>(
  pool: PoolService,
  task: TaskRef,
  source: Stream.Stream<unknown, E, R>,
  chunkSize: number | "auto"
): Stream.Stream<Cut, E, R> =>
  Stream.unwrap(Effect.map(Stream.toQueue(source, { capacity: chunkSize === "auto" ? STREAM_BUFFER : chunkSize }), (queue) => {
    let index = 0
    const pull = Effect.suspend(() => Queue.takeBetween(queue, 1, chunkSize === "auto" ? pool.chunkSize(task, undefined) : chunkSize)).pipe(
      Effect.map((items): readonly [Cut] => {
        const start = index
        index += items.length
        return [{ start, items }]
      })
    )
    return Stream.fromPull(Effect.succeed(pull))
  }))

/**
 * Items `from` to `from + size` of an array, when they are all numbers: copied into a `Float64Array`, the form
 * the wire sends numbers in. One pass instead of three (a slice, then the wire's check and copy into a
 * Float64Array), and no slice left behind: the slices of a `map` over 100,000 numbers were 0.8 MB of garbage
 * a batch, most of what a batch allocated, and brought a fresh process's first scavenge (which copies what
 * loading left in the young generation, ~8 ms) into its second or third batch. `undefined` at the first
 * item that is not a number, or for a chunk shorter than the wire packs (the chunk is sliced).
 */
const numbersOf = (all: ReadonlyArray<unknown>, from: number, size: number): Float64Array | undefined => {
  const n = Math.min(size, all.length - from)
  if (n < PACK_MIN) return undefined
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const item = all[from + i]
    if (typeof item !== "number") return undefined
    out[i] = item
  }
  return out
}

/** Cuts an iterable into chunks lazily; each chunk's size is decided when it is cut. */
function* cuts(pool: PoolService, task: TaskRef, items: Iterable<unknown>, chunkSize: number | "auto"): Generator<Cut> {
  if (Array.isArray(items)) {
    // an array is cut by slicing: no iterator step per item
    const all: ReadonlyArray<unknown> = items
    let index = 0
    while (index < all.length) {
      const size = chunkSize === "auto" ? pool.chunkSize(task, all.length - index) : chunkSize
      const chunk = numbersOf(all, index, size) ?? all.slice(index, index + size)
      yield { start: index, items: chunk }
      index += chunk.length
    }
    return
  }
  const iterator = items[Symbol.iterator]()
  let index = 0
  try {
    while (true) {
      const size = chunkSize === "auto" ? pool.chunkSize(task, undefined) : chunkSize
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
 * A stream of chunk results, in input order, or in completion order. Fail-fast batches fail with the first
 * unrecovered failure (after the items before it in the same chunk were emitted).
 */
const itemStream = (
  task: TaskRef,
  items: Source,
  options: BatchOptions<any> | undefined,
  unordered: boolean
): Stream.Stream<ItemsRun, unknown, unknown> =>
  Stream.unwrap(Effect.gen(function*() {
    const valid = yield* orFail(validate(options))
    const pool = yield* WorkerPool
    const window = options?.window ?? pool.size * 2
    const label = labelOf(task, options?.progress)
    const reporter = label === undefined ? undefined : yield* Progress.Reporter
    const total = Array.isArray(items) ? items.length : undefined
    let done = 0
    let failed = 0
    const plan = {
      seed: options?.seed ?? randomSeed(),
      collect: options?.mode === "result",
      attempt: 1,
      retry: valid.retry,
      timeoutMillis: valid.timeoutMillis,
      onProgress: reporter === undefined || label === undefined
        ? undefined
        : (index: number, fraction: number) => reporter.report({ _tag: "TaskProgress", label, index, fraction, at: Date.now() })
    }
    const chunkSize = valid.timeoutMillis !== undefined ? 1 : options?.chunkSize ?? "auto"
    const source = Stream.isStream(items)
      ? streamCuts(pool, task, items, chunkSize)
      : Stream.fromIterable(cuts(pool, task, items, chunkSize), { chunkSize: 1 })
    const chunks = source.pipe(
      Stream.mapEffect((cut) => pool.runChunk(task, cut.items, cut.start, plan), { concurrency: window, unordered }),
      Stream.tap((run) =>
        Effect.sync(() => {
          if (reporter === undefined || label === undefined) return
          done += run.values.length
          for (const i of run.items) {
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
const failFast = (run: ItemsRun): Stream.Stream<unknown, unknown> => {
  const values: Array<unknown> = Array.from(run.values)
  for (const item of run.items) {
    if (Exit.isFailure(item.exit)) {
      const failed = item.exit
      return Stream.concat(Stream.fromIterable(values), Stream.fromEffect(Effect.failCause(failed.cause)))
    }
    values.push(item.exit.value)
  }
  return Stream.fromIterable(values)
}

/** Every item's `BatchResult` (mode "result"). */
const results = (run: ItemsRun): Array<BatchResult<unknown, unknown>> => {
  const out: Array<BatchResult<unknown, unknown>> = []
  for (let i = 0; i < run.values.length; i++) {
    out.push({ _tag: "Success", index: run.start + i, value: run.values[i], attempts: run.attempts })
  }
  for (const item of run.items) out.push(toResult(item))
  return out
}

export const imap = (task: TaskRef, items: Source, options: BatchOptions<any> | undefined, unordered: boolean) =>
  options?.mode === "result"
    ? itemStream(task, items, options, unordered).pipe(Stream.flatMap((run) => Stream.fromIterable(results(run))))
    : itemStream(task, items, options, unordered).pipe(Stream.flatMap(failFast))

/** A stream through the pool (`WorkerPool.mapStream`): `imap`, or `imapUnordered` with `ordered: false`. */
export const mapStream = (
  source: Stream.Stream<unknown, unknown, unknown>,
  task: TaskRef,
  options: (BatchOptions<any> & { readonly ordered?: boolean | undefined }) | undefined
): Stream.Stream<unknown, unknown, unknown> => {
  const ordered = options?.ordered
  return ordered === undefined || typeof ordered === "boolean"
    ? imap(task, source, options, ordered === false)
    : Stream.fromEffect(orFail(invalid("ordered", `ordered must be a boolean, got ${String(ordered)}`)))
}

/**
 * Copies a run's values into a batch's result from `at`; returns where the next run's values go. A
 * function of its own so that V8 compiles its loop as a whole: written inline in the loop over the runs,
 * the inner loop was compiled alone (on-stack replacement), that code was thrown away at the end of every
 * run, and the whole loop was then compiled by TurboFan for ~15 ms on W1's second batch of 100,000 items
 * (measured with --trace-deopt / --trace-opt), CPU taken from the workers on a machine of 2 cores.
 */
const copyValues = (out: Array<unknown>, at: number, values: ArrayLike<unknown>): number => {
  const n = values.length
  for (let j = 0; j < n; j++) out[at + j] = values[j]
  return at + n
}

export const map = (
  task: TaskRef,
  items: Iterable<unknown>,
  options: BatchOptions<any> | undefined
): Effect.Effect<Array<unknown>, unknown, WorkerPool> =>
  Effect.flatMap(Stream.runCollect(itemStream(task, items, options, false) as Stream.Stream<ItemsRun, unknown, WorkerPool>), (runs) => {
    let n = 0
    for (const r of runs) n += r.values.length + r.items.length
    const out: Array<unknown> = new Array(n)
    let i = 0
    const collect = options?.mode === "result"
    for (const r of runs) {
      const values = r.values
      if (collect) {
        for (const result of results(r)) out[i++] = result
        continue
      }
      i = copyValues(out, i, values)
      for (const item of r.items) {
        if (Exit.isFailure(item.exit)) return Effect.failCause(item.exit.cause)
        out[i++] = item.exit.value
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
