/**
 * `Manager`'s objects, the parent's side: the state (encoded keys and values, with versions), hosted on
 * every backend for the current scope. Each operation is one synchronous step, so none can interleave.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { type Handle, hostScoped } from "../object.ts"
import { listKind, type ListOps, mapKind, type MapOps, valueKind, type ValueOps } from "./protocol.ts"

const handleOf = (kind: string) => (id: number): Handle => ({ kind, id, buffer: undefined })

/** Map keys by their encoded form: strings and numbers as they are, anything else as JSON. */
const keyOf = (k: unknown): string =>
  typeof k === "string" ? `s${k}` : typeof k === "number" ? `n${k}` : typeof k === "bigint" ? `b${k}` : `j${JSON.stringify(k)}`

export const makeMap: Effect.Effect<Handle, never, Scope.Scope> = Effect.suspend(() => {
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
  return Effect.map(
    hostScoped<MapOps>({
      kind: mapKind,
      handlers: () => ({
        get: (_, { key }) =>
          Effect.sync(() => {
            const e = entries.get(keyOf(key))
            return e === undefined ? [] : [e.value]
          }),
        read: (_, { key }) =>
          Effect.sync(() => {
            const e = entries.get(keyOf(key))
            return e === undefined ? [-1 - epoch] : [e.version, e.value]
          }),
        set: (_, { key, value }) => Effect.sync(() => write(key, value)),
        writeIf: (_, { key, value, version: expected }) =>
          Effect.sync(() => {
            const e = entries.get(keyOf(key))
            if (e === undefined ? expected !== -1 - epoch : expected !== e.version) return false
            write(key, value)
            return true
          }),
        delete: (_, { key }) =>
          Effect.sync(() => {
            const removed = entries.delete(keyOf(key))
            if (removed) epoch++
            return removed
          }),
        has: (_, { key }) => Effect.sync(() => entries.has(keyOf(key))),
        keys: () => Effect.sync(() => Array.from(entries.values(), (e) => e.key)),
        entries: () => Effect.sync(() => Array.from(entries.values(), (e) => [e.key, e.value] as const)),
        size: () => Effect.sync(() => entries.size),
        clear: () =>
          Effect.sync(() => {
            entries.clear()
            epoch++
          })
      })
    }),
    handleOf(mapKind)
  )
})

const outOfRange = (index: number, length: number) =>
  Effect.die(new RangeError(`Manager list index ${index} is out of range [0, ${length})`))

/** A list holding the (encoded) `initial` items. */
export const makeList = (initial: ReadonlyArray<unknown>): Effect.Effect<Handle, never, Scope.Scope> =>
  Effect.suspend(() => {
    const items: Array<{ readonly value: unknown; readonly version: number }> = []
    let version = 0
    for (const value of initial) items.push({ value, version: ++version })
    const at = (i: number) => (Number.isInteger(i) && i >= 0 && i < items.length ? items[i] : undefined)
    return Effect.map(
      hostScoped<ListOps>({
        kind: listKind,
        handlers: () => ({
          append: (_, { item }) => Effect.sync(() => items.push({ value: item, version: ++version }) - 1),
          get: (_, { index }) =>
            Effect.sync(() => {
              const e = at(index)
              return e === undefined ? [] : [e.value]
            }),
          read: (_, { index }) =>
            Effect.suspend(() => {
              const e = at(index)
              return e === undefined ? outOfRange(index, items.length) : Effect.succeed([e.version, e.value] as const)
            }),
          set: (_, { index, item }) =>
            Effect.suspend(() => {
              if (at(index) === undefined) return outOfRange(index, items.length)
              items[index] = { value: item, version: ++version }
              return Effect.void
            }),
          writeIf: (_, { index, item, version: expected }) =>
            Effect.suspend(() => {
              const e = at(index)
              if (e === undefined) return outOfRange(index, items.length)
              if (e.version !== expected) return Effect.succeed(false)
              items[index] = { value: item, version: ++version }
              return Effect.succeed(true)
            }),
          length: () => Effect.sync(() => items.length),
          toArray: () => Effect.sync(() => items.map((e) => e.value))
        })
      }),
      handleOf(listKind)
    )
  })

/** A single value starting at the (encoded) `initial`. */
export const makeValue = (initial: unknown): Effect.Effect<Handle, never, Scope.Scope> =>
  Effect.suspend(() => {
    let current = initial
    let version = 1
    return Effect.map(
      hostScoped<ValueOps>({
        kind: valueKind,
        handlers: () => ({
          get: () => Effect.sync(() => current),
          read: () => Effect.sync(() => [version, current] as const),
          set: (_, { value }) =>
            Effect.sync(() => {
              current = value
              version++
            }),
          writeIf: (_, { value, version: expected }) =>
            Effect.sync(() => {
              if (expected !== version) return false
              current = value
              version++
              return true
            })
        })
      }),
      handleOf(valueKind)
    )
  })
