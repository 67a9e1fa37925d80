/**
 * Process: one task on a dedicated worker (Python's Process / Thread), on both kinds: the handle (pid /
 * threadId, join with and without a timeout, result, exitCode, isAlive, terminate), crashes, shared
 * objects between two Processes, scope end (R3), bad options.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Option, Schema, Scope } from "effect"
import { threadId as parentThreadId } from "node:worker_threads"
import { Process, SharedEvent, SharedQueue, WorkerError } from "../src/index.ts"
import { alive } from "./conformance/backends.ts"
import { StartedThenSpin, StartedThenWait, WhereAmI } from "./fixtures/dedicated-tasks.ts"
import { Consume, Produce } from "./fixtures/shared-tasks.ts"
import { BadInput, Checked, Exit as ExitTask } from "./fixtures/tasks.ts"

const kinds = ["thread", "process"] as const

/** The reason's tag of a WorkerError, or the error itself when it is not one. */
const reasonOf = (e: unknown): string => (e instanceof WorkerError.WorkerError ? e.reason._tag : String(e))

for (const kind of kinds) {
  describe(`Process, kind: "${kind}"`, () => {
    it.live("runs its task on a worker of its own: pid / threadId, result, join, exitCode 0, not alive after", () =>
      Effect.gen(function*() {
        const p = yield* Process.spawn(WhereAmI, undefined, { kind })
        assert.isTrue(Process.isProcess(p))
        assert.strictEqual(p.kind, kind)
        assert.strictEqual(p.taskName, "WhereAmI")
        const where = yield* p.result
        if (kind === "process") {
          assert.isNumber(p.pid)
          assert.strictEqual(where.pid, p.pid)
          assert.notStrictEqual(where.pid, process.pid)
          assert.isUndefined(p.threadId)
        } else {
          assert.isNumber(p.threadId)
          assert.strictEqual(where.threadId, p.threadId)
          assert.notStrictEqual(where.threadId, parentThreadId)
          assert.strictEqual(where.pid, process.pid)
          assert.isUndefined(p.pid)
        }
        assert.isTrue(yield* p.join())
        assert.isFalse(yield* p.isAlive)
        assert.deepStrictEqual(yield* p.exitCode, Option.some(0))
        if (kind === "process") assert.isFalse(alive(p.pid!))
        // the result can be read again
        assert.deepStrictEqual(yield* p.result, where)
      }))

    it.live("a declared error arrives as its class; the worker itself exits with 0", () =>
      Effect.gen(function*() {
        const p = yield* Process.spawn(Checked, -3, { kind })
        const error = yield* Effect.flip(p.result)
        assert.instanceOf(error, BadInput)
        assert.strictEqual((error as BadInput).input, -3)
        yield* p.join()
        assert.deepStrictEqual(yield* p.exitCode, Option.some(0))
      }))

    it.live("join with a timeout returns false and leaves the worker running; terminate stops it and returns once it is gone", () =>
      Effect.gen(function*() {
        const started = yield* SharedEvent.make
        const p = yield* Process.spawn(StartedThenWait, { started }, { kind })
        yield* SharedEvent.await(started)
        assert.isTrue(yield* p.isAlive)
        assert.isFalse(yield* p.join({ timeout: "50 millis" }))
        assert.isTrue(yield* p.isAlive)
        assert.isTrue(Option.isNone(yield* p.exitCode))
        yield* p.terminate
        assert.isFalse(yield* p.isAlive)
        assert.isTrue(yield* p.join({ timeout: 0 }))
        // an async task stops when interrupted: its worker then exits normally
        assert.deepStrictEqual(yield* p.exitCode, Option.some(0))
        const exit = yield* Effect.exit(p.result)
        assert.isTrue(Exit.isFailure(exit) && Exit.hasInterrupts(exit), "result ends with an interruption")
        if (kind === "process") assert.isFalse(alive(p.pid!))
        yield* p.terminate // again: nothing to do
      }))

    it.live("terminate kills a synchronous loop after interruptGrace", () =>
      Effect.gen(function*() {
        const started = yield* SharedEvent.make
        const p = yield* Process.spawn(StartedThenSpin, { started }, { kind, interruptGrace: "200 millis" })
        yield* SharedEvent.await(started)
        yield* p.terminate
        assert.isFalse(yield* p.isAlive)
        // a killed process reports minus its signal (SIGKILL), a terminated thread exits with 1
        assert.deepStrictEqual(yield* p.exitCode, Option.some(kind === "process" ? -9 : 1))
        if (kind === "process") assert.isFalse(alive(p.pid!))
      }))

    it.live("a crash fails result with WorkerCrashed, and exitCode tells the code", () =>
      Effect.gen(function*() {
        const p = yield* Process.spawn(ExitTask, 7, { kind })
        const error = yield* Effect.flip(p.result)
        assert.strictEqual(reasonOf(error), "WorkerCrashed")
        assert.isTrue(yield* p.join())
        assert.deepStrictEqual(yield* p.exitCode, Option.some(7))
        assert.isFalse(yield* p.isAlive)
      }))

    it.live("a producer and a consumer, each a Process, hand over items through a SharedQueue", () =>
      Effect.gen(function*() {
        const queue = yield* SharedQueue.make(Schema.Struct({ n: Schema.Number, at: Schema.Date }), { capacity: 4 })
        // the consumer first: it waits on the queue, which would deadlock a pool of one
        const consumer = yield* Process.spawn(Consume, { queue }, { kind })
        const producer = yield* Process.spawn(Produce, { queue, count: 50 }, { kind })
        assert.strictEqual(yield* producer.result, 50)
        const taken = yield* consumer.result
        assert.deepStrictEqual(taken, Array.from({ length: 50 }, (_, i) => i))
        assert.isTrue(yield* consumer.join())
        assert.isTrue(yield* producer.join())
      }))

    it.live("closing the scope spawn ran in terminates a worker still running (R3)", () =>
      Effect.gen(function*() {
        const started = yield* SharedEvent.make
        const scope = yield* Scope.make()
        const p = yield* Scope.provide(Process.spawn(StartedThenWait, { started }, { kind }), scope)
        yield* SharedEvent.await(started)
        assert.isTrue(yield* p.isAlive)
        yield* Scope.close(scope, Exit.void)
        assert.isFalse(yield* p.isAlive)
        assert.isTrue(Option.isSome(yield* p.exitCode))
        if (kind === "process") assert.isFalse(alive(p.pid!))
      }))

    it.live("a payload that does not match its schema fails spawn with CodecFailed; no worker starts", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(Process.spawn(Checked, "nope" as unknown as number, { kind }))
        assert.strictEqual(reasonOf(error), "CodecFailed")
      }))
  })
}

describe("Process options", () => {
  it.live("a bad kind, a bad option value and a pool-only option fail with InvalidOption naming them", () =>
    Effect.gen(function*() {
      const bad = (options: unknown) =>
        Effect.flip(Process.spawn(WhereAmI, undefined, options as Process.SpawnOptions)).pipe(
          Effect.map((e) => (e.reason._tag === "InvalidOption" ? e.reason.option : `not InvalidOption: ${e.reason._tag}`))
        )
      assert.strictEqual(yield* bad({ kind: "fiber" }), "kind")
      assert.strictEqual(yield* bad({ interruptGrace: "soon" }), "interruptGrace")
      assert.strictEqual(yield* bad({ size: 4 }), "size")
      assert.strictEqual(yield* bad({ execArgv: "--inspect" }), "execArgv")
      const p = yield* Process.spawn(WhereAmI, undefined)
      const timeout = yield* Effect.flip(p.join({ timeout: "later" as never }))
      assert.strictEqual(timeout.reason._tag, "InvalidOption")
      yield* p.join()
    }))
})
