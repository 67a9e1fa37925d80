/**
 * Values as JSON, with structured clone's meaning: what a task's schema encodes travels to a cluster runner
 * and back exactly as it travels to a worker thread, in a form that Effect Cluster can store in Postgres
 * (its message and reply columns are JSON text).
 *
 * Plain JSON values stay as they are. Everything else becomes a small tagged object, `{ "~ep": kind, ... }`:
 * typed arrays, `DataView`s and `ArrayBuffer`s as **base64 of their bytes** (never an array of numbers:
 * a `Float32Array` of 1,200 values is 6.4 KB of base64 instead of about 20 KB of decimal text, and it is
 * copied, not parsed, at both ends); `Date`, `RegExp`, `Map`, `Set`, `bigint`, `Error`, `undefined` and the
 * numbers JSON cannot spell (`NaN`, `±Infinity`, `-0`). A plain object of the user's that has the key
 * `"~ep"` itself is escaped, so no value is mistaken for a tag.
 *
 * A runner's reply carries its bytes beside the JSON instead (`toJsonSafe(value, bytes)`, `withBytes`): the
 * tag names them by index, and the cluster's binary serialization sends them as they are (`protocol.ts`,
 * `ReplyMessage`); in storage they are base64 all the same.
 *
 * A value that holds a tag is wrapped at its root (`{ "~ep": "T", v }`) unless its root is a tag already,
 * so that the receiver looks at the root only: a value without tags is used as it came, without a walk.
 *
 * Hand-written because nothing in Effect or Node does this: `Schema.toCodecJson` has no JSON form for
 * `Schema.instanceOf(Float32Array)` (and would spell a `Uint8Array` inside `Schema.Unknown` as an object of
 * numbered keys), and `v8.serialize` writes a binary format that belongs to one Node version, while
 * runners and clients on different hosts may run different ones.
 *
 * Bytes are written in the host's byte order (little-endian on every platform Node supports in practice).
 * Like structured clone, a class instance arrives as a plain object of its own enumerable properties, and a
 * `Buffer` as a `Uint8Array`. Unlike structured clone, a value that contains itself is refused (JSON has
 * no references); shared references are copied.
 *
 * @internal
 */

/** The key of a tagged value. */
export const TAG = "~ep"

/** A value that cannot be sent to another machine; `path` says where in the value (`["rows"][3]`). */
export class NotJsonSafe extends Error {
  readonly path: string
  constructor(message: string, path: string) {
    super(message)
    this.name = "NotJsonSafe"
    this.path = path
  }
}

type Tagged = { readonly [TAG]: string; readonly [k: string]: unknown }

/** Byte views by their `Object.prototype.toString` name (a `Buffer` reports itself as a `Uint8Array`). */
const views: Record<string, new(buffer: ArrayBuffer) => ArrayBufferView> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView
}
const Float16 = (globalThis as { Float16Array?: new(buffer: ArrayBuffer) => ArrayBufferView }).Float16Array
if (Float16 !== undefined) views.Float16Array = Float16

const base64Of = (view: ArrayBufferView): string =>
  Buffer.from(view.buffer as ArrayBuffer, view.byteOffset, view.byteLength).toString("base64")

/**
 * The bytes of a tagged byte value in an `ArrayBuffer` of their own (aligned for any view, unlike Buffer's
 * pool): base64 text, or the bytes themselves when they came beside the JSON (see {@link withBytes}): taken
 * as they are when they fill an `ArrayBuffer` of their own (as a decoded message's do), copied otherwise.
 */
const bufferOf = (b: unknown): ArrayBuffer => {
  if (!(b instanceof Uint8Array) && typeof b !== "string") throw new NotJsonSafe(`a tagged byte value without its base64 bytes`, "")
  const bytes = typeof b === "string" ? Buffer.from(b, "base64") : b
  // a large Buffer has an ArrayBuffer of its own; a small one is a slice of Node's shared pool: copied
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer
  const buffer = new ArrayBuffer(bytes.byteLength)
  new Uint8Array(buffer).set(bytes)
  return buffer
}

const pathOf = (path: ReadonlyArray<string | number>): string =>
  path.map((k) => (typeof k === "number" ? `[${k}]` : `[${JSON.stringify(k)}]`)).join("")

const tag = (kind: string, fields: Record<string, unknown>): Tagged => ({ [TAG]: kind, ...fields })

const tagOf = (u: unknown): string | undefined =>
  typeof u === "object" && u !== null && !Array.isArray(u) && typeof (u as Record<string, unknown>)[TAG] === "string"
    ? (u as Tagged)[TAG]
    : undefined

const isPlainPrototype = (proto: unknown): boolean => proto === Object.prototype || proto === null

/** A value that JSON keeps as it is, without a tag: a string, a boolean, null, a finite number other than -0. */
export const isJsonPrimitive = (v: unknown): boolean =>
  typeof v === "string" || typeof v === "boolean" || v === null || (typeof v === "number" && Number.isFinite(v) && !Object.is(v, -0))

