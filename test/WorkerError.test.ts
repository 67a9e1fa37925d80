import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { WorkerError } from "../src/index.ts"

const reasons: ReadonlyArray<WorkerError.WorkerErrorReason> = [
  new WorkerError.WorkerCrashed({ taskName: "T", workerId: 1, exitCode: 3, signal: null, message: "exited with code 3" }),
  new WorkerError.SpawnFailed({ message: "no" }),
  new WorkerError.InitializerFailed({ taskName: "Init", message: "db down" }),
  new WorkerError.CodecFailed({ taskName: "T", side: "worker", direction: "success", path: `["a"]`, message: "bad" }),
  new WorkerError.TaskNotFound({ taskName: "T", module: "file:///x.ts", message: "missing" }),
  new WorkerError.PoolClosed({ taskName: "T" }),
  new WorkerError.TaskTimeout({ taskName: "T", timeoutMillis: 100 }),
  new WorkerError.GetTimeout({ taskName: "T", timeoutMillis: 100 }),
  new WorkerError.InvalidOption({ option: "size", message: "size must be a positive integer" }),
  new WorkerError.Deadlock({ taskName: "Produce", poolSize: 1, waitingOn: ["SharedQueue #3"], blockedMillis: 10_000 })
]

describe("WorkerError", () => {
  for (const reason of reasons) {
    it(`round-trips through its schema keeping its class (${reason._tag})`, () => {
      const error = new WorkerError.WorkerError({ reason })
      const encoded = Schema.encodeSync(WorkerError.WorkerError)(error)
      const back = structuredClone(encoded)
      const decoded = Schema.decodeUnknownSync(WorkerError.WorkerError)(back)
      assert.instanceOf(decoded, WorkerError.WorkerError)
      assert.instanceOf(decoded.reason, reason.constructor as new(...args: Array<never>) => unknown)
      assert.strictEqual(decoded.reason._tag, reason._tag)
      assert.strictEqual(decoded.message, error.message)
      assert.isTrue(WorkerError.isWorkerError(decoded))
    })
  }

  it("names the reason in its message, and GetTimeout says the task was not cancelled", () => {
    const e = new WorkerError.WorkerError({ reason: new WorkerError.GetTimeout({ taskName: "Render", timeoutMillis: 50 }) })
    assert.include(e.message, "Render")
    assert.include(e.message, "not cancelled")
  })

  it("Deadlock names the objects, the pool size and what to do", () => {
    const e = new WorkerError.WorkerError({
      reason: new WorkerError.Deadlock({ taskName: "Produce", poolSize: 1, waitingOn: ["SharedQueue #3"], blockedMillis: 10_000 })
    })
    assert.include(e.message, "Produce")
    assert.include(e.message, "SharedQueue #3")
    assert.include(e.message, "bigger pool")
    assert.include(e.message, "Process.spawn")
  })

  it.effect("catchReason picks one reason out", () =>
    Effect.gen(function*() {
      const r = yield* Effect.fail(new WorkerError.WorkerError({ reason: new WorkerError.TaskTimeout({ taskName: "T", timeoutMillis: 5 }) })).pipe(
        Effect.catchReason("WorkerError", "TaskTimeout", (t) => Effect.succeed(t.timeoutMillis))
      )
      assert.strictEqual(r, 5)
    }))
})
