import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { clusterChunks, localChunks, Policy } from "../../src/internal/parent/policy.ts"
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

  it("on the cluster, never cut a chunk below 20 ms of measured time, and take 64 items of an unknown input", () => {
    const policy = new Policy(clusterChunks, { prefetch: 1, maxTasksPerWorker: Infinity })
    policy.observe(task, 1, 1_000) // 1 µs per item, message cost included
    // a quarter of a worker's share of 40,000 over 4 workers is 2,500 items (2.5 ms): the floor makes it 20,000,
    // and the largest cluster chunk (10,000 items) bounds that
    assert.strictEqual(policy.chunkSize(task, 40_000, 4), 10_000)
    const slow = new Policy(clusterChunks, { prefetch: 1, maxTasksPerWorker: Infinity })
    slow.observe(task, 10, 1) // 10 ms per item: the floor is two items; 200 ms of work is 20
    assert.strictEqual(slow.chunkSize(task, 400, 4), 20)
    assert.strictEqual(slow.chunkSize(task, 160, 4), 10, "a quarter of a worker's share of what remains")
    assert.strictEqual(new Policy(clusterChunks, { prefetch: 1, maxTasksPerWorker: Infinity }).chunkSize(task, undefined, 4), 64)
  })
})
