import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { isIdentity, makeCodec } from "../../src/internal/codec.ts"
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
