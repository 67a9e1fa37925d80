/**
 * A runner's handler alone (`src/internal/cluster/runner.ts`), over a stand-in executor: it hands the
 * execution over as it came (payloads restored from their JSON-safe form, nothing decoded), replies with
 * the executor's outcome, and answers a message delivered again from the replies it keeps instead of
 * running it twice.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as SchemaBinary from "effect/encoding/SchemaBinary"
import { fromJsonSafe, toJsonSafe } from "../../src/internal/cluster/json.ts"
import { outcomeFromJson, ReplyMessage, Run, type RunRequest } from "../../src/internal/cluster/protocol.ts"
import { handleRun, RecentReplies } from "../../src/internal/cluster/runner.ts"
import type { ChunkOutcome, Conclude, Execution, Executor, ItemOutcome } from "../../src/internal/executor.ts"

/** An executor that records what it was given and answers each item with its payload. */
const echo = () => {
  const seen: Array<Execution> = []
  const executor: Executor = {
    backend: "threads",
    size: 3,
    codec: () => {
      throw new Error("the runner must not use a codec")
    },
    execute: <A, E>(execution: Execution, conclude: Conclude<A, E>) => {
      seen.push(execution)
      const outcome: ChunkOutcome = {
        _tag: "Exits",
        exits: Array.from(execution.items, (value): ItemOutcome => ({ _tag: "Success", value })),
        elapsed: 1.5
      }
      return conclude(outcome, execution)
    },
    chunkSize: () => 1,
    stats: () => {
      throw new Error("unused")
    },
    awaitReady: Effect.void
  }
  return { executor, seen }
}

const request = (id: string, items: ReadonlyArray<unknown>): RunRequest => ({
  id,
  module: "file:///tasks.ts",
  name: "Echo",
  items: items.map((item) => toJsonSafe(item)),
  index: 10,
  seed: 7,
  attempt: 2,
  timeoutMillis: null,
  mode: "exits"
})

