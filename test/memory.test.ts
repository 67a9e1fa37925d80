/**
 * Bounded memory (R6): a lazy input of ten million items streams through the pool without being held.
 */
import { runInNewContext } from "node:vm"
import * as v8 from "node:v8"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { WorkerPool } from "../src/index.ts"
import { Double } from "./fixtures/tasks.ts"

v8.setFlagsFromString("--expose-gc")
const gc = runInNewContext("gc") as () => void

function* numbers(n: number) {
  for (let i = 0; i < n; i++) yield i
}

describe("bounded memory (R6)", () => {
  it.live("imap over a lazy iterable of 10 million items keeps the retained heap flat", () =>
    Effect.gen(function*() {
      gc()
      const base = process.memoryUsage().heapUsed
      let peak = 0
      const [sum, count] = yield* WorkerPool.imap(Double, numbers(10_000_000)).pipe(
        Stream.runFold(() => [0, 0] as [number, number], (acc, x) => {
          acc[0] += x
          if (++acc[1] % 1_000_000 === 0) {
            gc()
            peak = Math.max(peak, process.memoryUsage().heapUsed)
          }
          return acc
        })
      )
      assert.strictEqual(count, 10_000_000)
      assert.strictEqual(sum, 99_999_990_000_000)
      // ten million numbers held anywhere would be 80 MB or more
      const growth = (peak - base) / 1e6
      assert.isBelow(growth, 32, `retained heap grew by ${growth.toFixed(1)} MB`)
    }).pipe(Effect.provide(WorkerPool.layerThreads({ size: 2 }))), 120_000)
})
