/**
 * Tasks continue the caller's trace inside the worker; pools publish Effect metrics.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Metric } from "effect"
import { WorkerPool } from "../src/index.ts"
import { backends } from "./conformance/backends.ts"
import { Double, TraceProbe } from "./fixtures/tasks.ts"

for (const backend of backends) {
  describe(`observability on ${backend.name}`, () => {
    it.live("a traced caller's task runs in a span of the same trace, child of the task's client span", () =>
      Effect.gen(function*() {
        const untraced = yield* TraceProbe(undefined)
        assert.isNull(untraced, "no trace is invented for an untraced caller")
        const [caller, seen] = yield* Effect.gen(function*() {
          const caller = yield* Effect.currentSpan
          return [caller, yield* TraceProbe(undefined)] as const
        }).pipe(Effect.withSpan("caller"))
        assert.isNotNull(seen)
        assert.strictEqual(seen!.traceId, caller.traceId)
        assert.notStrictEqual(seen!.parentSpanId, caller.spanId, "the worker's parent is the task span, itself a child of the caller")
        assert.isNotNull(seen!.parentSpanId)
        const chunked = yield* WorkerPool.map(TraceProbe, [undefined, undefined]).pipe(Effect.withSpan("batch"))
        for (const s of chunked) assert.isNotNull(s)
      }).pipe(Effect.provide(backend.layer({ size: 1 }))))

    it.live("metrics count completed tasks and show the workers", () =>
      Effect.gen(function*() {
        const find = (name: string) =>
          Effect.map(Metric.snapshot, (all) =>
            all.filter((m) => m.id === name && (m.attributes as Record<string, string> | undefined)?.["backend"] === backend.name))
        const before = yield* find("effect_parallel_tasks_completed_total")
        const sum = (ms: ReadonlyArray<Metric.Metric.Snapshot>) =>
          ms.reduce((n, m) => n + Number((m.state as { count: number | bigint }).count), 0)
        yield* Effect.forEach([1, 2, 3, 4, 5], (n) => Double(n), { discard: true }).pipe(
          Effect.provide(Layer.fresh(backend.layer({ size: 2 })))
        )
        const after = yield* find("effect_parallel_tasks_completed_total")
        assert.strictEqual(sum(after) - sum(before), 5)
        assert.isAbove((yield* find("effect_parallel_workers")).length, 0)
      }))
  })
}
