import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Schema } from "effect"
import { SharedArray } from "../../src/index.ts"
import { askParser, encodesAsItself, isIdentity, makeCodec, shortcutOf } from "../../src/internal/codec.ts"
import { encodingFor, encodingForOtherMachine } from "../../src/internal/shared/registry.ts"
import { makeParentWire, makeWorkerWire, packNumbers } from "../../src/internal/wire.ts"
import { fromWireDefect, toWireDefect } from "../../src/internal/protocol.ts"

describe("task codecs", () => {
  const codec = makeCodec({
    payload: Schema.Struct({ points: Schema.Array(Schema.Struct({ x: Schema.Number })) }),
    success: Schema.Number.check(Schema.isGreaterThan(0)),
    error: undefined
  })

  it("report the path of the first bad value", () => {
    const r = codec.encodePayload({ points: [{ x: 1 }, { x: "2" }] })
    assert.isFalse(r.ok)
    if (!r.ok) assert.strictEqual(r.issue.path, `["points"][1]["x"]`)
  })

  it("validate checks when encoding, so the receiving side may skip decoding identity schemas", () => {
    assert.isFalse(codec.encodeSuccess(-1).ok)
    assert.isTrue(codec.encodeSuccess(1).ok)
    assert.isTrue(isIdentity(Schema.Number.check(Schema.isGreaterThan(0))))
    assert.isTrue(isIdentity(Schema.Struct({ a: Schema.Number, b: Schema.Array(Schema.String) })))
    assert.isFalse(isIdentity(Schema.NumberFromString))
    assert.isFalse(isIdentity(Schema.Struct({ when: Schema.Date })))
  })

  it("say when a task declares no error schema", () => {
    const r = codec.encodeError("oops")
    assert.isFalse(r.ok)
  })
})

describe("defects on the wire", () => {
  it("keep name, message, stack and cause", () => {
    const inner = new TypeError("inner")
    const outer = new RangeError("outer", { cause: inner })
    const back = fromWireDefect(structuredClone(toWireDefect(outer)))
    assert.strictEqual(back.name, "RangeError")
    assert.strictEqual(back.message, "outer")
    assert.strictEqual(back.stack, outer.stack)
    assert.strictEqual((back.cause as Error).message, "inner")
  })

  it("survive cyclic causes and non-errors", () => {
    const a = new Error("a") as Error & { cause?: unknown }
    a.cause = a
    const w = toWireDefect(a)
    assert.strictEqual(w.message, "a")
    assert.doesNotThrow(() => structuredClone(w))
    assert.strictEqual(toWireDefect({ code: 7 }).message, `{"code":7}`)
    const cyclic: Record<string, unknown> = {}
    cyclic["self"] = cyclic
    assert.strictEqual(toWireDefect(cyclic).message, "[object Object]")
  })
})

describe("hot-path shortcuts", () => {
  it("say which values of a primitive schema are their own encoding, and nothing for other schemas", () => {
    const number = encodesAsItself(Schema.Number.ast)!
    for (const x of [0, -0, NaN, Infinity, 1.5]) assert.isTrue(number(x))
    assert.isFalse(number("1"))
    assert.isFalse(number(undefined))
    const union = encodesAsItself(Schema.Union([Schema.String, Schema.Literal(3), Schema.Null]).ast)!
    assert.isTrue(union("x"))
    assert.isTrue(union(3))
    assert.isTrue(union(null))
    assert.isFalse(union(4))
    // checks, transformations and structured values always go through the parser
    assert.isUndefined(encodesAsItself(Schema.Finite.ast))
    assert.isUndefined(encodesAsItself(Schema.Number.check(Schema.isGreaterThan(0)).ast))
    assert.isUndefined(encodesAsItself(Schema.NumberFromString.ast))
    assert.isUndefined(encodesAsItself(Schema.Struct({ a: Schema.Number }).ast))
    assert.isUndefined(encodesAsItself(Schema.Union([Schema.Number, Schema.Date]).ast))
    // a "oneOf" union fails a value that matches two members (3 here): the parser must see every value
    const oneOf = Schema.Union([Schema.Number, Schema.Literal(3)], { mode: "oneOf" })
    assert.isUndefined(encodesAsItself(oneOf.ast))
    const codec = makeCodec({ payload: oneOf, success: oneOf, error: undefined })
    assert.isFalse(codec.encodePayload(3).ok)
    assert.isTrue(codec.encodePayload(4).ok)
    assert.isUndefined(codec.payloadIsEncoded)
  })

  it("agree with the parser wherever they say yes", () => {
    const schemas = [Schema.Number, Schema.String, Schema.Boolean, Schema.Literal(-0), Schema.Union([Schema.Number, Schema.Null])]
    const values = [0, -0, NaN, 1, "a", "", true, false, null, undefined, 1n, {}, []]
    for (const schema of schemas) {
      const fast = encodesAsItself(schema.ast)!
      const codec = makeCodec({ payload: schema, success: schema, error: undefined })
      for (const v of values) {
        if (!fast(v)) continue
        const r = codec.encodePayload(v)
        assert.isTrue(r.ok, `${String(v)}`)
        if (r.ok) assert.isTrue(Object.is(r.value, v))
      }
    }
  })
})

