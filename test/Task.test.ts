import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { Task } from "../src/index.ts"
import { Double } from "./fixtures/tasks.ts"

describe("Task", () => {
  it("is a callable value with its name, module and schemas", () => {
    assert.isTrue(Task.isTask(Double))
    assert.strictEqual(Double.name, "Double")
    assert.isTrue(Double.module.endsWith("fixtures/tasks.ts"))
    assert.strictEqual(typeof Double, "function")
    assert.isFalse(Task.isTask(() => 1))
    assert.isFalse(Task.isTask({ name: "Double" }))
  })

  it("rejects a bad name, a module that is not a URL, and a missing handler", () => {
    const base = { module: import.meta.url, payload: Schema.Number, success: Schema.Number, run: (n: number) => Effect.succeed(n) }
    assert.throws(() => Task.make("has space", base), /identifier-like/)
    assert.throws(() => Task.make("X", { ...base, module: "./tasks.ts" }), /import\.meta\.url/)
    assert.throws(() => Task.make("X", { ...base, run: undefined as never }), /run must be a function/)
  })
})
