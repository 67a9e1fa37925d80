import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { localChunks, Policy } from "../../src/internal/parent/policy.ts"
import type { TaskRef } from "../../src/internal/service.ts"

const task: TaskRef = { name: "T", module: "file:///t.ts", payload: Schema.Number, success: Schema.Number, error: undefined }
const limits = { prefetch: 64, maxTasksPerWorker: Infinity }

/** The chunks a batch of `n` items is cut into, once the task's time per item is known. */
const cut = (policy: Policy, n: number, workers: number): Array<number> => {
  const sizes: Array<number> = []
  let left = n
  while (left > 0) {
    const size = Math.min(left, policy.chunkSize(task, left, workers))
    sizes.push(size)
    left -= size
  }
  return sizes
}

describe("chunk sizes (policy)", () => {
  it("start at one item while nothing is measured", () => {
    assert.strictEqual(new Policy(localChunks, limits).chunkSize(task, 100_000, 2), 1)
  })

  it("cut 100,000 tiny items into a handful of chunks, not a long tail of ever smaller ones", () => {
    const policy = new Policy(localChunks, limits)
    policy.observe(task, 0.5, 10_000) // 0.05 µs per item
    const sizes = cut(policy, 100_000, 2)
    assert.isAtMost(sizes.length, 10)
    assert.isAtLeast(sizes.length, 2 * 2, "every worker still gets several chunks")
  })

  it("keep shrinking towards the end when items are slow, so that the workers finish together", () => {
    const policy = new Policy(localChunks, limits)
    policy.observe(task, 2, 1) // 2 ms per item
    const sizes = cut(policy, 64, 2)
    assert.strictEqual(sizes[sizes.length - 1], 1, "the last chunks are single items")
    for (const s of sizes) assert.isAtMost(s * 2, 10, "no chunk above the 10 ms target")
  })
})