describe("shortcuts for structs and shared objects", () => {
  /** The parser's answer: ok and the value, or not ok. */
  const parse = (f: (u: unknown) => Exit.Exit<unknown, unknown>, u: unknown) => {
    try {
      const exit = f(u)
      return Exit.isSuccess(exit) ? { ok: true, value: exit.value } : { ok: false }
    } catch {
      return { ok: false }
    }
  }

  it("give a struct of primitives what the parser gives, fresh objects without the undeclared keys", () => {
    const schema = Schema.Struct({ y: Schema.Number, name: Schema.String, flag: Schema.Union([Schema.Boolean, Schema.Null]) })
    const shortcut = shortcutOf(schema.ast)!
    assert.isDefined(shortcut)
    const values: Array<unknown> = [
      { y: 1, name: "a", flag: null },
      { y: 1, name: "a", flag: true, extra: 3 },
      { y: "1", name: "a", flag: null },
      { y: 1, name: "a" },
      { y: 1, name: "a", flag: undefined },
      [1, "a", null],
      null,
      7,
      Object.assign(Object.create({ y: 1 }), { name: "a", flag: null })
    ]
    for (const v of values) {
      const fast = shortcut.encode(v)
      const slow = parse(Schema.encodeUnknownExit(schema), v)
      if (fast === askParser) continue
      assert.isTrue(slow.ok, `the shortcut said yes where the parser says no: ${JSON.stringify(v)}`)
      assert.deepStrictEqual(fast, slow.value)
      assert.notStrictEqual(fast, v, "a fresh object, as the parser makes")
    }
    assert.strictEqual(shortcut.encode({ y: "1", name: "a", flag: null }), askParser)
    assert.strictEqual(shortcut.encode({ y: 1, name: "a" }), askParser)
    // the codec still names the bad field: the parser runs for what the shortcut does not know
    const r = makeCodec({ payload: schema, success: Schema.Number, error: undefined }).encodePayload({ y: 1, name: 2, flag: null })
    assert.isFalse(r.ok)
    if (!r.ok) assert.strictEqual(r.issue.path, `["name"]`)
  })

  it("leave to the parser what they cannot answer alike: checks, optional fields, transformations, records", () => {
    assert.isUndefined(shortcutOf(Schema.Struct({ a: Schema.Number }).check(Schema.makeFilter(() => true)).ast))
    assert.isUndefined(shortcutOf(Schema.Struct({ a: Schema.optional(Schema.Number) }).ast))
    assert.isUndefined(shortcutOf(Schema.Struct({ a: Schema.NumberFromString }).ast))
    assert.isUndefined(shortcutOf(Schema.Struct({ a: Schema.Array(Schema.Number) }).ast))
    assert.isUndefined(shortcutOf(Schema.Record(Schema.String, Schema.Number).ast))
    assert.isUndefined(shortcutOf(SharedArray.schema.check(Schema.makeFilter(() => true)).ast))
  })

  it.effect("carry a SharedArray as the parser does: its memory to threads, a reference to processes, refused to another machine", () =>
    Effect.scoped(Effect.gen(function*() {
      const array = yield* SharedArray.make("Float64", 4)
      const other = yield* SharedArray.make("Int32", 2)
      const schema = Schema.Struct({ data: SharedArray.schema, from: Schema.Number })
      assert.isDefined(shortcutOf(schema.ast), "a struct of a handle and a number has a shortcut")
      const codec = makeCodec({ payload: schema, success: Schema.Number, error: undefined })
      const parserEncode = Schema.encodeUnknownExit(schema)
      const payload = { data: array, from: 2 }
      for (const sharedMemory of [true, false]) {
        const fast = encodingFor(sharedMemory, () => codec.encodePayload(payload))
        const slow = encodingFor(sharedMemory, () => parse(parserEncode, payload))
        assert.isTrue(fast.ok && slow.ok)
        if (!fast.ok) continue
        assert.deepStrictEqual(fast.value, slow.value)
        const encoded = fast.value as { readonly data: { readonly buffer?: unknown } }
        assert.strictEqual(encoded.data.buffer !== undefined, sharedMemory, "the memory travels only where it is shared")
      }
      // another machine: the shortcut declines and the parser refuses with its message
      const far = encodingForOtherMachine(() => codec.encodePayload(payload))
      assert.isFalse(far.ok)
      if (!far.ok) assert.match(far.issue.message, /cannot be sent to another machine/)
      // a value that is not a SharedArray: the parser's issue
      assert.isFalse(codec.encodePayload({ data: { length: 4 }, from: 2 }).ok)

      // decoding: the live array over the same memory, as the parser builds it
      const encoded = encodingFor(true, () => codec.encodePayload({ data: array, from: 1 }))
      assert.isTrue(encoded.ok)
      if (!encoded.ok) return
      const decoded = codec.decodePayload(structuredClone(encoded.value))
      const parsed = parse(Schema.decodeUnknownExit(schema), structuredClone(encoded.value))
      assert.isTrue(decoded.ok && parsed.ok)
      if (!decoded.ok || !parsed.ok) return
      const mine = decoded.value as { readonly data: SharedArray.SharedArray; readonly from: number }
      const theirs = parsed.value as typeof mine
      assert.strictEqual(mine.from, 1)
      assert.isTrue(SharedArray.isSharedArray(mine.data))
      assert.strictEqual(mine.data.elementType, theirs.data.elementType)
      assert.strictEqual(mine.data.length, theirs.data.length)
      yield* SharedArray.set(array, 3, 2.5)
      assert.strictEqual(yield* SharedArray.get(mine.data, 3), 2.5, "the decoded array reads the parent's memory")
      // handles of another kind, or malformed ones, go to the parser, which fails them
      const wrong = [
        { data: { kind: "SharedLock", id: 1 }, from: 1 },
        { data: { kind: "SharedArray", id: "1" }, from: 1 },
        { data: { kind: "SharedArray", id: 1, buffer: new ArrayBuffer(8) }, from: 1 },
        { data: { kind: "SharedArray", id: 1, detail: 3 }, from: 1 }
      ]
      for (const w of wrong) assert.isFalse(codec.decodePayload(w).ok, JSON.stringify(w))
      // an Int32 array next to it keeps its own element type
      const both = makeCodec({ payload: Schema.Struct({ a: SharedArray.schema, b: SharedArray.schema }), success: Schema.Number, error: undefined })
      const e2 = both.encodePayload({ a: array, b: other })
      assert.isTrue(e2.ok)
      if (!e2.ok) return
      const d2 = both.decodePayload(e2.value)
      assert.isTrue(d2.ok)
      if (d2.ok) assert.strictEqual((d2.value as { readonly b: SharedArray.SharedArray }).b.elementType, "Int32")
    })))
})

