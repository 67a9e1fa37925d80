/**
 * Shares maps, lists and single values between the parent and workers: the parent holds the state, and
 * every worker gets a typed proxy to it (Python's `multiprocessing.Manager()` with `dict()`, `list()` and
 * `Value()`).
 *
 * `Manager.map(keySchema, valueSchema)`, `Manager.list(itemSchema)` and `Manager.value(schema, initial)`
 * make the state in the parent within a Scope; `mapSchema`, `listSchema` and `valueSchema` put a proxy in
 * a task's payload. Every operation is a call to the parent (on threads and processes alike), and values
 * and keys travel encoded with their schemas, so they keep their types.
 *
 * **Nested mutation.** A value read from a manager is a copy, and it is deep-frozen: changing it in place
 * (`(yield* m.get(k)).push(x)`, `v.count++`) throws a `TypeError`, instead of changing a copy that nobody
 * will see (Python's proxies silently lose such changes). To change a value, write a new one: `set`, or
 * `modify(f)`, which is the way to update it safely while other workers do the same: it reads the value
 * and its version, applies `f` in the caller, and writes the result only if nobody wrote in between, else
 * tries again (optimistic concurrency; `f` may run more than once and should do nothing else). JavaScript
 * cannot freeze the contents of typed arrays, `Map`s, `Set`s and `Date`s inside a value: those are copies
 * too, and changing them changes only the copy.
 *
 * Map keys are compared by their encoded form: strings and numbers as they are, anything else as JSON.
 *
 * **Example** (Workers count words into a shared map)
 *
 * ```ts
 * const counts = yield* Manager.map(Schema.String, Schema.Number)
 * yield* WorkerPool.map(CountWords, files.map((file) => ({ file, counts })))
 * // in the task, with { counts: Manager.mapSchema(Schema.String, Schema.Number) } in its payload:
 * //   yield* counts.modify(word, (n) => Option.getOrElse(n, () => 0) + 1)
 * const total = yield* counts.entries
 * ```
 *
 * @since 0.1.0
 */
import "./internal/nodeVersion.ts"
import * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { lazyImport } from "./internal/lazy.ts"
import { listKind, mapKind, valueKind } from "./internal/shared/manager/protocol.ts"
import { codecOf, listView, mapView, valueView } from "./internal/shared/manager/worker.ts"
import { type Handle, HandleKey, handleSchema, isKind } from "./internal/shared/object.ts"
import type { SharedError } from "./SharedError.ts"

/** The parent side (making and hosting the object), imported on first use: see `internal/lazy.ts`. */
const parent = lazyImport(() => import("./internal/shared/manager/parent.ts"))

/**
 * A map in the parent, seen through a typed proxy.
 *
 * @category models
 * @since 0.1.0
 */
export interface SharedMap<K, V> {
  readonly [HandleKey]: Handle
  /** The value for `key` (a deep-frozen copy), if there is one. */
  readonly get: (key: K) => Effect.Effect<Option.Option<V>, SharedError>
  /** Sets the value for `key`. */
  readonly set: (key: K, value: V) => Effect.Effect<void, SharedError>
  /** Removes `key`; tells whether it was there. */
  readonly delete: (key: K) => Effect.Effect<boolean, SharedError>
  /** Tells whether `key` is there. */
  readonly has: (key: K) => Effect.Effect<boolean, SharedError>
  /** The keys, in insertion order. */
  readonly keys: Effect.Effect<ReadonlyArray<K>, SharedError>
  /** The entries, in insertion order (deep-frozen copies). */
  readonly entries: Effect.Effect<ReadonlyArray<readonly [K, V]>, SharedError>
  /** The number of entries. */
  readonly size: Effect.Effect<number, SharedError>
  /** Removes every entry. */
  readonly clear: Effect.Effect<void, SharedError>
  /**
   * Replaces the value for `key` by `f(current)`, atomically with respect to every other write: retries
   * if another write came in between. Returns the value written.
   */
  readonly modify: (key: K, f: (current: Option.Option<V>) => V) => Effect.Effect<V, SharedError>
}

/**
 * A list in the parent, seen through a typed proxy. Items are only appended or replaced, so an index,
 * once valid, stays valid.
 *
 * @category models
 * @since 0.1.0
 */
export interface SharedList<A> {
  readonly [HandleKey]: Handle
  /** Adds an item at the end; returns its index. */
  readonly append: (item: A) => Effect.Effect<number, SharedError>
  /** The item at `index` (a deep-frozen copy), if there is one. */
  readonly get: (index: number) => Effect.Effect<Option.Option<A>, SharedError>
  /** Replaces the item at `index`; an index out of range is a defect (a `RangeError`). */
  readonly set: (index: number, item: A) => Effect.Effect<void, SharedError>
  /** The number of items. */
  readonly length: Effect.Effect<number, SharedError>
  /** Every item, in order (deep-frozen copies). */
  readonly toArray: Effect.Effect<ReadonlyArray<A>, SharedError>
  /** Replaces the item at `index` by `f(current)`, atomically (see `SharedMap.modify`); returns it. */
  readonly modify: (index: number, f: (current: A) => A) => Effect.Effect<A, SharedError>
}

