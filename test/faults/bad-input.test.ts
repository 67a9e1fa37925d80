/**
 * Bad input (R5): payloads that fail their schema, values structured clone cannot carry, cycles, results
 * and errors that cannot travel back, huge values, tasks and modules that do not exist or break at import.
 * Each must end in a typed `WorkerError` whose reason names the problem (never a hang, never a crash of
 * the parent), and the pool must go on serving: every case is followed by a `Double`.
 *
 * Generated with fast-check: BAD_INPUT_RUNS runs per property (default 60), BAD_INPUT_SEED, HUGE_MB
 * (default 50).
 */
import { execFile } from "node:child_process"
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { Cause, Effect, Exit, Schema } from "effect"
import { Task, WorkerError, WorkerPool } from "../../src/index.ts"
import {
  AnyBox,
  BadErrors,
  CountNodes,
  Declared,
  Deep,
  EchoAsShape,
  HalveInt,
  Huge,
  Length,
  type Node,
  ReturnsUnclonable,
  ShapeSchema,
  TakesShape
} from "../fixtures/bad-input.ts"
import { Faulty } from "../fixtures/faults.ts"
import { Double } from "../fixtures/tasks.ts"
import { envInt, reasonOf, report, settled, statsUntil } from "./helpers.ts"

const RUNS = envInt("BAD_INPUT_RUNS", 60)
const SEED = envInt("BAD_INPUT_SEED", 4_242)
const HUGE_MB = envInt("HUGE_MB", 50)

/** Checks a property with fast-check, each run an effect on the pool in context (shrinks on failure). */
const property = <A>(arb: fc.Arbitrary<A>, f: (a: A) => Effect.Effect<void, unknown, WorkerPool.WorkerPool>) =>
  Effect.gen(function*() {
    const pool = yield* WorkerPool.WorkerPool
    const t0 = performance.now()
    yield* Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(arb, (a) => Effect.runPromise(f(a).pipe(Effect.provideService(WorkerPool.WorkerPool, pool)))),
        { numRuns: RUNS, seed: SEED }
      )
    )
    return performance.now() - t0
  })

/** The pool goes on: a healthy task right after the bad one. */
const stillServes = Effect.gen(function*() {
  assert.strictEqual(yield* Double(21), 42, "the pool goes on serving")
})

/** The failure of an effect that must fail (the test fails if it succeeds), as a WorkerError reason. */
const reason = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.map(Effect.flip(effect), reasonOf)

const isCodec = (r: WorkerError.WorkerErrorReason, side: "parent" | "worker", direction: "payload" | "success" | "error") => {
  assert.strictEqual(r._tag, "CodecFailed", JSON.stringify(r))
  if (r._tag !== "CodecFailed") throw new Error("unreachable")
  assert.strictEqual(r.side, side, JSON.stringify(r))
  assert.strictEqual(r.direction, direction, JSON.stringify(r))
  return r
}

// ---------------------------------------------------------------------------------------------------------
// generators

const fields = ["a", "b", "c", "d", "e"] as const
type Field = (typeof fields)[number]

/** A valid Shape. */
const validShape = fc.record({
  a: fc.double({ noNaN: true }),
  b: fc.string(),
  c: fc.boolean(),
  d: fc.array(fc.integer()),
  e: fc.record({ f: fc.option(fc.string(), { nil: null }) })
})

/**
 * A wrong value for each field, with the path where the schema must report it: never a valid value by
 * accident (no string where a string goes, and so on).
 */
const wrongFor: Record<Field, fc.Arbitrary<{ readonly value: unknown; readonly path: string }>> = {
  a: fc.oneof(fc.string(), fc.boolean(), fc.constant(null), fc.array(fc.integer()), fc.bigInt()).map((value) => ({ value, path: `["a"]` })),
  b: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.array(fc.string())).map((value) => ({ value, path: `["b"]` })),
  c: fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.constant(0)).map((value) => ({ value, path: `["c"]` })),
  d: fc.oneof(
    fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.record({ length: fc.nat() })).map((value) => ({ value, path: `["d"]` })),
    fc.tuple(fc.array(fc.integer(), { maxLength: 5 }), fc.string()).map(([ok, bad]) => ({
      value: [...ok, bad],
      path: `["d"][${ok.length}]`
    }))
  ),
  e: fc.oneof(
    fc.oneof(fc.integer(), fc.string(), fc.constant(null)).map((value) => ({ value, path: `["e"]` })),
    fc.oneof(fc.integer(), fc.boolean(), fc.array(fc.string())).map((f) => ({ value: { f }, path: `["e"]["f"]` }))
  )
}

