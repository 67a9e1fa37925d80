/**
 * Batches: `map`, `imap`, `imapUnordered`, `starmap` over any iterable, lazily pulled (R6).
 *
 * Items are grouped into chunks whose size is chosen when the chunk is cut (adaptive, see `policy.ts`),
 * so a generator of ten million items is never materialized: at most `window` chunks are in flight, and
 * the ordered stream's reorder buffer is bounded by the same window.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type { WorkerError } from "../../WorkerError.ts"
import { InvalidOption, WorkerError as WorkerErrorClass } from "../../WorkerError.ts"
import type { PoolService, TaskRef } from "../service.ts"
import { WorkerPool } from "../service.ts"
import { randomSeed } from "./pool.ts"

export interface BatchOptions {
  /** Items per message to a worker: `"auto"` (default) adapts to measured task durations. */
  readonly chunkSize?: number | "auto" | undefined
  /** Seed of the batch: task k's random stream depends on (seed, k) only (R7). Default: random. */
  readonly seed?: number | undefined
  /** Chunks in flight at once (default: twice the pool size). Bounds memory on endless inputs. */
  readonly window?: number | undefined
}

interface Cut {
  readonly start: number
  readonly items: ReadonlyArray<unknown>
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

/** A stream of chunk results (arrays of values), in input order or in completion order. */
export const chunkStream = (
  task: TaskRef,
  items: Iterable<unknown>,
  options: BatchOptions | undefined,
  unordered: boolean
): Stream.Stream<ReadonlyArray<unknown>, unknown, WorkerPool> =>
  Stream.unwrap(Effect.gen(function*() {
    const invalidOptions = validate(options)
    if (invalidOptions !== undefined) return Stream.fail(invalidOptions)
    const pool = yield* WorkerPool
    const seed = options?.seed ?? randomSeed()
    const window = options?.window ?? pool.size * 2
    return Stream.fromIterable(cuts(pool, task, items, options?.chunkSize ?? "auto"), { chunkSize: 1 }).pipe(
      Stream.mapEffect((cut) => pool.runChunk(task, cut.items, cut.start, seed), { concurrency: window, unordered }),
      Stream.flatMap((result) =>
        result.failure === undefined
          ? Stream.succeed(result.values)
          : Stream.concat(Stream.succeed(result.values), Stream.fromEffect(result.failure))
      )
    )
  }))

export const imap = (task: TaskRef, items: Iterable<unknown>, options: BatchOptions | undefined, unordered: boolean) =>
  chunkStream(task, items, options, unordered).pipe(Stream.flattenIterable)

export const map = (
  task: TaskRef,
  items: Iterable<unknown>,
  options: BatchOptions | undefined
): Effect.Effect<Array<unknown>, unknown, WorkerPool> =>
  Effect.map(Stream.runCollect(chunkStream(task, items, options, false)), (chunks) => {
    let n = 0
    for (const c of chunks) n += c.length
    const out: Array<unknown> = new Array(n)
    let i = 0
    for (const c of chunks) for (const v of c) out[i++] = v
    return out
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
