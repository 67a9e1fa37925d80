/**
 * `Manager`'s objects (maps, lists, values): their operations, served by the parent on every backend.
 * Keys and values travel encoded with their schemas (the caller encodes and decodes). Every write gets a
 * version; `read` and `writeIf` are the two halves of `modify` (optimistic concurrency).
 *
 * @internal
 */
export const mapKind = "SharedMap"
export const listKind = "SharedList"
export const valueKind = "SharedValue"

/** `[version, value]` of a present entry, `[absentVersion]` of a missing one. */
export type Read = readonly [number, unknown?]

/** `[]` when absent, `[value]` otherwise (a value may itself be `undefined`). */
export type Found = ReadonlyArray<unknown>

export type MapOps = {
  readonly get: { readonly request: { readonly key: unknown }; readonly result: Found }
  readonly read: { readonly request: { readonly key: unknown }; readonly result: Read }
  readonly set: { readonly request: { readonly key: unknown; readonly value: unknown }; readonly result: void }
  readonly writeIf: { readonly request: { readonly key: unknown; readonly value: unknown; readonly version: number }; readonly result: boolean }
  readonly delete: { readonly request: { readonly key: unknown }; readonly result: boolean }
  readonly has: { readonly request: { readonly key: unknown }; readonly result: boolean }
  readonly keys: { readonly request: {}; readonly result: ReadonlyArray<unknown> }
  readonly entries: { readonly request: {}; readonly result: ReadonlyArray<readonly [unknown, unknown]> }
  readonly size: { readonly request: {}; readonly result: number }
  readonly clear: { readonly request: {}; readonly result: void }
}

export type ListOps = {
  readonly append: { readonly request: { readonly item: unknown }; readonly result: number }
  readonly get: { readonly request: { readonly index: number }; readonly result: Found }
  readonly read: { readonly request: { readonly index: number }; readonly result: Read }
  readonly set: { readonly request: { readonly index: number; readonly item: unknown }; readonly result: void }
  readonly writeIf: { readonly request: { readonly index: number; readonly item: unknown; readonly version: number }; readonly result: boolean }
  readonly length: { readonly request: {}; readonly result: number }
  readonly toArray: { readonly request: {}; readonly result: ReadonlyArray<unknown> }
}

export type ValueOps = {
  readonly get: { readonly request: {}; readonly result: unknown }
  readonly read: { readonly request: {}; readonly result: Read }
  readonly set: { readonly request: { readonly value: unknown }; readonly result: void }
  readonly writeIf: { readonly request: { readonly value: unknown; readonly version: number }; readonly result: boolean }
}