/** A Shape with 1 to 5 fields wrong or missing; the paths where they are. */
const wrongShape = fc
  .tuple(validShape, fc.subarray([...fields], { minLength: 1 }), fc.boolean())
  .chain(([shape, broken, missing]) =>
    fc.tuple(...broken.map((k) => wrongFor[k])).map((wrongs) => {
      const value: Record<string, unknown> = { ...shape }
      const paths: Array<string> = []
      broken.forEach((k, i) => {
        if (missing && i === 0) {
          delete value[k]
          paths.push(`["${k}"]`)
        } else {
          value[k] = wrongs[i]!.value
          paths.push(wrongs[i]!.path)
        }
      })
      return { value, paths }
    })
  )

/** Values structured clone refuses: functions, symbols, objects with methods, proxies, buried anywhere. */
const unclonable = fc
  .tuple(
    fc.oneof(
      fc.func(fc.integer()),
      fc.string().map((s) => Symbol(s)),
      fc.string().map((s) => ({ name: s, method() {
        return s
      } })),
      fc.constant(new Proxy({}, {})),
      fc.constant(new WeakMap())
    ),
    fc.nat({ max: 4 }),
    fc.array(fc.anything({ maxDepth: 1 }), { maxLength: 3 })
  )
  .map(([bad, depth, filler]) => {
    let v: unknown = bad
    for (let i = 0; i < depth; i++) v = i % 2 === 0 ? [...filler, v] : { filler, inner: v }
    return v
  })

