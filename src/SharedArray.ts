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
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { closedError, invalidArgumentError, unsupportedError } from "./internal/shared/errors.ts"
import { callHost, type Handle, HandleKey, handleSchema, isKind, unknownOp } from "./internal/shared/object.ts"
import { host } from "./internal/shared/registry.ts"
import { close, HEADER_CELLS, isClosed } from "./internal/shared/wait.ts"
import { SharedError } from "./SharedError.ts"

const kind = "SharedArray"

/**
 * The element types of a shared array.
 *
 * @category models
 * @since 0.1.0
 */
export type ElementType = "Int8" | "Uint8" | "Int16" | "Uint16" | "Int32" | "Uint32" | "Float32" | "Float64"

const constructors = {
  Int8: Int8Array,
  Uint8: Uint8Array,
  Int16: Int16Array,
  Uint16: Uint16Array,
  Int32: Int32Array,
  Uint32: Uint32Array,
  Float32: Float32Array,
  Float64: Float64Array
} as const

/** A typed array over shared memory. */
type TypedArray =
  | Int8Array<SharedArrayBuffer>
  | Uint8Array<SharedArrayBuffer>
  | Int16Array<SharedArrayBuffer>
  | Uint16Array<SharedArrayBuffer>
  | Int32Array<SharedArrayBuffer>
  | Uint32Array<SharedArrayBuffer>
  | Float32Array<SharedArrayBuffer>
  | Float64Array<SharedArrayBuffer>

// The buffer starts with the common header of shared objects (closed flag, wake sequence): 8 bytes, so the
// elements stay aligned for every element type.
const HEADER_BYTES = HEADER_CELLS * 4

const viewOf = (elementType: ElementType, buffer: SharedArrayBuffer, length: number): TypedArray =>
  new (constructors[elementType] as unknown as new(buffer: SharedArrayBuffer, offset: number, length: number) => TypedArray)(
    buffer,
    HEADER_BYTES,
    length
  )

const headerOf = (buffer: SharedArrayBuffer): Int32Array => new Int32Array(buffer, 0, HEADER_CELLS)

const atomicKinds: ReadonlySet<ElementType> = new Set(["Int8", "Uint8", "Int16", "Uint16", "Int32", "Uint32"])

/**
 * @category models
 * @since 0.1.0
 */
export interface SharedArray {
  readonly [HandleKey]: Handle
  readonly elementType: ElementType
  readonly length: number
  /** @internal */
  readonly ops: ArrayOps
}

interface ArrayOps {
  readonly view: Effect.Effect<TypedArray, SharedError>
  readonly get: (index: number) => Effect.Effect<number, SharedError>
  readonly set: (index: number, value: number) => Effect.Effect<void, SharedError>
  readonly add: (index: number, value: number) => Effect.Effect<number, SharedError>
  readonly compareExchange: (index: number, expected: number, replacement: number) => Effect.Effect<number, SharedError>
  readonly toArray: Effect.Effect<TypedArray, SharedError>
}

const outOfRange = (index: number, length: number) =>
  Effect.die(new RangeError(`SharedArray index ${index} is out of range [0, ${length})`))

const notAtomic = (elementType: ElementType) =>
  Effect.die(new TypeError(`SharedArray of ${elementType}: atomic operations need an integer element type`))