/**
 * A single value in the parent, seen through a typed proxy.
 *
 * @category models
 * @since 0.1.0
 */
export interface SharedValue<A> {
  readonly [HandleKey]: Handle
  /** The value (a deep-frozen copy). */
  readonly get: Effect.Effect<A, SharedError>
  /** Replaces the value. */
  readonly set: (value: A) => Effect.Effect<void, SharedError>
  /** Replaces the value by `f(current)`, atomically (see `SharedMap.modify`); returns it. */
  readonly modify: (f: (current: A) => A) => Effect.Effect<A, SharedError>
}

/**
 * Tells whether a value is a {@link SharedMap}.
 *
 * @category guards
 * @since 0.1.0
 */
export const isSharedMap: (u: unknown) => u is SharedMap<unknown, unknown> = isKind<SharedMap<unknown, unknown>>(mapKind)

/**
 * The schema of a map proxy with `key`s and `value`s, to put it in a task's payload.
 *
 * @category schemas
 * @since 0.1.0
 */
export const mapSchema = <K, KI, V, VI>(key: Schema.Codec<K, KI>, value: Schema.Codec<V, VI>) =>
  handleSchema<SharedMap<K, V>>(mapKind, isSharedMap as (u: unknown) => u is SharedMap<K, V>, mapView(key, value))

/**
 * Makes an empty map in the parent, alive as long as the current scope, and returns its proxy.
 *
 * @category constructors
 * @since 0.1.0
 */
export const map = <K, KI, V, VI>(
  key: Schema.Codec<K, KI>,
  value: Schema.Codec<V, VI>
): Effect.Effect<SharedMap<K, V>, never, Scope.Scope> => Effect.map(Effect.flatMap(parent, (p) => p.makeMap), mapView(key, value))

// --- list --------------------------------------------------------------------------------------------------

/**
 * Tells whether a value is a {@link SharedList}.
 *
 * @category guards
 * @since 0.1.0
 */
export const isSharedList: (u: unknown) => u is SharedList<unknown> = isKind<SharedList<unknown>>(listKind)

/**
 * The schema of a list proxy of `item`s, to put it in a task's payload.
 *
 * @category schemas
 * @since 0.1.0
 */
export const listSchema = <A, I>(item: Schema.Codec<A, I>) =>
  handleSchema<SharedList<A>>(listKind, isSharedList as (u: unknown) => u is SharedList<A>, listView(item))

/**
 * Makes a list in the parent holding `initial` (default: empty), alive as long as the current scope, and
 * returns its proxy.
 *
 * @category constructors
 * @since 0.1.0
 */
export const list = <A, I>(
  item: Schema.Codec<A, I>,
  initial: Iterable<A> = []
): Effect.Effect<SharedList<A>, never, Scope.Scope> =>
  // an initial value that does not match is a bug in the program that makes the list: a defect
  Effect.flatMap(Effect.orDie(Effect.forEach(initial, codecOf(item, "list item").encode)), (encoded) =>
    Effect.map(Effect.flatMap(parent, (p) => p.makeList(encoded)), listView(item)))

// --- value -------------------------------------------------------------------------------------------------

/**
 * Tells whether a value is a {@link SharedValue}.
 *
 * @category guards
 * @since 0.1.0
 */
export const isSharedValue: (u: unknown) => u is SharedValue<unknown> = isKind<SharedValue<unknown>>(valueKind)

/**
 * The schema of a value proxy, to put it in a task's payload.
 *
 * @category schemas
 * @since 0.1.0
 */
export const valueSchema = <A, I>(schema: Schema.Codec<A, I>) =>
  handleSchema<SharedValue<A>>(valueKind, isSharedValue as (u: unknown) => u is SharedValue<A>, valueView(schema))

/**
 * Makes a value in the parent, starting at `initial`, alive as long as the current scope, and returns its
 * proxy.
 *
 * @category constructors
 * @since 0.1.0
 */
export const value = <A, I>(schema: Schema.Codec<A, I>, initial: A): Effect.Effect<SharedValue<A>, never, Scope.Scope> =>
  // an initial value that does not match is a bug in the program that makes the value: a defect
  // an initial value that does not match is a bug in the program that makes the value: a defect
  Effect.flatMap(Effect.orDie(codecOf(schema, "value").encode(initial)), (encoded) => Effect.map(Effect.flatMap(parent, (p) => p.makeValue(encoded)), valueView(schema)))