for (const backend of ["threads", "processes"] as const) {
  const layer = (backend === "threads" ? WorkerPool.layerThreads : WorkerPool.layerProcesses)({ size: 2, interruptGrace: "200 millis" })

  describe(`bad input on ${backend} (R5)`, () => {
    it.live("a struct with wrong or missing fields fails with CodecFailed (parent, payload) at a wrong field's path", () =>
      Effect.gen(function*() {
        const ms = yield* property(wrongShape, ({ paths, value }) =>
          Effect.gen(function*() {
            const r = isCodec(yield* reason(TakesShape(value as never)), "parent", "payload")
            assert.isTrue(paths.some((p) => r.path.startsWith(p)), `path ${r.path} is one of ${paths.join(", ")}`)
            yield* stillServes
          }))
        assert.strictEqual(yield* TakesShape({ a: 1, b: "", c: true, d: [], e: { f: null } }), 1)
        report(`${backend} wrong fields`, { runs: RUNS, ms: Math.round(ms) })
      }).pipe(Effect.provide(layer)))

    it.live("in a map batch (mode \"result\", 1 to 8 items per chunk), only the items with wrong payloads fail, each at [index] and its field", () =>
      Effect.gen(function*() {
        const items = fc.array(fc.oneof(validShape.map((value) => ({ value, paths: [] as Array<string> })), wrongShape), { minLength: 1, maxLength: 40 })
        const ms = yield* property(fc.tuple(items, fc.integer({ min: 1, max: 8 })), ([items, chunkSize]) =>
          Effect.gen(function*() {
            const results = yield* WorkerPool.map(TakesShape, items.map((i) => i.value as never), { mode: "result", chunkSize })
            assert.strictEqual(results.length, items.length, "one result per input")
            items.forEach((item, i) => {
              const res = results[i]!
              assert.strictEqual(res.index, i)
              if (item.paths.length === 0) return assert.strictEqual(res._tag, "Success")
              assert.strictEqual(res._tag, "Failure")
              const r = isCodec(reasonOf(res._tag === "Failure" ? res.error : undefined), "parent", "payload")
              assert.isTrue(item.paths.some((p) => r.path.startsWith(`[${i}]${p}`)), `path ${r.path} at item ${i}`)
            })
            yield* stillServes
          }))
        report(`${backend} wrong fields in map`, { runs: RUNS, ms: Math.round(ms) })
      }).pipe(Effect.provide(layer)))

    it.live("values structured clone cannot carry, in an unchecked field, fail with CodecFailed (parent, payload)", () =>
      Effect.gen(function*() {
        const ms = yield* property(unclonable, (value) =>
          Effect.gen(function*() {
            const r = isCodec(yield* reason(AnyBox({ value })), "parent", "payload")
            assert.include(r.message, "cannot be cloned")
            yield* stillServes
          }))
        report(`${backend} unclonable payloads`, { runs: RUNS, ms: Math.round(ms) })
      }).pipe(Effect.provide(layer)))

    it.live("any value returned as a Shape: it arrives when it is one, else CodecFailed (worker, success)", () =>
      Effect.gen(function*() {
        const is = Schema.is(ShapeSchema)
        const arb = fc.oneof(fc.anything(), validShape, wrongShape.map((w) => w.value))
        const ms = yield* property(arb, (value) =>
          Effect.gen(function*() {
            const exit = yield* Effect.exit(EchoAsShape(value))
            if (is(value)) {
              assert.isTrue(Exit.isSuccess(exit), `a Shape comes back: ${Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""}`)
            } else {
              assert.isTrue(Exit.isFailure(exit), `not a Shape: ${fc.stringify(value)}`)
              isCodec(reasonOf(Cause.squash((exit as Exit.Failure<unknown, unknown>).cause)), "worker", "success")
            }
            yield* stillServes
          }))
        report(`${backend} results as Shape`, { runs: RUNS, ms: Math.round(ms) })
      }).pipe(Effect.provide(layer)))

    it.live("cycles: a cyclic value fails a recursive struct schema with CodecFailed; an unchecked field carries it", () =>
      Effect.gen(function*() {
        const loop: { id: number; children: Array<Node> } = { id: 1, children: [] }
        loop.children.push(loop)
        const r = isCodec(yield* reason(CountNodes(loop)), "parent", "payload")
        assert.include(r.message, "call stack")
        yield* stillServes
        // a plain struct ignores a cyclic extra property (its encoding keeps declared fields only)
        const shape: Record<string, unknown> = { a: 1, b: "", c: true, d: [], e: { f: null } }
        shape["self"] = shape
        assert.strictEqual(yield* TakesShape(shape as never), 1)
        // structured clone keeps cycles: an unchecked field carries one as it is
        const cyclic: Record<string, unknown> = { n: 1 }
        cyclic["self"] = cyclic
        assert.strictEqual(yield* AnyBox({ value: cyclic }), "object")
        assert.strictEqual(yield* ReturnsUnclonable("cyclic-ok").pipe(Effect.map((o) => (o as { self: unknown }).self === o)), true)
        yield* stillServes
      }).pipe(Effect.provide(layer)))

    it.live("results that cannot travel back fail with CodecFailed (worker, success)", () =>
      Effect.gen(function*() {
        for (const kind of ["function", "symbol", "method"] as const) {
          const r = isCodec(yield* reason(ReturnsUnclonable(kind)), "worker", "success")
          assert.include(r.message, "cannot be cloned", kind)
          yield* stillServes
        }
        // too deep for the worker to serialize (its own stack overflows): a typed error too
        isCodec(yield* reason(Deep(200_000)), "worker", "success")
        yield* stillServes
      }).pipe(Effect.provide(layer)))

    it.live(`huge values: a ${HUGE_MB} MB string payload and a ${HUGE_MB} MB result cross the boundary`, () =>
      Effect.gen(function*() {
        const t0 = performance.now()
        assert.strictEqual(yield* Length("y".repeat(HUGE_MB * 1024 * 1024)), HUGE_MB * 1024 * 1024)
        const t1 = performance.now()
        assert.strictEqual((yield* Huge(HUGE_MB)).length, HUGE_MB * 1024 * 1024)
        const t2 = performance.now()
        yield* stillServes
        report(`${backend} huge values`, { mb: HUGE_MB, payloadMs: Math.round(t1 - t0), resultMs: Math.round(t2 - t1) })
      }).pipe(Effect.provide(layer)))

    it.live("errors with cyclic causes arrive as defects with a finite cause chain; undeclared failures as CodecFailed", () =>
      Effect.gen(function*() {
        const defect = (kind: Parameters<typeof BadErrors>[0]) =>
          Effect.map(Effect.exit(BadErrors(kind)), (exit) => {
            assert.isTrue(Exit.isFailure(exit), kind)
            return Cause.squash((exit as Exit.Failure<unknown, unknown>).cause)
          })
        const chainLength = (e: unknown): number => {
          let n = 0
          for (let c: unknown = e; c instanceof Error && n < 100; c = (c as { cause?: unknown }).cause) n++
          return n
        }
        const self = yield* defect("self-cause")
        assert.instanceOf(self, Error)
        assert.strictEqual((self as Error).message, "I am my own cause")
        assert.isAtMost(chainLength(self), 10, "the loop was cut")
        const loop = yield* defect("cause-loop")
        assert.strictEqual((loop as Error).message, "a")
        assert.strictEqual(((loop as Error).cause as Error).message, "b")
        assert.isAtMost(chainLength(loop), 10)
        const thrown = yield* defect("cyclic-object-thrown")
        assert.instanceOf(thrown, Error)
        isCodec(reasonOf(yield* defect("undeclared-failure")), "worker", "error")
        assert.instanceOf(yield* defect("declared-cyclic-detail"), Declared)
        assert.instanceOf(yield* defect("unclonable-declared"), Declared)
        yield* stillServes
      }).pipe(Effect.provide(layer)))

    it.live("task names and modules that do not exist, or a module that throws at import, fail with TaskNotFound", () =>
      Effect.gen(function*() {
        const known = new Set(["Faulty", "WorkerId", "Nap", "Grind", "WorkerPid"])
        const names = fc.stringMatching(/^[A-Za-z_$][\w$]{0,24}$/).filter((n) => !known.has(n))
        const ms = yield* property(fc.tuple(names, fc.boolean(), fc.stringMatching(/^[a-z0-9-]{1,16}$/)), ([name, missingModule, file]) =>
          Effect.gen(function*() {
            const module = missingModule ? new URL(`../fixtures/no-such-${file}.ts`, import.meta.url).href : Faulty.module
            const ghost = Task.make(name, { module, payload: Schema.Number, success: Schema.Number, run: Effect.succeed })
            const r = yield* reason(ghost(1))
            assert.strictEqual(r._tag, "TaskNotFound", JSON.stringify(r))
            if (r._tag === "TaskNotFound") {
              assert.strictEqual(r.taskName, name)
              assert.strictEqual(r.module, module)
              assert.include(r.message, missingModule ? "failed to import" : "Faulty", "names the cause, or lists what the module exports")
            }
            yield* stillServes
          }))
        const broken = Task.make("Broken", {
          module: new URL("../fixtures/throws-at-import.ts", import.meta.url).href,
          payload: Schema.Number,
          success: Schema.Number,
          run: Effect.succeed
        })
        for (let i = 0; i < 3; i++) {
          const r = yield* reason(broken(1))
          assert.strictEqual(r._tag, "TaskNotFound")
          assert.include(r.message, "broken at import time")
          yield* stillServes
        }
        report(`${backend} missing tasks and modules`, { runs: RUNS, ms: Math.round(ms) })
      }).pipe(Effect.provide(layer)))

    it.live("after all of it, the pool is at rest with every worker up", () =>
      Effect.gen(function*() {
        yield* TakesShape({ a: "x" } as never).pipe(Effect.ignore)
        yield* AnyBox({ value: () => 1 }).pipe(Effect.ignore)
        const s = yield* statsUntil(settled)
        assert.strictEqual(s.crashed, 0)
        assert.strictEqual(s.killed, 0)
      }).pipe(Effect.provide(layer)))
  })
}

