/**
 * `SharedArray`: its operations, and the typed array on shared memory that both sides use (a thread on the
 * memory it shares, the parent for a process worker).
 *
 * The buffer starts with the common header of shared objects (closed flag, wake sequence): 8 bytes, so the
 * elements stay aligned for every element type. Every operation fails with `Closed` once the array's
 * scope has ended.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type { ElementType, TypedArray } from "../../../SharedArray.ts"
import type { SharedError } from "../../../SharedError.ts"
import { closedError } from "../errors.ts"
import { HEADER_CELLS, isClosed } from "../wait.ts"

export const kind = "SharedArray"

export type ArrayOps = {
  readonly get: { readonly request: { readonly index: number }; readonly result: number }
  readonly set: { readonly request: { readonly index: number; readonly value: number }; readonly result: void }
  readonly add: { readonly request: { readonly index: number; readonly value: number }; readonly result: number }
  readonly compareExchange: {
    readonly request: { readonly index: number; readonly expected: number; readonly replacement: number }
    readonly result: number
  }
  readonly toArray: { readonly request: {}; readonly result: TypedArray }
}

export const constructors = {
  Int8: Int8Array,
  Uint8: Uint8Array,
  Int16: Int16Array,
  Uint16: Uint16Array,
  Int32: Int32Array,
  Uint32: Uint32Array,
  Float32: Float32Array,
  Float64: Float64Array
} as const

export const HEADER_BYTES = HEADER_CELLS * 4

export const viewOf = (elementType: ElementType, buffer: SharedArrayBuffer, length: number): TypedArray =>
  new (constructors[elementType] as unknown as new(buffer: SharedArrayBuffer, offset: number, length: number) => TypedArray)(
    buffer,
    HEADER_BYTES,
    length
  )

export const headerOf = (buffer: SharedArrayBuffer): Int32Array => new Int32Array(buffer, 0, HEADER_CELLS)

const atomicKinds: ReadonlySet<ElementType> = new Set(["Int8", "Uint8", "Int16", "Uint16", "Int32", "Uint32"])

export interface ArrayView {
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

/** The operations on the memory itself: what threads do directly and the parent does for processes. */
export const arrayOnMemory = (elementType: ElementType, buffer: SharedArrayBuffer, length: number): ArrayView => {
  const array = viewOf(elementType, buffer, length)
  const header = headerOf(buffer)
  const check = (index: number) => Number.isInteger(index) && index >= 0 && index < array.length
  const atomic = atomicKinds.has(elementType)
  const ints = array as unknown as Int32Array
  // every operation checks the closed flag first; each is one effect on the way that succeeds. The error is
  // made when an operation fails, not here: a typed error validates its fields when constructed, which cost
  // a handle's decoding in the worker ~40 µs per task with cold caches (W4)
  const closed = Effect.suspend(() => Effect.fail(closedError(kind)))
  const bad = (i: number) => (atomic ? outOfRange(i, array.length) : notAtomic(elementType))
  return {
    view: Effect.suspend(() => (isClosed(header) ? closed : Effect.succeed(array))),
    get: (i) =>
      Effect.suspend(() =>
        isClosed(header) ? closed : check(i) ? Effect.succeed(atomic ? Atomics.load(ints, i) : array[i]!) : outOfRange(i, array.length)
      ),
    set: (i, v) =>
      Effect.suspend(() => {
        if (isClosed(header)) return closed
        if (!check(i)) return outOfRange(i, array.length)
        if (atomic) Atomics.store(ints, i, v)
        else array[i] = v
        return Effect.void
      }),
    add: (i, v) => Effect.suspend(() => (isClosed(header) ? closed : atomic && check(i) ? Effect.succeed(Atomics.add(ints, i, v)) : bad(i))),
    compareExchange: (i, e, r) =>
      Effect.suspend(() => (isClosed(header) ? closed : atomic && check(i) ? Effect.succeed(Atomics.compareExchange(ints, i, e, r)) : bad(i))),
    toArray: Effect.suspend(() => (isClosed(header) ? closed : Effect.succeed(array.slice() as unknown as TypedArray)))
  }
}

/** The element type and length travel in the handle's detail, so one schema fits every shared array. */
export const detailOf = (elementType: ElementType, length: number) => `${kind}:${elementType}:${length}`

export const parseDetail = (detail: string | undefined): { readonly elementType: ElementType; readonly length: number } => {
  const [, elementType, length] = detail?.split(":") ?? []
  return { elementType: elementType as ElementType, length: Number(length) }
}
