/**
 * The deadlock policy alone (`DeadlockWatch`), on made-up samples of a pool's waits: when it calls a
 * deadlock, that it says so once, and that any progress starts the clock again.
 */
import { assert, describe, it } from "@effect/vitest"
import type { PoolWaits } from "../../src/internal/parent/core.ts"
import { DeadlockWatch } from "../../src/internal/parent/deadlock.ts"

const sample = (signatures: ReadonlyArray<string>, waitingCount: number, live = signatures.length): PoolWaits => ({
  live,
  blocked: signatures.map((signature, i) => ({ workerId: i + 1, taskName: "Consume", index: i, objects: [3], signature })),
  waiting: waitingCount > 0 ? [{ taskName: "Produce", index: 0 }] : [],
  waitingCount
})

describe("DeadlockWatch", () => {
  it("calls a deadlock once every worker has been blocked in the same waits for the timeout, with tasks behind; once", () => {
    const watch = new DeadlockWatch(2, 1000)
    assert.isUndefined(watch.observe(sample(["1/", "4/"], 1), 0))
    assert.isUndefined(watch.observe(sample(["1/", "4/"], 1), 999))
    const info = watch.observe(sample(["1/", "4/"], 1), 1000)
    assert.isDefined(info)
    assert.strictEqual(info!.since, 0)
    assert.deepStrictEqual(info!.waiting, [{ taskName: "Produce", index: 0 }])
    assert.isUndefined(watch.observe(sample(["1/", "4/"], 1), 2000), "reported once")
    assert.strictEqual(watch.current?.since, 0, "still shown")
    assert.strictEqual(watch.peek(sample(["1/", "4/"], 1)), watch.current)
    assert.isUndefined(watch.peek(sample(["1/", "5/"], 1)), "a wait that ended is not shown between samples")
  })

  it("any wait that starts or ends starts the clock again", () => {
    const watch = new DeadlockWatch(1, 1000)
    watch.observe(sample(["1/7"], 1), 0)
    watch.observe(sample(["1/8"], 1), 900) // a new call: progress
    assert.isUndefined(watch.observe(sample(["1/8"], 1), 1500))
    assert.isDefined(watch.observe(sample(["1/8"], 1), 1900))
  })

  it("no deadlock without tasks behind, with a worker not blocked, or with fewer workers than the pool's size", () => {
    const watch = new DeadlockWatch(2, 100)
    for (const s of [sample(["1/", "2/"], 0), sample(["1/"], 3, 2), sample(["1/"], 3, 1)]) {
      watch.observe(s, 0)
      assert.isUndefined(watch.observe(s, 10_000))
      assert.isUndefined(watch.current)
    }
  })
})
