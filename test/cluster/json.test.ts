/**
 * The cluster's JSON-safe form of values (`src/internal/cluster/json.ts`): what structured clone carries to
 * a worker thread, carried through JSON text to a runner and back, bytes as base64.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as fc from "fast-check"
import { makeCodec } from "../../src/internal/codec.ts"
import { fromJsonSafe, NotJsonSafe, TAG, toJsonSafe, withBytes } from "../../src/internal/cluster/json.ts"
import { jsonSafeCodec, outcomeFromJson, outcomeToJson } from "../../src/internal/cluster/protocol.ts"

/** Out through JSON text and back, as a message stored in Postgres travels. */
const roundTrip = (u: unknown): unknown => fromJsonSafe(JSON.parse(JSON.stringify(toJsonSafe(u))))

/** The same, with the bytes beside the JSON text (copied, as a serialization would), as a runner's reply travels. */
const besideTrip = (u: unknown): unknown => {
  const bytes: Array<Uint8Array> = []
  const text = JSON.stringify(toJsonSafe(u, bytes))
  return fromJsonSafe(withBytes(JSON.parse(text), bytes.map((b) => b.slice())))
}

const notSafe = (u: unknown): NotJsonSafe => {
  try {
    toJsonSafe(u)
  } catch (e) {
    assert.instanceOf(e, NotJsonSafe)
    return e as NotJsonSafe
  }
  assert.fail("expected NotJsonSafe")
}

