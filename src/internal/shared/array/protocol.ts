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

/** Fails with `Closed`; the error is made when an operation fails, never ahead (a typed error validates its fields). */
const closed = Effect.suspend(() => Effect.fail(closedError(kind)))

/**
 * The operations on the memory itself: what threads do directly and the parent does for processes. Every
 * operation checks the closed flag first; each is one effect on the way that succeeds.
 *
 * A class, not an object of closures: a worker builds one for every task whose payload holds the array,
 * and with the caches cold (W4: each call comes right after a 64 MiB sweep) seven closures, three effects
 * and an error made at every decode cost ~40 µs; this costs two typed arrays over the memory.
 */
class OnMemory implements ArrayView {
  private readonly array: TypedArray
  private readonly ints: Int32Array
  private readonly header: Int32Array
  private readonly atomic: boolean
  private readonly elementType: ElementType
  constructor(elementType: ElementType, buffer: SharedArrayBuffer, length: number) {
    this.elementType = elementType
    this.array = viewOf(elementType, buffer, length)
    this.ints = this.array as unknown as Int32Array
    this.header = headerOf(buffer)
    this.atomic = atomicKinds.has(elementType)
  }
  private check(index: number): boolean {
    return Number.isInteger(index) && index >= 0 && index < this.array.length
  }
  private bad(index: number): Effect.Effect<never> {
    return this.atomic ? outOfRange(index, this.array.length) : notAtomic(this.elementType)
  }
  get view(): Effect.Effect<TypedArray, SharedError> {
    return Effect.suspend(() => (isClosed(this.header) ? closed : Effect.succeed(this.array)))
  }
  get toArray(): Effect.Effect<TypedArray, SharedError> {
    return Effect.suspend(() => (isClosed(this.header) ? closed : Effect.succeed(this.array.slice() as unknown as TypedArray)))
  }
  get(i: number): Effect.Effect<number, SharedError> {
    return Effect.suspend(() =>
      isClosed(this.header)
        ? closed
        : this.check(i)
        ? Effect.succeed(this.atomic ? Atomics.load(this.ints, i) : this.array[i]!)
        : outOfRange(i, this.array.length)
    )
  }
  set(i: number, v: number): Effect.Effect<void, SharedError> {
    return Effect.suspend(() => {
      if (isClosed(this.header)) return closed
      if (!this.check(i)) return outOfRange(i, this.array.length)
      if (this.atomic) Atomics.store(this.ints, i, v)
      else this.array[i] = v
      return Effect.void
    })
  }
  add(i: number, v: number): Effect.Effect<number, SharedError> {
    return Effect.suspend(() =>
      isClosed(this.header) ? closed : this.atomic && this.check(i) ? Effect.succeed(Atomics.add(this.ints, i, v)) : this.bad(i)
    )
  }
  compareExchange(i: number, e: number, r: number): Effect.Effect<number, SharedError> {
    return Effect.suspend(() =>
      isClosed(this.header)
        ? closed
        : this.atomic && this.check(i)
        ? Effect.succeed(Atomics.compareExchange(this.ints, i, e, r))
        : this.bad(i)
    )
  }
}

export const arrayOnMemory = (elementType: ElementType, buffer: SharedArrayBuffer, length: number): ArrayView =>
  new OnMemory(elementType, buffer, length)

/** The element type and length travel in the handle's detail, so one schema fits every shared array. */
export const detailOf = (elementType: ElementType, length: number) => `${kind}:${elementType}:${length}`

export const parseDetail = (detail: string | undefined): { readonly elementType: ElementType; readonly length: number } => {
  const [, elementType, length] = detail?.split(":") ?? []
  return { elementType: elementType as ElementType, length: Number(length) }
}