describe("cluster runner", () => {
  it.effect("hands the execution over as it came and replies with the outcome, its runner and the worker's time", () =>
    Effect.gen(function*() {
      const { executor, seen } = echo()
      const bytes = new Float32Array([1.5, 2.5])
      const reply = yield* handleRun(executor, "10.0.0.5:34431", new RecentReplies(8), request("c/1", [bytes, { a: 1 }]))
      assert.strictEqual(seen.length, 1)
      const execution = seen[0]!
      assert.deepStrictEqual(execution.items, [bytes, { a: 1 }], "payloads restored, not decoded")
      assert.strictEqual(execution.index, 10)
      assert.strictEqual(execution.seed, 7)
      assert.strictEqual(execution.attempt, 2)
      assert.strictEqual(execution.mode, "exits")
      assert.strictEqual(execution.task.name, "Echo")
      assert.strictEqual(reply.r.by, "10.0.0.5:34431")
      assert.strictEqual(reply.r.w, 3)
      assert.strictEqual(reply.r.wk, 1.5)
      const outcome = outcomeFromJson(reply.r.o, reply.b)
      assert.strictEqual(outcome._tag, "Exits")
      if (outcome._tag === "Exits") assert.strictEqual(outcome.exits.length, 2)
    }))

  it.effect("a reply's bytes travel beside its JSON: as bytes in the cluster's binary serialization, as base64 in storage", () =>
    Effect.gen(function*() {
      const rows = [new Float32Array([1.5, Number.NaN, -0]), new Float32Array(4096).map((_, i) => i / 3)]
      const answering: Executor = {
        ...echo().executor,
        execute: <A, E>(execution: Execution, conclude: Conclude<A, E>) =>
          conclude({ _tag: "Values", values: [rows[0], { big: rows[1], n: 1n }], stop: undefined }, execution)
      }
      const reply = yield* handleRun(answering, "r", undefined, { ...request("c/1", [1, 2]), mode: "values" })
      assert.strictEqual(reply.b.length, 2, "each row's bytes beside the JSON")
      assert.notInclude(JSON.stringify(reply.r), Buffer.from(rows[1]!.buffer).toString("base64").slice(0, 40))
      assert.strictEqual(Run.successSchema, ReplyMessage)
      const restored = (message: unknown) => {
        const m = message as ReplyMessage
        const o = outcomeFromJson(m.r.o, m.b)
        assert.strictEqual(o._tag, "Values")
        return o._tag === "Values" ? Array.from(o.values, (v) => fromJsonSafe(v)) : []
      }
      // between a runner and a client (SchemaBinary): the bytes as they are, not base64
      const binary = SchemaBinary.toCodec(ReplyMessage)
      const frame = Schema.encodeSync(binary)(reply)
      assert.isBelow(frame.length, (3 + 4096) * 4 + 400, "raw bytes, not 4/3 of them")
      assert.deepStrictEqual(restored(Schema.decodeSync(binary)(frame)), [rows[0], { big: rows[1], n: 1n }])
      // in storage (Effect Cluster's JSON codec, then JSON text): base64 strings beside the reply's JSON
      const json = Schema.toCodecJson(ReplyMessage)
      const text = JSON.stringify(Schema.encodeSync(json)(reply))
      assert.include(text, Buffer.from(rows[1]!.buffer).toString("base64"))
      assert.deepStrictEqual(restored(Schema.decodeUnknownSync(json)(JSON.parse(text))), [rows[0], { big: rows[1], n: 1n }])
    }))

  it.effect("a value that cannot travel as JSON fails its item with CodecFailed, after the values before it (R5)", () =>
    Effect.gen(function*() {
      const cyclic: Record<string, unknown> = {}
      cyclic["self"] = cyclic
      const answering = (values: ArrayLike<unknown>): Executor => ({
        ...echo().executor,
        execute: <A, E>(execution: Execution, conclude: Conclude<A, E>) =>
          conclude({ _tag: "Values", values, stop: undefined }, execution)
      })
      const bad = yield* handleRun(answering([1, cyclic, 3]), "r", new RecentReplies(8), { ...request("c/1", [1, 2, 3]), mode: "values" })
      const o = outcomeFromJson(bad.r.o, bad.b)
      assert.strictEqual(o._tag, "Values")
      if (o._tag !== "Values") return
      assert.deepStrictEqual(Array.from(o.values), [1])
      assert.strictEqual(o.stop?._tag, "Problem")
      if (o.stop?._tag === "Problem") assert.strictEqual(o.stop.problem._tag, "CodecFailed")
      // a chunk of numbers comes from the worker as a Float64Array: every value travels
      const packed = yield* handleRun(answering(new Float64Array([0.5, -0, 2])), "r", new RecentReplies(8), { ...request("c/2", [1, 2, 3]), mode: "values" })
      const p = outcomeFromJson(packed.r.o, packed.b)
      assert.strictEqual(p._tag, "Values")
      if (p._tag === "Values") {
        // values stay in JSON-safe form until the client's codec restores them
        const restored = Array.from(p.values, (v) => fromJsonSafe(v))
        assert.deepStrictEqual(restored, [0.5, -0, 2])
        assert.isTrue(Object.is(restored[1], -0))
        assert.isUndefined(p.stop)
      }
    }))

  it.effect("a message delivered again gets its kept reply: its tasks do not run twice", () =>
    Effect.gen(function*() {
      const { executor, seen } = echo()
      const recent = new RecentReplies(8)
      const first = yield* handleRun(executor, "r", recent, request("c/1", [1]))
      const again = yield* handleRun(executor, "r", recent, request("c/1", [1]))
      assert.strictEqual(seen.length, 1, "run once")
      assert.strictEqual(again, first)
      // another message runs
      yield* handleRun(executor, "r", recent, request("c/2", [1]))
      assert.strictEqual(seen.length, 2)
      // a volatile message keeps no reply (it is never delivered again): each one runs
      yield* handleRun(executor, "r", undefined, request("v/1", [1]))
      yield* handleRun(executor, "r", undefined, request("v/1", [1]))
      assert.strictEqual(seen.length, 4)
      assert.isUndefined(recent.get("v/1"))
    }))

  it.effect("the kept replies are bounded: the oldest goes first", () =>
    Effect.sync(() => {
      const recent = new RecentReplies(2)
      const reply = (n: number) => ({ r: { by: "r", w: 1, ms: n, o: { x: [] } }, b: [] })
      recent.set("a", reply(1))
      recent.set("b", reply(2))
      recent.set("c", reply(3))
      assert.isUndefined(recent.get("a"))
      assert.strictEqual(recent.get("b")?.r.ms, 2)
      assert.strictEqual(recent.get("c")?.r.ms, 3)
    }))
})
