import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { coresFrom } from "../../src/internal/cores.ts"
import { resolveOptions } from "../../src/internal/options.ts"
import { Deque } from "../../src/internal/parent/deque.ts"
import { InvalidOption } from "../../src/WorkerError.ts"

const message = (f: () => Result.Result<unknown, InvalidOption>): string => {
  const r = f()
  if (Result.isFailure(r)) {
    assert.instanceOf(r.failure, InvalidOption)
    return r.failure.message
  }
  return assert.fail("expected an InvalidOption")
}

describe("pool options", () => {
  it("name the option and the value when they are invalid", () => {
    assert.strictEqual(message(() => resolveOptions({ size: -1 })), `size must be a positive integer or "cores", got -1`)
    assert.strictEqual(message(() => resolveOptions({ size: 1.5 })), `size must be a positive integer or "cores", got 1.5`)
    assert.include(message(() => resolveOptions({ maxTasksPerWorker: 0 })), "maxTasksPerWorker must be a positive integer, got 0")
    assert.include(message(() => resolveOptions({ interruptGrace: "whenever" as never })), `interruptGrace must be a duration`)
    assert.include(message(() => resolveOptions({ execArgv: "--x" as never })), "execArgv must be an array of strings")
    assert.include(message(() => resolveOptions({ env: { A: 1 } as never })), "env must be a record of strings")
    assert.include(message(() => resolveOptions({ resourceLimits: { maxOldGenerationSizeMb: -5 } })), "resourceLimits.maxOldGenerationSizeMb")
    assert.include(message(() => resolveOptions({ initializer: (() => 1) as never })), "initializer must be a Task")
  })

  it("default to one worker per usable core and a one-second grace", () => {
    const o = Result.getOrThrow(resolveOptions(undefined))
    assert.isAtLeast(o.size, 1)
    assert.strictEqual(o.interruptGraceMillis, 1000)
    assert.strictEqual(o.maxQueued, Infinity)
    assert.strictEqual(Result.getOrThrow(resolveOptions({ interruptGrace: "250 millis" })).interruptGraceMillis, 250)
  })

  it("bound the core count by the cgroup CPU quota", () => {
    assert.strictEqual(coresFrom(64, 2), 2)
    assert.strictEqual(coresFrom(64, 1.5), 2)
    assert.strictEqual(coresFrom(4, 8), 4)
    assert.strictEqual(coresFrom(4, undefined), 4)
    assert.strictEqual(coresFrom(1, 0.25), 1)
  })
})

describe("Deque", () => {
  it("is a FIFO with unshift, across compactions", () => {
    const d = new Deque<number>()
    for (let i = 0; i < 5000; i++) d.push(i)
    for (let i = 0; i < 3000; i++) assert.strictEqual(d.shift(), i)
    d.unshift(-1)
    assert.strictEqual(d.peek(), -1)
    assert.strictEqual(d.length, 2001)
    assert.deepStrictEqual([...d].slice(0, 3), [-1, 3000, 3001])
    while (d.length > 0) d.shift()
    assert.strictEqual(d.shift(), undefined)
  })
})
