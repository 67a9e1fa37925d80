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
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { deepFreeze } from "./internal/shared/freeze.ts"
import { callHost, type Handle, HandleKey, handleSchema, isKind, unknownOp } from "./internal/shared/object.ts"
import { host, registry } from "./internal/shared/registry.ts"
import { invalidValueError } from "./internal/shared/errors.ts"
import type { SharedError } from "./SharedError.ts"

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

// --- codecs ------------------------------------------------------------------------------------------------

// a value that does not match its schema is the caller's error, typed, with the schema's issue
const badValue = (what: string) => (e: unknown) =>
  Effect.fail(invalidValueError("Manager", `a ${what} does not match its schema: ${e instanceof Error ? e.message : String(e)}`))

interface Codec<A> {
  readonly encode: (a: A) => Effect.Effect<unknown, SharedError>
  readonly decode: (u: unknown) => Effect.Effect<A, SharedError>
}

const codecOf = <A, I>(schema: Schema.Codec<A, I>, what: string): Codec<A> => {
  const encode = Schema.encodeUnknownEffect(schema)
  const decode = Schema.decodeUnknownEffect(schema)
  const bad = badValue(what)
  return {
    // In the parent (and in-process) nothing is cloned on the way to the store: copy what is stored, so
    // that the caller's value and the stored one never share objects.
    encode: (a) =>
      Effect.map(Effect.catch(encode(a), bad), (e) => (registry.host === undefined && typeof e === "object" && e !== null ? structuredClone(e) : e)),
    decode: (u) => Effect.map(Effect.catch(decode(u), bad), deepFreeze)
  }
}

const call = (handle: Handle, op: string, args: ReadonlyArray<unknown>) => callHost(handle, op, args)

/** `[version, value]` of a present entry, `[absentVersion]` of a missing one. */
type Read = readonly [number, unknown?]

const optimistic = <A>(
  handle: Handle,
  readArgs: ReadonlyArray<unknown>,
  current: (read: Read) => Effect.Effect<A, SharedError>,
  f: (a: A) => unknown,
  encode: (value: never) => Effect.Effect<unknown, SharedError>
): Effect.Effect<unknown, SharedError> =>
  Effect.gen(function*() {
    while (true) {
      const read = (yield* call(handle, "read", readArgs)) as Read
      const a = yield* current(read)
      const next = yield* Effect.sync(() => f(a))
      const encoded = yield* encode(next as never)
      if (yield* call(handle, "writeIf", [...readArgs, encoded, read[0]])) return next
    }
  })

// --- map ---------------------------------------------------------------------------------------------------

const mapKind = "SharedMap"

const mapFromHandle = <K, KI, V, VI>(key: Schema.Codec<K, KI>, value: Schema.Codec<V, VI>) => (handle: Handle): SharedMap<K, V> => {
  const k = codecOf(key, "key")
  const v = codecOf(value, "value")
  const decodeSome = (got: unknown) => {
    const found = got as ReadonlyArray<unknown>
    return found.length === 0 ? Effect.succeedNone : Effect.map(v.decode(found[0]), Option.some)
  }
  return {
    [HandleKey]: handle,
    get: (key) => Effect.flatMap(k.encode(key), (ek) => Effect.flatMap(call(handle, "get", [ek]), decodeSome)),
    set: (key, val) =>
      Effect.flatMap(Effect.all([k.encode(key), v.encode(val)]), ([ek, ev]) => Effect.asVoid(call(handle, "set", [ek, ev]))),
    delete: (key) => Effect.flatMap(k.encode(key), (ek) => call(handle, "delete", [ek]) as Effect.Effect<boolean, SharedError>),
    has: (key) => Effect.flatMap(k.encode(key), (ek) => call(handle, "has", [ek]) as Effect.Effect<boolean, SharedError>),
    keys: Effect.flatMap(call(handle, "keys", []), (ks) => Effect.forEach(ks as ReadonlyArray<unknown>, k.decode)),
    entries: Effect.flatMap(call(handle, "entries", []), (es) =>
      Effect.forEach(es as ReadonlyArray<readonly [unknown, unknown]>, ([ek, ev]) =>
        Effect.map(Effect.all([k.decode(ek), v.decode(ev)]), (pair) => Object.freeze(pair) as readonly [K, V]))),
    size: call(handle, "size", []) as Effect.Effect<number, SharedError>,
    clear: Effect.asVoid(call(handle, "clear", [])),
    modify: (key, f) =>
      Effect.flatMap(k.encode(key), (ek) =>
        optimistic<Option.Option<V>>(
          handle,
          [ek],
          (read) => (read.length < 2 ? Effect.succeedNone : Effect.map(v.decode(read[1]), Option.some)),
          f,
          v.encode as never
        ) as Effect.Effect<V, SharedError>)
  }
}

