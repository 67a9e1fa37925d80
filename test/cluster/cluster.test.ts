/**
 * The pool's behaviour on the cluster backend, for the behaviours that apply across machines: two real
 * runner processes, a real Postgres, the client in this process. (Crashes inside a runner's worker, worker
 * recycling and the like are the runner's own thread pool, covered by the conformance suite on threads.)
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Cause, Context, Effect, Exit, Fiber, Layer, Schedule, Schema, Scope, Stream } from "effect"
import { PgClient } from "@effect/sql-pg"
import { Redacted } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { AsyncResult, Parallel, SharedArray, SharedLock, Task, WorkerError, WorkerPool } from "../../src/index.ts"
import { Pid, Square } from "../fixtures/cluster-tasks.ts"
import { LockedIncrements } from "../fixtures/shared-tasks.ts"
import { Add, BadInput, BadResult, Busy, Cell, Checked, Darts, Double, Sleep, Throws } from "../fixtures/tasks.ts"
import { freePort, freshDatabase, needsPostgres, postgresAvailable, type RunnerProcess, startRunner } from "./setup.ts"

class Cluster extends Context.Service<Cluster, { readonly postgres: string; readonly runners: ReadonlyArray<RunnerProcess> }>()(
  "test/Cluster"
) {}

const reasonOf = (e: unknown): WorkerError.WorkerErrorReason => {
  assert.instanceOf(e, WorkerError.WorkerError)
  return (e as WorkerError.WorkerError).reason
}

const NotExported = Task.make("NotExported", {
  module: new URL("../fixtures/tasks.ts", import.meta.url).href,
  payload: Schema.Number,
  success: Schema.Number,
  run: (n) => Effect.succeed(n)
})

const ledgerFile = () => join(mkdtempSync(join(tmpdir(), "ep-cluster-")), "ledger")
const ledgerHas = (file: string, prefix: string) =>
  Effect.sync(() => {
    try {
      return readFileSync(file, "utf8").split("\n").some((l) => l.startsWith(prefix))
    } catch {
      return false
    }
  }).pipe(Effect.repeat({ until: (found) => found, schedule: Schedule.spaced("10 millis") }), Effect.timeout("30 seconds"))

const ClusterLive = Layer.unwrap(Effect.gen(function*() {
  const postgres = yield* freshDatabase
  const runners = [yield* startRunner(postgres, { size: 2 }), yield* startRunner(postgres, { size: 2 })]
  return Layer.merge(
    WorkerPool.layerCluster({ postgres, size: 8, timings: "fast-failover" }),
    Layer.succeed(Cluster, { postgres, runners })
  )
})).pipe(Layer.orDie)

describe.skipIf(!postgresAvailable)(needsPostgres("WorkerPool on cluster"), () => {
  layer(ClusterLive, { timeout: "60 seconds", excludeTestServices: true })((it) => {
    it.effect("a task is callable and returns its typed result; both runners serve tasks", () =>
      Effect.gen(function*() {
        assert.strictEqual(yield* Double(21), 42)
        assert.strictEqual(yield* WorkerPool.run(Double, 4), 8)
        const { runners } = yield* Cluster
        const pids = new Set(yield* Effect.forEach(Array.from({ length: 40 }, (_, i) => i), (i) => Pid(i), { concurrency: 8 }))
        assert.deepStrictEqual([...pids].sort(), runners.map((r) => r.pid).sort(), "tasks spread over both runners")
        const s = yield* WorkerPool.stats
        assert.strictEqual(s.backend, "cluster")
        assert.strictEqual(s.workers, 2, "two runners answered")
      }))

    it.effect("a declared error arrives as an instance of its class; a throw as a defect with name and message (R5)", () =>
      Effect.gen(function*() {
        const e = yield* Effect.flip(Checked(-3))
        assert.instanceOf(e, BadInput)
        assert.strictEqual((e as BadInput).input, -3)
        const exit = yield* Effect.exit(Throws("kaboom"))
        const defect = Cause.squash((exit as Exit.Failure<number, unknown>).cause) as Error
        assert.strictEqual(defect.name, "RangeError")
        assert.strictEqual(defect.message, "kaboom")
        assert.include(defect.stack ?? "", "tasks.ts", "the stack from the runner's worker")
      }))

    it.effect("a payload that fails its schema is a CodecFailed naming the side and path; a bad result too", () =>
      Effect.gen(function*() {
        const r = reasonOf(yield* Effect.flip(Cell({ i: 1, j: "x" as unknown as number })))
        assert.strictEqual(r._tag, "CodecFailed")
        if (r._tag === "CodecFailed") {
          assert.strictEqual(r.side, "parent")
          assert.strictEqual(r.path, `["j"]`)
        }
        const r2 = reasonOf(yield* Effect.flip(BadResult(1)))
        assert.strictEqual(r2._tag, "CodecFailed")
        if (r2._tag === "CodecFailed") assert.strictEqual(r2.direction, "success")
        const r3 = reasonOf(yield* Effect.flip(NotExported(1)))
        assert.strictEqual(r3._tag, "TaskNotFound")
        assert.include(r3.message, "no task named")
        assert.strictEqual(yield* Double(2), 4, "the cluster goes on")
      }))

    it.effect("a shared object in a payload fails with CodecFailed saying it cannot leave its machine", () =>
      Effect.gen(function*() {
        const lock = yield* SharedLock.make
        const counter = yield* SharedArray.make("Int32", 1)
        const r = reasonOf(yield* Effect.flip(LockedIncrements({ lock, counter, times: 1 })))
        assert.strictEqual(r._tag, "CodecFailed")
        if (r._tag === "CodecFailed") assert.strictEqual(r.side, "parent")
        assert.include(r.message, "cannot be sent to another machine")
        // the same objects still go to a local pool
        assert.strictEqual(
          yield* LockedIncrements({ lock, counter, times: 3 }).pipe(Effect.provide(WorkerPool.layerThreads({ size: 1 }))),
          3
        )
        assert.strictEqual(yield* Double(4), 8, "the cluster goes on")
      }).pipe(Effect.scoped))

    it.effect("a timeout reaches the runner: an async task and a synchronous loop both end with TaskTimeout", () =>
      Effect.gen(function*() {
        const r = reasonOf(yield* Effect.flip(WorkerPool.run(Sleep, 60_000, { timeout: "200 millis" })))
        assert.strictEqual(r._tag, "TaskTimeout")
        // the loop never yields: the runner's pool kills its worker after interruptGrace
        const r2 = reasonOf(yield* Effect.flip(WorkerPool.run(Busy, 60_000, { timeout: "200 millis" })))
        assert.strictEqual(r2._tag, "TaskTimeout")
        assert.strictEqual(yield* Double(3), 6)
      }))

    it.effect("interrupting the caller interrupts the task on its runner (R2)", () =>
      Effect.gen(function*() {
        const ledger = ledgerFile()
        const fiber = yield* Effect.forkChild(Square({ n: 7, ms: 60_000, ledger }), { startImmediately: true })
        yield* ledgerHas(ledger, "start 7 ")
        yield* Fiber.interrupt(fiber)
        // the task's fiber in the runner's worker saw the interrupt
        yield* ledgerHas(ledger, "interrupted 7 ")
      }))

    it.effect("map, imap, imapUnordered and starmap over the cluster; a fail-fast batch fails with the first error", () =>
      Effect.gen(function*() {
        const xs = Array.from({ length: 500 }, (_, i) => i)
        assert.deepStrictEqual(yield* WorkerPool.map(Double, xs), xs.map((x) => 2 * x))
        assert.deepStrictEqual(yield* Stream.runCollect(WorkerPool.imap(Double, xs.slice(0, 50))), xs.slice(0, 50).map((x) => 2 * x))
        const unordered = yield* Stream.runCollect(WorkerPool.imapUnordered(Double, xs.slice(0, 50)))
        assert.deepStrictEqual([...unordered].sort((a, b) => a - b), xs.slice(0, 50).map((x) => 2 * x))
        assert.deepStrictEqual(yield* WorkerPool.starmap(Add, [[1, 2], [3, 4]]), [3, 7])
        const e = yield* Effect.flip(WorkerPool.map(Checked, [1, 2, -5, 4]))
        assert.instanceOf(e, BadInput)
        const results = yield* WorkerPool.map(Checked, [1, -2, 3], { mode: "result" })
        assert.deepStrictEqual(results.map((r) => r._tag), ["Success", "Failure", "Success"])
      }))

    it.effect("submit + get with a timeout gives up without cancelling; a later get returns the result", () =>
      Effect.gen(function*() {
        const h = yield* WorkerPool.submit(Sleep, 500)
        const r = reasonOf(yield* Effect.flip(AsyncResult.get(h, { timeout: "50 millis" })))
        assert.strictEqual(r._tag, "GetTimeout")
        assert.strictEqual(yield* AsyncResult.get(h), 500)
      }).pipe(Effect.scoped))

    it.effect("Parallel.forEach fans tasks out over the cluster", () =>
      Effect.gen(function*() {
        const out = yield* Parallel.forEach([1, 2, 3, 4, 5, 6], (n) => Double(n), { concurrency: 4 })
        assert.deepStrictEqual(out, [2, 4, 6, 8, 10, 12])
      }))

    it.effect("a batch's random streams depend on the seed and the index only: the same as on threads (R7)", () =>
      Effect.gen(function*() {
        const onCluster = yield* WorkerPool.map(Darts, Array.from({ length: 20 }, () => 1000), { seed: 42 })
        const onThreads = yield* WorkerPool.map(Darts, Array.from({ length: 20 }, () => 1000), { seed: 42 }).pipe(
          Effect.provide(WorkerPool.layerThreads({ size: 2 }))
        )
        assert.deepStrictEqual(onCluster, onThreads)
      }))

    it.effect("volatile delivery runs the same tasks without storing them", () =>
      Effect.gen(function*() {
        const { postgres } = yield* Cluster
        const out = yield* WorkerPool.map(Double, [1, 2, 3]).pipe(
          Effect.provide(WorkerPool.layerCluster({ postgres, delivery: "volatile", timings: "fast-failover" }))
        )
        assert.deepStrictEqual(out, [2, 4, 6])
      }))

    it.effect("messages are stored with the task's id as primary key, and processed ones are kept until retention", () =>
      Effect.gen(function*() {
        const { postgres } = yield* Cluster
        yield* Double(11)
        const rows = yield* Effect.gen(function*() {
          const sql = yield* SqlClient
          return yield* sql<{ n: string }>`SELECT count(*) AS n FROM cluster_messages WHERE processed = true AND message_id IS NOT NULL`
        }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(postgres) })))
        assert.isAtLeast(Number(rows[0]!.n), 1)
      }))
  })
})

describe.skipIf(!postgresAvailable)(needsPostgres("closing a cluster client"), () => {
  it.live("fails its calls in flight with PoolClosed, interrupts their tasks on the runners, and refuses later calls (R3)", () =>
    Effect.gen(function*() {
      const postgres = yield* freshDatabase
      yield* startRunner(postgres, { size: 2 })
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(WorkerPool.layerCluster({ postgres, timings: "fast-failover" }), scope)
      const ledger = ledgerFile()
      const running = yield* Effect.forkChild(Effect.provide(Square({ n: 3, ms: 60_000, ledger }), context), { startImmediately: true })
      yield* ledgerHas(ledger, "start 3 ")
      yield* Scope.close(scope, Exit.void)
      const exit = yield* Fiber.await(running)
      assert.isTrue(Exit.isFailure(exit))
      assert.strictEqual(reasonOf(Cause.squash((exit as Exit.Failure<unknown, unknown>).cause))._tag, "PoolClosed")
      yield* ledgerHas(ledger, "interrupted 3 ")
      const after = yield* Effect.flip(Effect.provide(Double(1), context))
      assert.strictEqual(reasonOf(after)._tag, "PoolClosed")
    }).pipe(Effect.scoped), 60_000)
})

describe.skipIf(!postgresAvailable)(needsPostgres("cluster unavailable"), () => {
  it.live("a Postgres that cannot be reached fails the layer with ClusterUnavailable naming it", () =>
    Effect.gen(function*() {
      const port = yield* freePort
      const e = yield* Effect.flip(Effect.scoped(Layer.build(WorkerPool.layerCluster({ postgres: `postgres://postgres@127.0.0.1:${port}/x` }))))
      const r = reasonOf(e)
      assert.strictEqual(r._tag, "ClusterUnavailable")
      assert.include(r.message, `127.0.0.1:${port}`)
    }))

  it.live("with no runner, the first task fails with ClusterUnavailable after readyTimeout", () =>
    Effect.gen(function*() {
      const postgres = yield* freshDatabase
      const e = yield* Effect.flip(Double(1).pipe(Effect.provide(WorkerPool.layerCluster({ postgres, readyTimeout: "1 second" }))))
      const r = reasonOf(e)
      assert.strictEqual(r._tag, "ClusterUnavailable")
      assert.include(r.message, "no runner answered")
    }).pipe(Effect.scoped))

  it.live("invalid options fail the layer with InvalidOption naming the option", () =>
    Effect.gen(function*() {
      for (const [options, option] of [
        [{ postgres: "postgres://x", size: 0 }, "size"],
        [{ postgres: "postgres://x", delivery: "sometimes" }, "delivery"],
        [{ postgres: "postgres://x", timings: { shardLockExpiration: "soon" } }, "timings.shardLockExpiration"]
      ] as const) {
        const r = reasonOf(yield* Effect.flip(Effect.scoped(Layer.build(WorkerPool.layerCluster(options as never)))))
        assert.strictEqual(r._tag, "InvalidOption")
        if (r._tag === "InvalidOption") assert.strictEqual(r.option, option)
      }
    }))

  it.live("a runner deletes processed messages older than its retention", () =>
    Effect.gen(function*() {
      const postgres = yield* freshDatabase
      yield* startRunner(postgres, { size: 1, retention: "1 second" })
      yield* Double(1).pipe(Effect.provide(WorkerPool.layerCluster({ postgres, timings: "fast-failover" })))
      const count = Effect.gen(function*() {
        const sql = yield* SqlClient
        const rows = yield* sql<{ n: string }>`SELECT count(*) AS n FROM cluster_messages WHERE processed = true`
        return Number(rows[0]!.n)
      }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(postgres) })), Effect.orDie)
      yield* count.pipe(Effect.repeat({ until: (n) => n === 0, schedule: Schedule.spaced("100 millis") }), Effect.timeout("20 seconds"))
    }).pipe(Effect.scoped), 60_000)
})
