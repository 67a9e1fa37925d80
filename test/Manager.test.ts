/**
 * Manager: maps, lists and values held by the parent, typed proxies in workers, atomic `modify` under
 * contention (optimistic concurrency), and deep-frozen copies so that nested mutation throws instead of
 * being lost; on threads, processes and in-process.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Option, Schema } from "effect"
import { Manager, SharedError } from "../src/index.ts"
import { backends } from "./conformance/backends.ts"
import { MapIncrements, MutateInPlace, RecordVisits, SumIntoList, Visit } from "./fixtures/shared-tasks-2.ts"

describe("Manager in one isolate", () => {
  it.live("a map: get, set, delete, has, keys, entries, size, clear, modify", () =>
    Effect.gen(function*() {
      const m = yield* Manager.map(Schema.String, Schema.Number)
      assert.isTrue(Option.isNone(yield* m.get("a")))
      yield* m.set("a", 1)
      yield* m.set("b", 2)
      assert.deepStrictEqual(yield* m.get("a"), Option.some(1))
      assert.isTrue(yield* m.has("b"))
      assert.deepStrictEqual(yield* m.keys, ["a", "b"])
      assert.deepStrictEqual(yield* m.entries, [["a", 1], ["b", 2]])
      assert.strictEqual(yield* m.size, 2)
      assert.strictEqual(yield* m.modify("a", (n) => Option.getOrElse(n, () => 0) + 10), 11)
      assert.strictEqual(yield* m.modify("new", (n) => Option.getOrElse(n, () => 0) + 1), 1)
      assert.isTrue(yield* m.delete("b"))
      assert.isFalse(yield* m.delete("b"))
      assert.deepStrictEqual(yield* m.entries, [["a", 11], ["new", 1]])
      yield* m.clear
      assert.strictEqual(yield* m.size, 0)
    }))

  it.live("struct keys are compared by their encoded form", () =>
    Effect.gen(function*() {
      const Key = Schema.Struct({ x: Schema.Number, y: Schema.Number })
      const m = yield* Manager.map(Key, Schema.String)
      yield* m.set({ x: 1, y: 2 }, "p")
      assert.deepStrictEqual(yield* m.get({ x: 1, y: 2 }), Option.some("p"))
      assert.isFalse(yield* m.has({ x: 2, y: 1 }))
      assert.deepStrictEqual(yield* m.keys, [{ x: 1, y: 2 }])
    }))

  it.live("a list and a value: append, get, set, length, toArray, modify", () =>
    Effect.gen(function*() {
      const l = yield* Manager.list(Schema.String, ["x"])
      assert.strictEqual(yield* l.append("y"), 1)
      assert.deepStrictEqual(yield* l.get(1), Option.some("y"))
      assert.isTrue(Option.isNone(yield* l.get(5)))
      yield* l.set(0, "z")
      assert.strictEqual(yield* l.modify(1, (s) => s + "!"), "y!")
      assert.strictEqual(yield* l.length, 2)
      assert.deepStrictEqual(yield* l.toArray, ["z", "y!"])
      const outOfRange = yield* Effect.exit(l.set(9, "no"))
      assert.isTrue(Exit.isFailure(outOfRange) && String(outOfRange.cause).includes("RangeError"))
      const v = yield* Manager.value(Schema.Number, 5)
      assert.strictEqual(yield* v.get, 5)
      yield* v.set(6)
      assert.strictEqual(yield* v.modify((n) => n * 2), 12)
      assert.strictEqual(yield* v.get, 12)
    }))

  it.live("values read back are deep-frozen copies: changing them in place throws a TypeError, and the stored value never changes", () =>
    Effect.gen(function*() {
      const m = yield* Manager.map(Schema.String, Schema.Struct({ items: Schema.Array(Schema.Number), meta: Schema.Struct({ n: Schema.Number }) }))
      const mine = { items: [1, 2], meta: { n: 1 } }
      yield* m.set("k", mine)
      mine.items.push(3) // the caller's own value stays its own: not frozen, not shared with the store
      assert.deepStrictEqual(Option.getOrThrow(yield* m.get("k")).items, [1, 2])
      const got = Option.getOrThrow(yield* m.get("k"))
      assert.throws(() => (got.items as Array<number>).push(4), TypeError)
      assert.throws(() => ((got.meta as { n: number }).n = 2), TypeError)
      assert.deepStrictEqual(yield* m.get("k"), Option.some({ items: [1, 2], meta: { n: 1 } }))
      // the way to change it: a new value, atomically
      yield* m.modify("k", (old) => {
        const v = Option.getOrThrow(old)
        return { ...v, items: [...v.items, 4] }
      })
      assert.deepStrictEqual(Option.getOrThrow(yield* m.get("k")).items, [1, 2, 4])
      const l = yield* Manager.list(Schema.Array(Schema.Number), [[1]])
      const inner = Option.getOrThrow(yield* l.get(0))
      assert.throws(() => (inner as Array<number>).push(2), TypeError)
      assert.isTrue(Object.isFrozen(yield* l.toArray))
    }))

  it.live("a value that does not match its schema fails with InvalidValue naming the issue, and nothing is stored", () =>
    Effect.gen(function*() {
      const m = yield* Manager.map(Schema.String, Schema.Struct({ n: Schema.Number }))
      const bad = yield* Effect.flip(m.set("k", { n: "nope" } as unknown as { n: number }))
      assert.instanceOf(bad, SharedError.SharedError)
      assert.strictEqual(bad.reason._tag, "InvalidValue")
      assert.include(bad.reason.message, "n", "the issue names the field")
      assert.strictEqual(yield* m.size, 0)
      const list = yield* Manager.list(Schema.Number)
      assert.strictEqual((yield* Effect.flip(list.append("x" as unknown as number))).reason._tag, "InvalidValue")
      const value = yield* Manager.value(Schema.Number, 1)
      assert.strictEqual((yield* Effect.flip(value.set("y" as unknown as number))).reason._tag, "InvalidValue")
      assert.strictEqual((yield* Effect.flip(m.modify("k", () => ({ n: "z" }) as unknown as { n: number }))).reason._tag, "InvalidValue")
    }))
})

for (const backend of backends) {
  const pool = (size: number) => backend.layer({ size, interruptGrace: "300 millis" })
  const times = backend.name === "processes" ? 150 : 1_000

  describe(`Manager on ${backend.name}`, () => {
    it.live(`2 workers x ${times} modify increments of one key give the exact count`, () =>
      Effect.gen(function*() {
        const counts = yield* Manager.map(Schema.String, Schema.Number)
        yield* Effect.forEach([1, 2], () => MapIncrements({ counts, key: "hits", times }), { concurrency: "unbounded" })
        assert.deepStrictEqual(yield* counts.get("hits"), Option.some(2 * times))
      }).pipe(Effect.provide(pool(2))))

    it.live("struct values keep their Dates and arrays; modify builds new values from frozen ones", () =>
      Effect.gen(function*() {
        const visits = yield* Manager.map(Schema.String, Visit)
        yield* Effect.forEach(["ann", "bob"], (who) => RecordVisits({ visits, who, times: 5 }), { concurrency: "unbounded" })
        const ann = Option.getOrThrow(yield* visits.get("ann"))
        assert.strictEqual(ann.count, 5)
        assert.instanceOf(ann.last, Date)
        assert.strictEqual(ann.last.toISOString(), "2024-01-05T00:00:00.000Z")
        assert.deepStrictEqual(ann.tags, ["t0", "t1", "t2", "t3", "t4"])
      }).pipe(Effect.provide(pool(2))))

    it.live("in a worker, changing a value read from the manager in place throws a TypeError (Python would lose the change)", () =>
      Effect.gen(function*() {
        const visits = yield* Manager.map(Schema.String, Visit)
        yield* visits.set("ann", { count: 1, last: new Date(0), tags: ["a"] })
        assert.deepStrictEqual(yield* MutateInPlace({ visits, who: "ann" }), ["TypeError", "TypeError"])
        assert.deepStrictEqual(Option.getOrThrow(yield* visits.get("ann")).tags, ["a"])
      }).pipe(Effect.provide(pool(1))))

    it.live("workers fill a shared list and count themselves in a shared value", () =>
      Effect.gen(function*() {
        const sums = yield* Manager.list(Schema.Number, [0, 0])
        const done = yield* Manager.value(Schema.Number, 0)
        yield* Effect.forEach([0, 1], (slot) => SumIntoList({ sums, done, slot, values: [1, 2, 3].map((x) => x * (slot + 1)) }), {
          concurrency: "unbounded"
        })
        const all = yield* sums.toArray
        assert.deepStrictEqual(all.slice(0, 2), [26, 32])
        assert.deepStrictEqual([...all.slice(2)].sort(), [0, 1])
        assert.strictEqual(yield* done.get, 2)
      }).pipe(Effect.provide(pool(2))))
  })
}