/** Map keys by their encoded form: strings and numbers as they are, anything else as JSON. */
const keyOf = (k: unknown): string =>
  typeof k === "string" ? `s${k}` : typeof k === "number" ? `n${k}` : typeof k === "bigint" ? `b${k}` : `j${JSON.stringify(k)}`

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
  handleSchema<SharedMap<K, V>>(mapKind, isSharedMap as (u: unknown) => u is SharedMap<K, V>, mapFromHandle(key, value))

const hostIn = <A>(kind: string, call: (op: string, args: ReadonlyArray<unknown>) => Effect.Effect<unknown>, build: (h: Handle) => A) =>
  Effect.map(
    Effect.acquireRelease(Effect.sync(() => host({ kind, call: (_owner, op, args) => call(op, args) })), (h) => Effect.sync(h.remove)),
    (h) => build({ kind, id: h.id, buffer: undefined })
  )

/**
 * Makes an empty map in the parent, alive as long as the current scope, and returns its proxy.
 *
 * @category constructors
 * @since 0.1.0
 */
export const map = <K, KI, V, VI>(
  key: Schema.Codec<K, KI>,
  value: Schema.Codec<V, VI>
): Effect.Effect<SharedMap<K, V>, never, Scope.Scope> => Effect.suspend(() => makeMap(key, value))

const makeMap = <K, KI, V, VI>(key: Schema.Codec<K, KI>, value: Schema.Codec<V, VI>) => {
  interface Entry {
    readonly key: unknown
    readonly value: unknown
    readonly version: number
  }
  const entries = new Map<string, Entry>()
  // every write gets a new version; `epoch` counts removals, so a missing key read before and after a
  // set-then-delete is not mistaken for one that stayed missing
  let version = 0
  let epoch = 0
  const write = (k: unknown, v: unknown): void => void entries.set(keyOf(k), { key: k, value: v, version: ++version })
  return hostIn(mapKind, (op, args) => {
    switch (op) {
      case "get":
        return Effect.sync(() => {
          const e = entries.get(keyOf(args[0]))
          return e === undefined ? [] : [e.value]
        })
      case "read":
        return Effect.sync(() => {
          const e = entries.get(keyOf(args[0]))
          return e === undefined ? [-1 - epoch] : [e.version, e.value]
        })
      case "set":
        return Effect.sync(() => write(args[0], args[1]))
      case "writeIf":
        return Effect.sync(() => {
          const expected = args[2] as number
          const e = entries.get(keyOf(args[0]))
          if (e === undefined ? expected !== -1 - epoch : expected !== e.version) return false
          write(args[0], args[1])
          return true
        })
      case "delete":
        return Effect.sync(() => {
          const removed = entries.delete(keyOf(args[0]))
          if (removed) epoch++
          return removed
        })
      case "has":
        return Effect.sync(() => entries.has(keyOf(args[0])))
      case "keys":
        return Effect.sync(() => Array.from(entries.values(), (e) => e.key))
      case "entries":
        return Effect.sync(() => Array.from(entries.values(), (e) => [e.key, e.value]))
      case "size":
        return Effect.sync(() => entries.size)
      case "clear":
        return Effect.sync(() => {
          entries.clear()
          epoch++
        })
      default:
        return unknownOp(mapKind, op)
    }
  }, mapFromHandle(key, value))
}

// --- list --------------------------------------------------------------------------------------------------

const listKind = "SharedList"

const outOfRange = (index: number, length: number) =>
  Effect.die(new RangeError(`Manager list index ${index} is out of range [0, ${length})`))