/** The bytes of a view, as a `Uint8Array` over the same memory (not copied). */
const bytesOf = (view: ArrayBufferView): Uint8Array => new Uint8Array(view.buffer as ArrayBuffer, view.byteOffset, view.byteLength)

/**
 * Encodes a value (already encoded by its task's schema) into JSON-safe form. Throws `NotJsonSafe` for what
 * cannot leave the process: functions, symbols, a value that contains itself.
 *
 * `bytes`: where the bytes of typed arrays, `DataView`s and `ArrayBuffer`s go instead of base64 inside the
 * value: each becomes `{ "~ep": kind, x: k }`, its bytes (a view, not a copy) pushed to `bytes` at `k`. For a
 * message whose serialization carries bytes as bytes (a runner's reply, `protocol.ts`); the receiver puts
 * them back with {@link withBytes} before {@link fromJsonSafe}.
 */
export const toJsonSafe = (value: unknown, bytes?: Array<Uint8Array>): unknown => {
  // a tiny task's value: nothing to walk (no path, no set of open containers)
  if (isJsonPrimitive(value)) return value
  let tagged = false
  const path: Array<string | number> = []
  const open = new Set<object>()
  const byteTag = (kind: string, view: ArrayBufferView): Tagged =>
    bytes === undefined ? tag(kind, { b: base64Of(view) }) : tag(kind, { x: bytes.push(bytesOf(view)) - 1 })

  const walk = (u: unknown): unknown => {
    switch (typeof u) {
      case "string":
      case "boolean":
        return u
      case "number":
        if (Number.isFinite(u) && !Object.is(u, -0)) return u
        tagged = true
        return tag("n", { v: Object.is(u, -0) ? "-0" : String(u) })
      case "undefined":
        tagged = true
        return tag("u", {})
      case "bigint":
        tagged = true
        return tag("bi", { v: u.toString() })
      case "function":
      case "symbol":
        throw new NotJsonSafe(`a ${typeof u} cannot be sent to another machine`, pathOf(path))
    }
    if (u === null) return null
    const object = u as object
    if (open.has(object)) throw new NotJsonSafe("a value that contains itself cannot be sent to another machine", pathOf(path))
    if (Array.isArray(object)) return walkArray(object)
    if (ArrayBuffer.isView(object)) {
      const kind = Object.prototype.toString.call(object).slice(8, -1)
      if (views[kind] === undefined) throw new NotJsonSafe(`a ${kind} cannot be sent to another machine`, pathOf(path))
      tagged = true
      return byteTag(kind, object)
    }
    if (object instanceof ArrayBuffer) {
      tagged = true
      return byteTag("ab", new Uint8Array(object))
    }
    if (typeof SharedArrayBuffer !== "undefined" && object instanceof SharedArrayBuffer) {
      tagged = true
      return byteTag("sab", new Uint8Array(object))
    }
    if (object instanceof Date) {
      tagged = true
      const time = object.getTime()
      return tag("d", { v: Number.isNaN(time) ? null : time })
    }
    if (object instanceof RegExp) {
      tagged = true
      return tag("re", { s: object.source, f: object.flags })
    }
    open.add(object)
    try {
      if (object instanceof Map) {
        tagged = true
        const entries: Array<unknown> = []
        let k = 0
        for (const [key, v] of object) {
          path.push(k++)
          entries.push([walk(key), walk(v)])
          path.pop()
        }
        return tag("map", { v: entries })
      }
      if (object instanceof Set) {
        tagged = true
        const items: Array<unknown> = []
        let k = 0
        for (const v of object) {
          path.push(k++)
          items.push(walk(v))
          path.pop()
        }
        return tag("set", { v: items })
      }
      if (object instanceof Error) {
        tagged = true
        const e = object as Error & { cause?: unknown }
        path.push("cause")
        const cause = "cause" in e ? walk(e.cause) : undefined
        path.pop()
        return tag("err", { n: e.name, m: e.message, s: e.stack ?? null, ...(cause === undefined ? {} : { c: cause }) })
      }
      return walkObject(object as Record<string, unknown>)
    } finally {
      open.delete(object)
    }
  }

  /** An array, copied only when one of its elements changes. */
  const walkArray = (array: ReadonlyArray<unknown>): unknown => {
    open.add(array)
    let out: Array<unknown> | undefined
    for (let k = 0; k < array.length; k++) {
      const v = array[k]
      // primitives that JSON keeps as they are: the common case, without a walk
      if (isJsonPrimitive(v)) {
        if (out !== undefined) out.push(v)
        continue
      }
      path.push(k)
      const w = walk(v)
      path.pop()
      if (out === undefined && w !== v) out = array.slice(0, k)
      if (out !== undefined) out.push(w)
    }
    open.delete(array)
    return out ?? array
  }

  /** A plain object (or a class instance: its own enumerable properties), copied only when something changes. */
  const walkObject = (object: Record<string, unknown>): unknown => {
    let out: Record<string, unknown> | undefined = isPlainPrototype(Object.getPrototypeOf(object)) ? undefined : {}
    const keys = Object.keys(object)
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!
      const v = object[key]
      path.push(key)
      const w = walk(v)
      path.pop()
      if (out === undefined && w !== v) {
        out = {}
        for (let j = 0; j < k; j++) out[keys[j]!] = object[keys[j]!]
      }
      if (out !== undefined) out[key] = w
    }
    const result = out ?? object
    if (TAG in object) {
      tagged = true
      return tag("o", { v: result })
    }
    return result
  }

  const out = walk(value)
  return tagged && tagOf(out) === undefined ? tag("T", { v: out }) : out
}