describe("cluster values in JSON-safe form", () => {
  it.effect("a plain JSON value travels as it is: the same object, no tag, no copy", () =>
    Effect.sync(() => {
      const value = { a: [1, 2.5, "x", true, null], b: { c: "d" } }
      assert.strictEqual(toJsonSafe(value), value)
      assert.strictEqual(fromJsonSafe(value), value)
    }))

  it.effect("typed arrays, DataViews and buffers cross as base64 of their bytes, never as arrays of numbers", () =>
    Effect.sync(() => {
      const f32 = new Float32Array([1.5, -2.25, 3e30, Number.NaN])
      const encoded = toJsonSafe(f32) as Record<string, unknown>
      assert.strictEqual(encoded[TAG], "Float32Array")
      assert.strictEqual(encoded.b, Buffer.from(f32.buffer).toString("base64"))
      assert.notInclude(JSON.stringify(encoded), "1.5")

      const big = new Float64Array(1200).map((_, i) => Math.sin(i))
      const text = JSON.stringify(toJsonSafe({ row: big }))
      assert.isBelow(text.length, 1200 * 8 * 1.34 + 100, "base64: 4/3 of the bytes, not ~20 characters a number")
      // large enough for a buffer of its own (small ones are copied out of Node's shared pool)
      const back = roundTrip(big) as Float64Array
      assert.deepStrictEqual(back, big)
      assert.strictEqual(back.buffer.byteLength, big.byteLength)

      const parent = new Uint8Array([9, 8, 7, 6, 5, 4, 3, 2])
      const values: ReadonlyArray<unknown> = [
        new Int8Array([-1, 2]),
        new Uint8Array([0, 255]),
        new Uint8ClampedArray([7]),
        new Int16Array([-300]),
        new Uint16Array([65535]),
        new Int32Array([-2e9]),
        new Uint32Array([4e9]),
        new Float64Array([Math.PI, -0, Number.POSITIVE_INFINITY]),
        new BigInt64Array([-(2n ** 62n)]),
        new BigUint64Array([2n ** 63n]),
        new DataView(new Uint8Array([1, 2, 3]).buffer),
        parent.subarray(2, 6), // a view into a larger buffer: only its bytes travel
        new Uint8Array([1, 2, 3]).buffer,
        new Float64Array(0)
      ]
      for (const v of values) assert.deepStrictEqual(roundTrip(v), v, Object.prototype.toString.call(v))
      const sub = roundTrip(parent.subarray(2, 6)) as Uint8Array
      assert.strictEqual(sub.buffer.byteLength, 4)
      // a Buffer arrives as a Uint8Array, as with structured clone
      const buffer = roundTrip(Buffer.from("hi"))
      assert.strictEqual(Object.getPrototypeOf(buffer), Uint8Array.prototype)
      assert.deepStrictEqual(buffer, new Uint8Array([104, 105]))
      const shared = new SharedArrayBuffer(2)
      new Uint8Array(shared).set([4, 2])
      const sharedBack = roundTrip(shared) as SharedArrayBuffer
      assert.instanceOf(sharedBack, SharedArrayBuffer)
      assert.deepStrictEqual([...new Uint8Array(sharedBack)], [4, 2])
    }))

  it.effect("bytes can travel beside the JSON: views of them, named by index, put back by withBytes", () =>
    Effect.sync(() => {
      const f32 = new Float32Array([1.5, -2.25, 3e30, Number.NaN])
      const parent = new Uint8Array([9, 8, 7, 6, 5, 4, 3, 2])
      const value = { rows: [f32, parent.subarray(2, 6)], raw: new Uint8Array([1, 2]).buffer, n: Number.NaN, note: "x" }
      const bytes: Array<Uint8Array> = []
      const encoded = toJsonSafe(value, bytes)
      const text = JSON.stringify(encoded)
      assert.notInclude(text, Buffer.from(f32.buffer).toString("base64"), "no base64 in the JSON")
      assert.strictEqual(bytes.length, 3)
      // views of the values' own bytes, not copies
      assert.strictEqual(bytes[0]!.buffer, f32.buffer)
      assert.strictEqual(bytes[1]!.buffer, parent.buffer)
      assert.deepStrictEqual([...bytes[1]!], [7, 6, 5, 4])
      const back = fromJsonSafe(withBytes(JSON.parse(text), bytes.map((b) => b.slice()))) as typeof value
      assert.deepStrictEqual(back.rows[0], f32)
      assert.deepStrictEqual(back.rows[1], new Uint8Array([7, 6, 5, 4]))
      assert.strictEqual(back.rows[1]!.buffer.byteLength, 4, "a buffer of its own")
      // bytes that fill their own buffer (as a decoded message's) are taken, not copied; others are copied
      const own = new Uint8Array(new Float32Array([7]).buffer)
      const part = new Uint8Array(new Float32Array([1, 7]).buffer, 4, 4)
      const taken = fromJsonSafe(withBytes(JSON.parse(JSON.stringify(toJsonSafe([new Float32Array([7]), new Float32Array([7])], []))), [own, part])) as Array<Float32Array>
      assert.strictEqual(taken[0]!.buffer, own.buffer)
      assert.notStrictEqual(taken[1]!.buffer, part.buffer)
      assert.deepStrictEqual(taken, [new Float32Array([7]), new Float32Array([7])])
      assert.deepStrictEqual(new Uint8Array(back.raw), new Uint8Array([1, 2]))
      assert.isTrue(Number.isNaN(back.n))
      // a value without bytes is the same either way, and withBytes leaves a value without tags as it is
      const plain = { a: [1, "b"] }
      assert.strictEqual(toJsonSafe(plain, bytes), plain)
      assert.strictEqual(withBytes(plain, bytes), plain)
      // the user's own object with the tag key and an "x" is data, not a reference
      const tricky = { [TAG]: "Uint8Array", x: 0, inner: new Int16Array([-3]) }
      assert.deepStrictEqual(besideTrip(tricky), tricky)
      // a reference to bytes that did not come is refused, not taken for empty bytes
      const orphan = JSON.parse(JSON.stringify(toJsonSafe(new Uint8Array([1]), [])))
      assert.throws(() => fromJsonSafe(withBytes(orphan, [])), NotJsonSafe)
      assert.throws(() => fromJsonSafe(withBytes({ [TAG]: "T", v: [{ [TAG]: "Uint8Array", x: 5 }] }, [new Uint8Array(1)])), NotJsonSafe)
    }))

  it.effect("dates, regexps, maps, sets, bigints, errors, undefined and the numbers JSON cannot spell arrive as themselves", () =>
    Effect.sync(() => {
      const value = {
        when: new Date("2024-05-06T07:08:09.010Z"),
        never: new Date(Number.NaN),
        pattern: /a+b/gi,
        tags: new Map<unknown, unknown>([["a", 1], [{ k: 2 }, new Set([1n, undefined])]]),
        n: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0],
        missing: undefined,
        holes: [1, undefined, 3],
        error: new RangeError("boom", { cause: new Error("inner") })
      }
      const back = roundTrip(value) as typeof value
      assert.deepStrictEqual(back.when, value.when)
      assert.isTrue(Number.isNaN(back.never.getTime()))
      assert.deepStrictEqual(back.pattern, value.pattern)
      assert.deepStrictEqual(back.tags, value.tags)
      assert.isTrue(Number.isNaN(back.n[0]!))
      assert.deepStrictEqual(back.n.slice(1), value.n.slice(1))
      assert.isTrue(Object.is(back.n[3], -0))
      assert.isTrue("missing" in back, "an undefined field keeps its key")
      assert.deepStrictEqual(back.holes, [1, undefined, 3])
      assert.strictEqual(back.error.name, "RangeError")
      assert.strictEqual(back.error.message, "boom")
      assert.strictEqual(back.error.stack, value.error.stack)
      assert.strictEqual((back.error.cause as Error).message, "inner")
    }))

  it.effect("an object of the user's with the tag key is escaped, not taken for a tag; a class instance arrives plain", () =>
    Effect.sync(() => {
      const tricky = { [TAG]: "Float32Array", b: "AAAA", nested: { [TAG]: "u" }, bytes: new Uint8Array([1]) }
      assert.deepStrictEqual(roundTrip(tricky), tricky)
      assert.deepStrictEqual(roundTrip([{ [TAG]: "T", v: 1 }]), [{ [TAG]: "T", v: 1 }])
      class Point {
        readonly x: number
        readonly y: number
        constructor(x: number, y: number) {
          this.x = x
          this.y = y
        }
        norm() {
          return Math.hypot(this.x, this.y)
        }
      }
      const back = roundTrip({ p: new Point(3, 4) }) as { p: unknown }
      assert.deepStrictEqual(back.p, { x: 3, y: 4 })
      assert.strictEqual(Object.getPrototypeOf(back.p), Object.prototype)
    }))

  it.effect("what cannot leave the process is refused with where it is: functions, symbols, a value that contains itself", () =>
    Effect.sync(() => {
      assert.strictEqual(notSafe({ a: [1, { f: () => 1 }] }).path, `["a"][1]["f"]`)
      assert.include(notSafe({ s: Symbol("x") }).message, "symbol cannot be sent")
      const cyclic: Record<string, unknown> = { a: 1 }
      cyclic.self = { back: cyclic }
      const e = notSafe(cyclic)
      assert.include(e.message, "contains itself")
      assert.strictEqual(e.path, `["self"]["back"]`)
      // the same object twice is not a cycle: it is copied twice
      const shared = { k: new Uint8Array([1]) }
      assert.deepStrictEqual(roundTrip([shared, shared]), [shared, shared])
    }))

  it.effect("restoring never changes the message it reads (a message may be read twice)", () =>
    Effect.sync(() => {
      const message = JSON.parse(JSON.stringify(toJsonSafe({ xs: [new Int32Array([5])] })))
      const before = JSON.stringify(message)
      assert.deepStrictEqual(fromJsonSafe(message), { xs: [new Int32Array([5])] })
      assert.strictEqual(JSON.stringify(message), before)
      assert.deepStrictEqual(fromJsonSafe(message), { xs: [new Int32Array([5])] })
    }))

  it.effect("a primitive payload skips the encoder only when JSON keeps it as it is (R5)", () =>
    Effect.sync(() => {
      const codec = (payload: Schema.Codec<any, any>) => jsonSafeCodec(makeCodec({ payload, success: Schema.Number, error: undefined }))
      const isEncoded = codec(Schema.Number).payloadIsEncoded!
      assert.isTrue(isEncoded(2.5))
      // what JSON cannot spell goes through the encoder, which tags it
      for (const x of [Number.NaN, Number.POSITIVE_INFINITY, -0]) {
        assert.isFalse(isEncoded(x), String(x))
        const encoded = codec(Schema.Number).encodePayload(x)
        assert.isTrue(encoded.ok)
        assert.isTrue(Object.is(fromJsonSafe(JSON.parse(JSON.stringify(encoded.ok ? encoded.value : undefined))), x))
      }
      // and what the schema refuses still fails there
      assert.isFalse(isEncoded("2"))
      assert.isFalse(codec(Schema.Number).encodePayload("2").ok)
      assert.isTrue(codec(Schema.String).payloadIsEncoded!("x"))
      assert.isFalse(codec(Schema.BigInt).payloadIsEncoded!(2n), "a bigint is tagged")
      // a schema with a check, or a struct, has no shortcut
      assert.isUndefined(codec(Schema.Number.check(Schema.isGreaterThan(0))).payloadIsEncoded)
      assert.isUndefined(codec(Schema.Struct({ x: Schema.Number })).payloadIsEncoded)
    }))

  it.effect("any value structured clone carries (no cycles) survives JSON text the same (property)", () =>
    Effect.sync(() => {
      fc.assert(
        fc.property(
          fc.anything({
            withBigInt: true,
            withDate: true,
            withMap: true,
            withSet: true,
            withTypedArray: true,
            withSparseArray: false,
            withNullPrototype: false,
            withObjectString: false,
            withBoxedValues: false,
            maxDepth: 4
          }),
          (value) => {
            assert.deepStrictEqual(roundTrip(value), value)
            assert.deepStrictEqual(besideTrip(value), value)
          }
        ),
        { numRuns: 300, seed: 1818 }
      )
    }))
})

describe("a reply's bytes beside its JSON (outcomeToJson)", () => {
  it("a value that cannot travel takes back the bytes it pushed: every byte block sent is named by the JSON", () => {
    const bytes: Array<Uint8Array> = []
    const cannot = { rows: new Uint8Array([9, 9]), f: () => 1 }
    const json = outcomeToJson({
      _tag: "Exits",
      exits: [
        { _tag: "Success", value: new Uint8Array([1, 2]) },
        { _tag: "Success", value: cannot },
        { _tag: "Failure", error: cannot },
        { _tag: "Success", value: new Uint8Array([3]) }
      ]
    }, bytes)
    assert.deepStrictEqual(bytes.map((b) => Array.from(b)), [[1, 2], [3]])
    const back = outcomeFromJson(json, bytes)
    assert.strictEqual(back._tag, "Exits")
    if (back._tag !== "Exits") return
    assert.deepStrictEqual(back.exits.map((e) => e._tag), ["Success", "Problem", "Problem", "Success"])
    assert.deepStrictEqual(Array.from(fromJsonSafe(back.exits[3]!._tag === "Success" ? back.exits[3]!.value : undefined) as Uint8Array), [3])
  })
})