const listFromHandle = <A, I>(item: Schema.Codec<A, I>) => (handle: Handle): SharedList<A> => {
  const c = codecOf(item, "list item")
  return {
    [HandleKey]: handle,
    append: (a) => Effect.flatMap(c.encode(a), (e) => call(handle, "append", [e]) as Effect.Effect<number, SharedError>),
    get: (index) =>
      Effect.flatMap(call(handle, "get", [index]), (got) => {
        const found = got as ReadonlyArray<unknown>
        return found.length === 0 ? Effect.succeedNone : Effect.map(c.decode(found[0]), Option.some)
      }),
    set: (index, a) => Effect.flatMap(c.encode(a), (e) => Effect.asVoid(call(handle, "set", [index, e]))),
    length: call(handle, "length", []) as Effect.Effect<number, SharedError>,
    toArray: Effect.flatMap(call(handle, "toArray", []), (items) =>
      Effect.map(Effect.forEach(items as ReadonlyArray<unknown>, c.decode), (all): ReadonlyArray<A> => Object.freeze(all))),
    modify: (index, f) =>
      optimistic<A>(handle, [index], (read) => c.decode(read[1]), f, c.encode as never) as Effect.Effect<A, SharedError>
  }
}

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
  handleSchema<SharedList<A>>(listKind, isSharedList as (u: unknown) => u is SharedList<A>, listFromHandle(item))

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
  Effect.flatMap(Effect.orDie(Effect.forEach(initial, codecOf(item, "list item").encode)), (encoded) => {
    const items: Array<{ readonly value: unknown; readonly version: number }> = []
    let version = 0
    for (const value of encoded) items.push({ value, version: ++version })
    const at = (i: unknown) => (Number.isInteger(i) && (i as number) >= 0 && (i as number) < items.length ? items[i as number] : undefined)
    return hostIn(listKind, (op, args) => {
      switch (op) {
        case "append":
          return Effect.sync(() => items.push({ value: args[0], version: ++version }) - 1)
        case "get":
          return Effect.sync(() => {
            const e = at(args[0])
            return e === undefined ? [] : [e.value]
          })
        case "read":
          return Effect.suspend(() => {
            const e = at(args[0])
            return e === undefined ? outOfRange(args[0] as number, items.length) : Effect.succeed([e.version, e.value])
          })
        case "set":
          return Effect.suspend(() => {
            if (at(args[0]) === undefined) return outOfRange(args[0] as number, items.length)
            items[args[0] as number] = { value: args[1], version: ++version }
            return Effect.void
          })
        case "writeIf":
          return Effect.suspend(() => {
            const e = at(args[0])
            if (e === undefined) return outOfRange(args[0] as number, items.length)
            if (e.version !== args[2]) return Effect.succeed(false)
            items[args[0] as number] = { value: args[1], version: ++version }
            return Effect.succeed(true)
          })
        case "length":
          return Effect.sync(() => items.length)
        case "toArray":
          return Effect.sync(() => items.map((e) => e.value))
        default:
          return unknownOp(listKind, op)
      }
    }, listFromHandle(item))
  })

// --- value -------------------------------------------------------------------------------------------------

const valueKind = "SharedValue"

const valueFromHandle = <A, I>(schema: Schema.Codec<A, I>) => (handle: Handle): SharedValue<A> => {
  const c = codecOf(schema, "value")
  return {
    [HandleKey]: handle,
    get: Effect.flatMap(call(handle, "get", []), c.decode),
    set: (a) => Effect.flatMap(c.encode(a), (e) => Effect.asVoid(call(handle, "set", [e]))),
    modify: (f) => optimistic<A>(handle, [], (read) => c.decode(read[1]), f, c.encode as never) as Effect.Effect<A, SharedError>
  }
}

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
  handleSchema<SharedValue<A>>(valueKind, isSharedValue as (u: unknown) => u is SharedValue<A>, valueFromHandle(schema))

/**
 * Makes a value in the parent, starting at `initial`, alive as long as the current scope, and returns its
 * proxy.
 *
 * @category constructors
 * @since 0.1.0
 */
export const value = <A, I>(schema: Schema.Codec<A, I>, initial: A): Effect.Effect<SharedValue<A>, never, Scope.Scope> =>
  // an initial value that does not match is a bug in the program that makes the value: a defect
  Effect.flatMap(Effect.orDie(codecOf(schema, "value").encode(initial)), (encoded) => {
    let current = encoded
    let version = 1
    return hostIn(valueKind, (op, args) => {
      switch (op) {
        case "get":
          return Effect.sync(() => current)
        case "read":
          return Effect.sync(() => [version, current])
        case "set":
          return Effect.sync(() => {
            current = args[0]
            version++
          })
        case "writeIf":
          return Effect.sync(() => {
            if (args[1] !== version) return false
            current = args[0]
            version++
            return true
          })
        default:
          return unknownOp(valueKind, op)
      }
    }, valueFromHandle(schema))
  })