/** Whether a tag's kind stands for bytes (a view, an `ArrayBuffer`, a `SharedArrayBuffer`). */
const isByteKind = (kind: string): boolean => kind === "ab" || kind === "sab" || views[kind] !== undefined

/**
 * Puts the bytes that travelled beside a value (`toJsonSafe(value, bytes)`) back into it: each
 * `{ "~ep": kind, x: k }` becomes `{ "~ep": kind, b: bytes[k] }`, which {@link fromJsonSafe} restores as it
 * restores base64. A value without a tag at its root holds none and is returned as it is; containers are
 * copied, never changed in place. The bytes are not copied when each fills its own `ArrayBuffer` (a decoded
 * message's do; one copy fewer per row of a reply): what is restored from them shares their memory, so a
 * message's bytes are restored once (the client restores each reply once).
 */
export const withBytes = (value: unknown, bytes: ReadonlyArray<Uint8Array>): unknown =>
  bytes.length === 0 || tagOf(value) === undefined ? value : attach(value, bytes)

const attach = (u: unknown, bytes: ReadonlyArray<Uint8Array>): unknown => {
  if (typeof u !== "object" || u === null) return u
  if (Array.isArray(u)) return u.map((v) => attach(v, bytes))
  const object = u as Record<string, unknown>
  const kind = object[TAG]
  if (typeof kind !== "string") return attachFields(object, bytes)
  if (isByteKind(kind) && "x" in object) {
    const b = typeof object.x === "number" ? bytes[object.x] : undefined
    if (b === undefined) throw new NotJsonSafe(`a tagged byte value whose bytes did not come with it (${String(object.x)})`, "")
    return { [TAG]: kind, b }
  }
  // the user's own object with a "~ep" key: its own keys are data, its values may hold tags
  if (kind === "o") return { [TAG]: kind, v: attachFields(object.v as Record<string, unknown>, bytes) }
  return attachFields(object, bytes)
}

const attachFields = (object: Record<string, unknown>, bytes: ReadonlyArray<Uint8Array>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(object)) out[key] = attach(object[key], bytes)
  return out
}

/** Restores a value encoded by {@link toJsonSafe}. A value without a tag at its root is returned as it is. */
export const fromJsonSafe = (value: unknown): unknown => {
  const kind = tagOf(value)
  if (kind === undefined) return value
  return kind === "T" ? restore((value as Tagged).v) : restore(value)
}

/** Restores tagged values; containers are copied, never changed in place (a message may be read twice). */
const restore = (u: unknown): unknown => {
  if (typeof u !== "object" || u === null) return u
  if (Array.isArray(u)) return u.map(restore)
  const object = u as Record<string, unknown>
  const kind = object[TAG]
  if (typeof kind !== "string") return restoreFields(object)
  switch (kind) {
    case "n":
      return object.v === "-0" ? -0 : Number(object.v)
    case "u":
      return undefined
    case "bi":
      return BigInt(object.v as string)
    case "ab":
      return bufferOf(object.b)
    case "sab": {
      const bytes = new Uint8Array(bufferOf(object.b))
      const shared = new SharedArrayBuffer(bytes.length)
      new Uint8Array(shared).set(bytes)
      return shared
    }
    case "d":
      return new Date(object.v === null ? Number.NaN : (object.v as number))
    case "re":
      return new RegExp(object.s as string, object.f as string)
    case "map":
      return new Map((object.v as Array<[unknown, unknown]>).map(([k, v]) => [restore(k), restore(v)]))
    case "set":
      return new Set((object.v as Array<unknown>).map(restore))
    case "err": {
      const error = new Error(object.m as string, "c" in object ? { cause: restore(object.c) } : undefined)
      error.name = object.n as string
      if (object.s !== null) error.stack = object.s as string
      return error
    }
    case "o":
      // the user's own object with a "~ep" key: its values may hold tags, its own "~ep" is data
      return restoreFields(object.v as Record<string, unknown>)
    case "T":
      return restore(object.v)
  }
  const View = views[kind]
  if (View === undefined) throw new NotJsonSafe(`an unknown tagged value "${kind}" (a newer version of effect-parallel sent it?)`, "")
  return new View(bufferOf(object.b))
}

/** A plain object's fields, restored one by one (its own keys are data, never tags). */
const restoreFields = (object: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(object)) out[key] = restore(object[key])
  return out
}