/** Operations on the memory itself: what threads do directly and the parent does for processes. */
const localOps = (elementType: ElementType, array: TypedArray, header: Int32Array): ArrayOps => {
  const check = (index: number) => Number.isInteger(index) && index >= 0 && index < array.length
  const atomic = atomicKinds.has(elementType)
  const ints = array as unknown as Int32Array
  // every operation fails with Closed once the array's scope has ended
  const open = <A>(f: () => Effect.Effect<A, SharedError>): Effect.Effect<A, SharedError> =>
    Effect.suspend(() => (isClosed(header) ? Effect.fail(closedError(kind)) : f()))
  return {
    view: open(() => Effect.succeed(array)),
    get: (i) => open(() => check(i) ? Effect.sync(() => (atomic ? Atomics.load(ints, i) : array[i]!)) : outOfRange(i, array.length)),
    set: (i, v) =>
      open(() =>
        check(i)
          ? Effect.sync(() => {
            if (atomic) Atomics.store(ints, i, v)
            else array[i] = v
          })
          : outOfRange(i, array.length)
      ),
    add: (i, v) =>
      open(() => !atomic ? notAtomic(elementType) : check(i) ? Effect.sync(() => Atomics.add(ints, i, v)) : outOfRange(i, array.length)),
    compareExchange: (i, e, r) =>
      open(() =>
        !atomic ? notAtomic(elementType) : check(i) ? Effect.sync(() => Atomics.compareExchange(ints, i, e, r)) : outOfRange(i, array.length)
      ),
    toArray: open(() => Effect.sync(() => array.slice() as unknown as TypedArray))
  }
}

const fromHandle = (handle: Handle, elementType: ElementType, length: number): SharedArray => {
  if (handle.buffer !== undefined) {
    const array = viewOf(elementType, handle.buffer, length)
    return { [HandleKey]: handle, elementType, length, ops: localOps(elementType, array, headerOf(handle.buffer)) }
  }
  return {
    [HandleKey]: handle,
    elementType,
    length,
    ops: {
      view: Effect.fail(
        unsupportedError(kind, "a process worker cannot view shared memory; use get, set, add or toArray")
      ),
      get: (i) => callHost(handle, "get", [i]) as Effect.Effect<number, SharedError>,
      set: (i, v) => Effect.asVoid(callHost(handle, "set", [i, v])),
      add: (i, v) => callHost(handle, "add", [i, v]) as Effect.Effect<number, SharedError>,
      compareExchange: (i, e, r) => callHost(handle, "compareExchange", [i, e, r]) as Effect.Effect<number, SharedError>,
      toArray: callHost(handle, "toArray", []) as Effect.Effect<TypedArray, SharedError>
    }
  }
}

/**
 * Tells whether a value is a {@link SharedArray}.
 *
 * @category guards
 * @since 0.1.0
 */
export const isSharedArray: (u: unknown) => u is SharedArray = isKind<SharedArray>(kind)

// The element type and length travel in the kind string, so one schema fits every shared array.
const encodeKind = (elementType: ElementType, length: number) => `${kind}:${elementType}:${length}`

/**
 * The schema to put a shared array in a task's payload.
 *
 * @category schemas
 * @since 0.1.0
 */
export const schema = handleSchema<SharedArray>(kind, isSharedArray, (h) => {
  const [, elementType, length] = h.detail?.split(":") ?? []
  return fromHandle(h, elementType as ElementType, Number(length))
})

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
    return allocate(elementType, length)
  })

const allocate = (elementType: ElementType, length: number): Effect.Effect<SharedArray, never, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => {
        const C = constructors[elementType]
        const buffer = new SharedArrayBuffer(HEADER_BYTES + length * C.BYTES_PER_ELEMENT)
        const array = viewOf(elementType, buffer, length)
        const header = headerOf(buffer)
        const ops = localOps(elementType, array, header)
        const hosted = host({
          kind,
          call: (_owner, op, args) => {
            const [a, b, c] = args as ReadonlyArray<number>
            switch (op) {
              case "get":
                return ops.get(a!)
              case "set":
                return ops.set(a!, b!)
              case "add":
                return ops.add(a!, b!)
              case "compareExchange":
                return ops.compareExchange(a!, b!, c!)
              case "toArray":
                return ops.toArray
              default:
                return unknownOp(kind, op)
            }
          }
        })
        const handle: Handle = { kind, id: hosted.id, buffer, detail: encodeKind(elementType, length) }
        return { array: fromHandle(handle, elementType, length), remove: hosted.remove, header }
      }),
      ({ header, remove }) =>
        Effect.sync(() => {
          remove()
          close(header)
        })
    ),
    ({ array }) => array
  )

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
