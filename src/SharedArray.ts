/**
 * A typed array in shared memory that every worker reads and writes (Python's `multiprocessing.Array`,
 * with atomic operations Python does not have).
 *
 * On threads, workers use the very same memory: `view` gives the live typed array (zero copy; summing a
 * 64 MiB array in a worker costs the sum), and `add` / `compareExchange` are `Atomics` operations. On
 * processes the parent holds the memory and workers reach it through the pool's channel (each operation
 * is a message; `view` is not available there).
 *
 * For compound updates that must not interleave, guard them with a `SharedLock`; for counters, `add` is
 * atomic on its own: 100,000 increments from 2 workers give exactly 200,000 (Python's `v.value += 1`
 * loses about a fifth of them).
 *
 * @since 0.1.0
 */
import "./internal/nodeVersion.ts"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { lazyImport } from "./internal/lazy.ts"
import { constructors, kind, parseDetail } from "./internal/shared/array/protocol.ts"
import { type ArrayView, arrayView } from "./internal/shared/array/worker.ts"
import { invalidArgumentError } from "./internal/shared/errors.ts"
import { type Handle, HandleKey, handleSchema, isKind } from "./internal/shared/object.ts"
import type { SharedError } from "./SharedError.ts"

/** The parent side (making and hosting the object), imported on first use: see `internal/lazy.ts`. */
const parent = lazyImport(() => import("./internal/shared/array/parent.ts"))

/**
 * The element types of a shared array.
 *
 * @category models
 * @since 0.1.0
 */
export type ElementType = "Int8" | "Uint8" | "Int16" | "Uint16" | "Int32" | "Uint32" | "Float32" | "Float64"

/**
 * A typed array over shared memory: what `view` gives (and `toArray`, over a copy).
 *
 * @category models
 * @since 0.2.0
 */
export type TypedArray =
  | Int8Array<SharedArrayBuffer>
  | Uint8Array<SharedArrayBuffer>
  | Int16Array<SharedArrayBuffer>
  | Uint16Array<SharedArrayBuffer>
  | Int32Array<SharedArrayBuffer>
  | Uint32Array<SharedArrayBuffer>
  | Float32Array<SharedArrayBuffer>
  | Float64Array<SharedArrayBuffer>

/**
 * @category models
 * @since 0.1.0
 */
export interface SharedArray {
  readonly [HandleKey]: Handle
  readonly elementType: ElementType
  readonly length: number
  /** @internal */
  readonly ops: ArrayView
}

const fromHandle = (handle: Handle): SharedArray => {
  const { elementType, length } = parseDetail(handle.detail)
  return { [HandleKey]: handle, elementType, length, ops: arrayView(handle) }
}

/**
 * Tells whether a value is a {@link SharedArray}.
 *
 * @category guards
 * @since 0.1.0
 */
export const isSharedArray: (u: unknown) => u is SharedArray = isKind<SharedArray>(kind)

/**
 * The schema to put a shared array in a task's payload.
 *
 * @category schemas
 * @since 0.1.0
 */
export const schema = handleSchema<SharedArray>(kind, isSharedArray, fromHandle)

/**
 * Makes a shared array of `length` elements (zeros), alive as long as the current scope.
 *
 * **Example**
 *
 * ```ts
 * const counts = yield* SharedArray.make("Int32", 16)
 * yield* WorkerPool.map(Tally, chunks.map((words) => ({ words, counts })))
 * const totals = yield* SharedArray.toArray(counts)
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (elementType: ElementType, length: number): Effect.Effect<SharedArray, SharedError, Scope.Scope> =>
  Effect.suspend(() => {
    if (!Object.hasOwn(constructors, elementType)) {
      return Effect.fail(invalidArgumentError(kind, "elementType", `unknown element type ${String(elementType)}`))
    }
    if (!(Number.isInteger(length) && length >= 0)) {
      return Effect.fail(invalidArgumentError(kind, "length", `length must be a non-negative integer, got ${length}`))
    }
    return Effect.map(Effect.flatMap(parent, (p) => p.makeArray(elementType, length)), fromHandle)
  })

/**
 * The live typed array over the shared memory (threads and in-process; fails with reason `Unsupported` in
 * a process worker). Writes are seen by every worker; use `add` / `compareExchange` or a lock when
 * several write the same element.
 *
 * @category getters
 * @since 0.1.0
 */
export const view = (self: SharedArray): Effect.Effect<TypedArray, SharedError> => self.ops.view

/**
 * Reads one element.
 *
 * @category getters
 * @since 0.1.0
 */
export const get = (self: SharedArray, index: number): Effect.Effect<number, SharedError> => self.ops.get(index)

/**
 * Writes one element.
 *
 * @category combinators
 * @since 0.1.0
 */
export const set = (self: SharedArray, index: number, value: number): Effect.Effect<void, SharedError> =>
  self.ops.set(index, value)

/**
 * Adds to one element atomically (integer element types) and returns its previous value.
 *
 * @category combinators
 * @since 0.1.0
 */
export const add = (self: SharedArray, index: number, value: number): Effect.Effect<number, SharedError> =>
  self.ops.add(index, value)

/**
 * Replaces one element with `replacement` if it equals `expected`, atomically (integer element types);
 * returns the value it had.
 *
 * @category combinators
 * @since 0.1.0
 */
export const compareExchange = (
  self: SharedArray,
  index: number,
  expected: number,
  replacement: number
): Effect.Effect<number, SharedError> => self.ops.compareExchange(index, expected, replacement)

/**
 * A copy of the whole array, as a plain typed array.
 *
 * @category getters
 * @since 0.1.0
 */
export const toArray = (self: SharedArray): Effect.Effect<TypedArray, SharedError> => self.ops.toArray
