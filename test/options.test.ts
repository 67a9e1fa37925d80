/**
 * Pool options that change how workers live: idleTimeout, env, execArgv, preload.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { WorkerPool } from "../src/index.ts"
import { backends } from "./conformance/backends.ts"
import { Double, Env } from "./fixtures/tasks.ts"

const statsUntil = (f: (s: WorkerPool.PoolStats) => boolean) =>
  WorkerPool.stats.pipe(Effect.repeat({ until: f, schedule: Schedule.spaced("5 millis") }), Effect.timeout("10 seconds"))

for (const backend of backends.filter((b) => b.isolated)) {
  describe(`options on ${backend.name}`, () => {
    it.live("idleTimeout stops idle workers and starts them again on demand", () =>
      Effect.gen(function*() {
        assert.strictEqual(yield* Double(1), 2)
        yield* statsUntil((s) => s.workers === 0)
        assert.strictEqual(yield* Double(2), 4, "a worker starts again for new work")
        const s = yield* WorkerPool.stats
        assert.isAtLeast(s.spawned, 2)
      }).pipe(Effect.provide(backend.layer({ size: 1, idleTimeout: "100 millis" }))))

    it.live("env and execArgv reach every worker", () =>
      Effect.gen(function*() {
        const r = yield* Env("EFFECT_PARALLEL_TEST_VAR")
        assert.strictEqual(r.value, "hello")
        assert.include(r.execArgv, "--no-deprecation")
      }).pipe(Effect.provide(backend.layer({
        size: 1,
        env: { ...process.env as Record<string, string>, EFFECT_PARALLEL_TEST_VAR: "hello" },
        execArgv: [...process.execArgv, "--no-deprecation"]
      }))))

    it.live("preload imports task modules before the first task, and awaitReady waits for it", () =>
      Effect.gen(function*() {
        yield* WorkerPool.awaitReady
        const s = yield* WorkerPool.stats
        assert.strictEqual(s.ready, 2)
        assert.strictEqual(yield* Double(21), 42)
      }).pipe(Effect.provide(backend.layer({ size: 2, preload: [Double.module] }))))
  })
}

describe("options that cannot work", () => {
  it.live("a worker that cannot be created fails the pool at once with SpawnFailed naming the cause", () =>
    Effect.gen(function*() {
      const e = yield* Effect.flip(Double(1))
      assert.strictEqual(e.reason._tag, "SpawnFailed")
      assert.include(e.message, "execArgv")
      assert.strictEqual((yield* WorkerPool.stats).spawned, 1, "no respawn loop")
    }).pipe(Effect.provide(WorkerPool.layerThreads({ size: 1, execArgv: ["--max-semi-space-size=4"] }))))
})