describe("the wire", () => {
  it("packs arrays of numbers into a Float64Array moved with the message, and nothing else", () => {
    const moved: Array<unknown> = []
    const numbers = [1, NaN, -0, Infinity, 0.5, 2, 3, 4, 5]
    const packed = packNumbers(numbers, moved as never)
    assert.instanceOf(packed, Float64Array)
    assert.strictEqual(moved.length, 1)
    for (let i = 0; i < numbers.length; i++) assert.isTrue(Object.is(packed[i], numbers[i]))
    const mixed = [...numbers, "x"]
    assert.strictEqual(packNumbers(mixed, moved as never), mixed)
    assert.strictEqual(packNumbers([1, 2], moved as never).length, 2)
    assert.notInstanceOf(packNumbers([1, 2], moved as never), Float64Array, "short arrays travel as they are")
  })

  it("moves a chunk's values the worker wrote into a Float64Array, and the parent reads them back as they were", () => {
    const own = new Float64Array(16)
    const numbers = [1, NaN, -0, Infinity, 0.5]
    numbers.forEach((v, i) => (own[i] = v))
    const moved: Array<unknown> = []
    const reply = { id: 7, elapsed: 1, outcome: undefined, values: own.subarray(0, numbers.length), outcomes: undefined }
    const wire = makeWorkerWire().encode({ _tag: "Done", replies: [reply] }, moved as never)
    assert.deepStrictEqual(moved, [own.buffer], "the buffer moves with the message, not copied")
    const back = makeParentWire().decode(structuredClone(wire, { transfer: moved as Array<ArrayBuffer> }))
    assert.strictEqual(back._tag, "Done")
    if (back._tag !== "Done") return
    const values = back.replies[0]!.values!
    assert.strictEqual(values.length, numbers.length)
    for (let i = 0; i < numbers.length; i++) assert.isTrue(Object.is(values[i], numbers[i]))
    assert.strictEqual(own.byteLength, 0, "the worker's array is detached: it kept no use of it")
  })
})

describe("successIsNumber", () => {
  it("is true for Schema.Number alone: its values are exactly what a Float64Array holds", () => {
    const of = (success: Schema.Codec<any, any>) => makeCodec({ payload: Schema.Number, success, error: undefined }).successIsNumber
    assert.isTrue(of(Schema.Number))
    assert.isFalse(of(Schema.Number.check(Schema.isGreaterThan(0))), "a check must still run on each value")
    assert.isFalse(of(Schema.Finite))
    assert.isFalse(of(Schema.NumberFromString))
    assert.isFalse(of(Schema.Union([Schema.Number, Schema.String])))
    assert.isFalse(of(Schema.Struct({ a: Schema.Number })))
  })
})
