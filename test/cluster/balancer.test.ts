/**
 * The cluster client's balancing policy alone (`src/internal/cluster/balance.ts`), without Postgres or
 * runners: the next message goes to a runner with a free worker, callers wait in order when all are busy,
 * and what the runners answer keeps the map of slots current.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Balancer, type Lease, MAX_PER_WORKER } from "../../src/internal/cluster/balance.ts"
import { slotIds } from "../../src/internal/cluster/protocol.ts"
import { clusterChunks, persistedChunks, Policy } from "../../src/internal/parent/policy.ts"
import type { TaskRef } from "../../src/internal/service.ts"

const SLOTS = 300

/** A balancer whose slots alternate between runners a (1 worker) and b (2 workers), or as given. */
const twoRunners = (workersA = 1, workersB = 2) => {
  const balancer = new Balancer(SLOTS)
  for (let slot = 0; slot < SLOTS; slot++) {
    balancer.learn(slot, slot % 2 === 0 ? { address: "a", workers: workersA } : { address: "b", workers: workersB })
  }
  return balancer
}

const runnerOf = (lease: Lease | undefined) => lease?.runner?.address

describe("cluster balancer", () => {
  it.effect("messages go to the runner with the most free workers, one per worker, then wait", () =>
    Effect.sync(() => {
      const balancer = twoRunners()
      assert.strictEqual(balancer.capacity(), 3)
      const leases = [balancer.tryAcquire(), balancer.tryAcquire(), balancer.tryAcquire()]
      assert.deepStrictEqual(leases.map(runnerOf).sort(), ["a", "b", "b"])
      assert.isUndefined(balancer.tryAcquire(), "every worker is busy")
      // each lease names a slot of its runner
      for (const l of leases) assert.strictEqual(l!.slot % 2, runnerOf(l) === "a" ? 0 : 1)
      balancer.release(leases.find((l) => runnerOf(l) === "a")!)
      assert.strictEqual(runnerOf(balancer.tryAcquire()), "a", "the freed worker takes the next message")
    }))

  it.effect("over a long batch the runners' shares follow their workers, also when one of them is slower", () =>
    Effect.sync(() => {
      // a simulated batch: a runs tasks of 10 ticks on 1 worker, b tasks of 10 ticks on 2 workers
      const simulate = (ticksA: number, ticksB: number) => {
        const balancer = twoRunners()
        const count: Record<string, number> = { a: 0, b: 0 }
        const running: Array<{ lease: Lease; until: number }> = []
        for (let t = 0; t < 3000; t++) {
          for (let k = running.length - 1; k >= 0; k--) {
            if (running[k]!.until <= t) {
              balancer.release(running[k]!.lease)
              running.splice(k, 1)
            }
          }
          let lease = balancer.tryAcquire()
          while (lease !== undefined) {
            count[runnerOf(lease)!]!++
            running.push({ lease, until: t + (runnerOf(lease) === "a" ? ticksA : ticksB) })
            lease = balancer.tryAcquire()
          }
        }
        return count.a! / (count.a! + count.b!)
      }
      assert.closeTo(simulate(10, 10), 1 / 3, 0.01, "1 worker against 2")
      // a runner whose tasks take twice as long gets half as many
      assert.closeTo(simulate(20, 10), 1 / 5, 0.01, "a slow runner of 1 worker against a fast one of 2")
    }))

  it.effect("with room on several runners, the next message goes to the runner used last", () =>
    Effect.sync(() => {
      // calls awaited one after the other stay on one runner (its process warm), on runners of any size
      for (const [a, b] of [[1, 1], [1, 2], [2, 1]] as const) {
        const balancer = twoRunners(a, b)
        const first = balancer.tryAcquire()!
        const runner = runnerOf(first)
        balancer.release(first)
        for (let k = 0; k < 10; k++) {
          const lease = balancer.tryAcquire()!
          assert.strictEqual(runnerOf(lease), runner, `call ${k} on runners of ${a} and ${b} workers`)
          balancer.release(lease)
        }
      }
      // calls in flight together still spread by free workers
      const balancer = twoRunners(1, 1)
      const both = [balancer.tryAcquire(), balancer.tryAcquire()]
      assert.deepStrictEqual(both.map(runnerOf).sort(), ["a", "b"])
    }))

  it.effect("callers wait in arrival order; a caller that gave up is skipped", () =>
    Effect.sync(() => {
      const balancer = twoRunners(1, 1)
      const first = balancer.tryAcquire()!
      balancer.tryAcquire()
      const served: Array<string> = []
      balancer.acquire(() => served.push("one"))
      const cancel = balancer.acquire(() => served.push("two"))
      balancer.acquire(() => served.push("three"))
      assert.strictEqual(balancer.waiting(), 3)
      cancel()
      cancel()
      assert.strictEqual(balancer.waiting(), 2, "a caller that gave up no longer waits (the pool's stats.queued)")
      balancer.release(first)
      assert.deepStrictEqual(served, ["one"])
      assert.strictEqual(balancer.waiting(), 1)
      balancer.release(first)
      assert.deepStrictEqual(served, ["one", "three"])
      assert.strictEqual(balancer.waiting(), 0)
    }))

  it.effect("a slot that answers from another runner moves; a runner left without slots is forgotten", () =>
    Effect.sync(() => {
      const balancer = twoRunners()
      assert.isFalse(balancer.learn(0, { address: "a", workers: 1 }), "no news")
      // runner a died: its slots answer from b one by one
      let moved = 0
      for (let slot = 0; slot < SLOTS; slot += 2) if (balancer.learn(slot, { address: "b", workers: 2 })) moved++
      assert.strictEqual(moved, SLOTS / 2)
      assert.deepStrictEqual(balancer.known().map((r) => r.address), ["b"])
      assert.strictEqual(balancer.capacity(), 2)
      // a new runner announces more workers
      balancer.learn(5, { address: "c", workers: 4 })
      assert.strictEqual(balancer.capacity(), 6)
    }))

  it.effect("no runner known yet: messages go out addressed by slot, and Effect Cluster routes them", () =>
    Effect.sync(() => {
      const balancer = new Balancer(SLOTS)
      const leases = Array.from({ length: 5 }, () => balancer.tryAcquire()!)
      assert.isTrue(leases.every((l) => l.runner === undefined))
      assert.strictEqual(new Set(leases.map((l) => l.slot)).size, 5, "spread over slots")
    }))

  it.effect("workers get messages ahead only while messages are mostly message cost", () =>
    Effect.sync(() => {
      const balancer = twoRunners()
      assert.strictEqual(balancer.perWorker(), 1, "nothing ahead before anything is measured")
      const answered = (roundTrip: number, inRunner: number, work: number) =>
        balancer.release({ slot: 0, runner: undefined }, { roundTrip, inRunner, work })
      // round trips of 200 ms for 190 ms of work: one message a worker
      for (let k = 0; k < 20; k++) answered(200, 192, 190)
      assert.strictEqual(balancer.perWorker(), 1)
      // 6 ms of message cost for 0.5 ms of work: a worker would idle between two messages
      for (let k = 0; k < 40; k++) answered(6.5, 0.5, 0.5)
      assert.closeTo(balancer.perWorker(), 13, 1, "1 + 6 ms / 0.5 ms")
      // time spent queued in the runner is not message cost: more messages in flight do not ask for more
      for (let k = 0; k < 40; k++) answered(26.5, 20.5, 0.5)
      assert.closeTo(balancer.perWorker(), 13, 1, "queueing does not feed back")
      for (let k = 0; k < 40; k++) answered(60, 0, 0)
      assert.strictEqual(balancer.perWorker(), MAX_PER_WORKER)
    }))

  it.effect("persisted messages carry at least 100 ms of work: fewer messages, each a few transactions", () =>
    Effect.sync(() => {
      const chunks = (tuning: typeof clusterChunks) => {
        const policy = new Policy(tuning, { prefetch: 1, maxTasksPerWorker: Infinity })
        const task = { module: "file:///rows.ts", name: "Row" } as TaskRef
        // rows of 0.5 ms each, message cost included, cut for one runner of 2 workers
        policy.observe(task, 50, 100)
        const sizes: Array<number> = []
        for (let remaining = 1200; remaining > 0;) {
          const size = Math.min(remaining, policy.chunkSize(task, remaining, 2))
          sizes.push(size)
          remaining -= size
        }
        return sizes
      }
      const volatile = chunks(clusterChunks)
      const persisted = chunks(persistedChunks)
      assert.strictEqual(volatile[0], 150, "a quarter of a worker's share")
      assert.strictEqual(volatile.at(-2), 40, "down to 20 ms of work")
      assert.strictEqual(persisted[0], 200, "100 ms of work from the first chunk")
      assert.isTrue(persisted.slice(0, -1).every((n) => n === 200))
      assert.isBelow(persisted.length, volatile.length / 2)
    }))

  it.effect("slots cover every shard: each runner that holds a shard can be reached", () =>
    Effect.sync(() => {
      // a stand-in for Effect Cluster's hash of an entity id to one of 300 shards
      const shardOf = (id: string) => {
        let h = 0
        for (let k = 0; k < id.length; k++) h = (Math.imul(h, 31) + id.charCodeAt(k)) | 0
        return String(Math.abs(h) % 300)
      }
      const ids = slotIds(300, shardOf)
      assert.strictEqual(ids.length, 300)
      assert.strictEqual(new Set(ids.map(shardOf)).size, 300, "one slot on each shard")
      assert.strictEqual(slotIds(1, shardOf).length, 1)
    }))
})