describe("once known bugs, now fixed (see docs/reliability.md)", () => {
  const good = { a: 1, b: "", c: true, d: [], e: { f: null } }
  const threads = WorkerPool.layerThreads({ size: 1 })

  it.live("map, mode \"result\": a payload that fails its schema does not lose the rest of its chunk", () =>
    Effect.gen(function*() {
      const items = [good, { ...good, a: "x" }, good, good] as Array<never>
      const results = yield* WorkerPool.map(TakesShape, items, { mode: "result", chunkSize: 10 })
      // was: 2 results (0: Success, 1: Failure); items 2 and 3 were silently dropped
      assert.deepStrictEqual(results.map((r) => `${r.index}:${r._tag}`), ["0:Success", "1:Failure", "2:Success", "3:Success"])
    }).pipe(Effect.provide(threads)))

  it.live("map over an array of numbers (cut as packed numbers): a number that fails a checked schema fails alone, at its [index]", () =>
    Effect.gen(function*() {
      const items = Array.from({ length: 64 }, (_, i) => (i === 37 ? 1.5 : 2 * i))
      const results = yield* WorkerPool.map(HalveInt, items, { mode: "result", chunkSize: 64 })
      assert.deepStrictEqual(results.map((r) => r._tag === "Success" ? r.value : r.index), items.map((x, i) => (i === 37 ? 37 : x / 2)))
      const failed = results[37]!
      const r = isCodec(reasonOf(failed._tag === "Failure" ? failed.error : undefined), "parent", "payload")
      assert.strictEqual(r.path, "[37]")
      // fail-fast: the batch fails with the same typed error, and no item after it is lost silently
      const e = yield* Effect.flip(WorkerPool.map(HalveInt, items, { chunkSize: 16 }))
      assert.strictEqual(isCodec(e.reason, "parent", "payload").path, "[37]")
    }).pipe(Effect.provide(threads)))

  it.live("map, mode \"result\": a payload structured clone refuses fails that item, not the whole batch", () =>
    Effect.gen(function*() {
      // was: the batch failed with CodecFailed and every result was lost (with chunkSize 1 too)
      for (const chunkSize of [1, 10]) {
        const results = yield* WorkerPool.map(AnyBox, [{ value: 1 }, { value: () => 1 }, { value: 2 }], { mode: "result", chunkSize })
        assert.deepStrictEqual(results.map((r) => `${r.index}:${r._tag}`), ["0:Success", "1:Failure", "2:Success"], `chunkSize ${chunkSize}`)
        const r = results[1]!
        isCodec(reasonOf(r._tag === "Failure" ? r.error : undefined), "parent", "payload")
      }
    }).pipe(Effect.provide(threads)))

  it.live("map, mode \"result\": a task the worker cannot find fails every item of the chunk, not only the first", () =>
    Effect.gen(function*() {
      const ghost = Task.make("Ghost", { module: Faulty.module, payload: Schema.Number, success: Schema.Number, run: Effect.succeed })
      const results = yield* WorkerPool.map(ghost, [1, 2, 3, 4, 5], { mode: "result", chunkSize: 10 })
      // was: 1 result; the other four items of the chunk were silently dropped
      assert.strictEqual(results.length, 5)
      for (const r of results) assert.strictEqual(r._tag === "Failure" ? reasonOf(r.error)._tag : r._tag, "TaskNotFound")
    }).pipe(Effect.provide(threads)))

  it.live("threads: a result the worker can serialize but the parent cannot deserialize fails the task instead of hanging it", () =>
    Effect.gen(function*() {
      // 10,000 nested arrays: the worker's 4 MB stack serializes them, the parent's ~1 MB stack cannot read
      // them; the port's "messageerror" was not handled, so the task never settled (only a timeout or an
      // interrupt ended it, by killing the worker)
      const exit = yield* Effect.exit(Deep(10_000).pipe(Effect.timeout("5 seconds")))
      assert.isTrue(Exit.isFailure(exit))
      const e = Cause.squash((exit as Exit.Failure<unknown, unknown>).cause)
      // was: a TimeoutError from the caller's own timeout, not a WorkerError
      isCodec(reasonOf(e), "parent", "success")
      yield* stillServes
      // in a chunk (mode "result"), exactly that item fails
      const results = yield* WorkerPool.map(Deep, [1, 10_000, 2], { mode: "result", chunkSize: 10 })
      assert.deepStrictEqual(results.map((r) => `${r.index}:${r._tag}`), ["0:Success", "1:Failure", "2:Success"])
      const r = results[1]!
      isCodec(reasonOf(r._tag === "Failure" ? r.error : undefined), "parent", "success")
      const s = yield* statsUntil(settled)
      assert.strictEqual(s.killed, 0, "the worker was not killed")
      assert.strictEqual(s.crashed, 0)
    }).pipe(Effect.provide(WorkerPool.layerThreads({ size: 1, interruptGrace: "100 millis" }))))

  it.live("processes with resourceLimits.stackSizeMb: a result too deep for the parent fails the task instead of killing the parent", () =>
    Effect.gen(function*() {
      // a separate program: the parent process used to die with an uncaught RangeError from Node's IPC
      // reader; the worker's stack is now capped to the parent's, so the worker cannot serialize the value
      const { code, stdout } = yield* Effect.promise(() =>
        new Promise<{ code: number | null; stdout: string }>((resolve) => {
          execFile(process.execPath, [new URL("../fixtures/deep-result-parent.ts", import.meta.url).pathname], { timeout: 60_000 }, (e, stdout) =>
            resolve({ code: e === null ? 0 : (e as { code?: number }).code ?? null, stdout }))
        })
      )
      assert.include(stdout, "alive", "the parent survived")
      assert.include(stdout, "CodecFailed")
      assert.strictEqual(code, 0)
    }))
})
