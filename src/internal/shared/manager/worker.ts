/**
 * `Manager`'s objects, as whoever holds a handle uses them: typed proxies whose every operation is a call
 * to the parent, keys and values encoded with their schemas on the way in (one that does not match fails
 * with reason `InvalidValue`) and decoded, then deep-frozen, on the way out.
 *
 * `modify` is optimistic: it reads the value and its version, applies `f` in the caller, and writes the
 * result only if nobody wrote in between, else tries again. Someone's write always succeeds, so it cannot
 * livelock.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { SharedList, SharedMap, SharedValue } from "../../../Manager.ts"
import type { SharedError } from "../../../SharedError.ts"
import { invalidValueError } from "../errors.ts"
import { deepFreeze } from "../freeze.ts"
import { caller, type Handle, HandleKey } from "../object.ts"
import { registry } from "../registry.ts"
import type { Found, ListOps, MapOps, Read, ValueOps } from "./protocol.ts"

// a value that does not match its schema is the caller's error, typed, with the schema's issue
const badValue = (what: string) => (e: unknown) =>
  Effect.fail(invalidValueError("Manager", `a ${what} does not match its schema: ${e instanceof Error ? e.message : String(e)}`))

interface Codec<A> {
  readonly encode: (a: A) => Effect.Effect<unknown, SharedError>
  readonly decode: (u: unknown) => Effect.Effect<A, SharedError>
}

export const codecOf = <A, I>(schema: Schema.Codec<A, I>, what: string): Codec<A> => {
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

/** Reads, computes, writes if nobody wrote in between; else again. */
const optimistic = <A, B>(
  read: Effect.Effect<Read, SharedError>,
  current: (read: Read) => Effect.Effect<A, SharedError>,
  f: (a: A) => B,
  encode: (b: B) => Effect.Effect<unknown, SharedError>,
  writeIf: (encoded: unknown, version: number) => Effect.Effect<boolean, SharedError>
): Effect.Effect<B, SharedError> =>
  Effect.gen(function*() {
    while (true) {
      const r = yield* read
      const next = f(yield* current(r))
      if (yield* writeIf(yield* encode(next), r[0])) return next
    }
  })

const some = <A>(decode: (u: unknown) => Effect.Effect<A, SharedError>) => (found: Found): Effect.Effect<Option.Option<A>, SharedError> =>
  found.length === 0 ? Effect.succeedNone : Effect.map(decode(found[0]), Option.some)

export const mapView = <K, KI, V, VI>(key: Schema.Codec<K, KI>, value: Schema.Codec<V, VI>) => (handle: Handle): SharedMap<K, V> => {
  const call = caller<MapOps>(handle)
  const k = codecOf(key, "key")
  const v = codecOf(value, "value")
  return {
    [HandleKey]: handle,
    get: (a) => Effect.flatMap(k.encode(a), (ek) => Effect.flatMap(call({ _tag: "get", key: ek }), some(v.decode))),
    set: (a, b) => Effect.flatMap(Effect.all([k.encode(a), v.encode(b)]), ([ek, ev]) => call({ _tag: "set", key: ek, value: ev })),
    delete: (a) => Effect.flatMap(k.encode(a), (ek) => call({ _tag: "delete", key: ek })),
    has: (a) => Effect.flatMap(k.encode(a), (ek) => call({ _tag: "has", key: ek })),
    keys: Effect.flatMap(call({ _tag: "keys" }), (ks) => Effect.forEach(ks, k.decode)),
    entries: Effect.flatMap(call({ _tag: "entries" }), (es) =>
      Effect.forEach(es, ([ek, ev]) => Effect.map(Effect.all([k.decode(ek), v.decode(ev)]), (pair) => Object.freeze(pair) as readonly [K, V]))),
    size: call({ _tag: "size" }),
    clear: call({ _tag: "clear" }),
    modify: (a, f) =>
      Effect.flatMap(k.encode(a), (ek) =>
        optimistic(
          call({ _tag: "read", key: ek }),
          (read) => (read.length < 2 ? Effect.succeedNone : Effect.map(v.decode(read[1]), Option.some)),
          f,
          v.encode,
          (ev, version) => call({ _tag: "writeIf", key: ek, value: ev, version })
        ))
  }
}

export const listView = <A, I>(item: Schema.Codec<A, I>) => (handle: Handle): SharedList<A> => {
  const call = caller<ListOps>(handle)
  const c = codecOf(item, "list item")
  return {
    [HandleKey]: handle,
    append: (a) => Effect.flatMap(c.encode(a), (e) => call({ _tag: "append", item: e })),
    get: (index) => Effect.flatMap(call({ _tag: "get", index }), some(c.decode)),
    set: (index, a) => Effect.flatMap(c.encode(a), (e) => call({ _tag: "set", index, item: e })),
    length: call({ _tag: "length" }),
    toArray: Effect.flatMap(call({ _tag: "toArray" }), (items) =>
      Effect.map(Effect.forEach(items, c.decode), (all): ReadonlyArray<A> => Object.freeze(all))),
    modify: (index, f) =>
      optimistic(
        call({ _tag: "read", index }),
        (read) => c.decode(read[1]),
        f,
        c.encode,
        (e, version) => call({ _tag: "writeIf", index, item: e, version })
      )
  }
}

export const valueView = <A, I>(schema: Schema.Codec<A, I>) => (handle: Handle): SharedValue<A> => {
  const call = caller<ValueOps>(handle)
  const c = codecOf(schema, "value")
  return {
    [HandleKey]: handle,
    get: Effect.flatMap(call({ _tag: "get" }), c.decode),
    set: (a) => Effect.flatMap(c.encode(a), (e) => call({ _tag: "set", value: e })),
    modify: (f) =>
      optimistic(call({ _tag: "read" }), (read) => c.decode(read[1]), f, c.encode, (e, version) => call({ _tag: "writeIf", value: e, version }))
  }
}
