/**
 * The cluster's promise when its database goes away: Postgres stopped (`pg_ctl stop -m fast`) in the
 * middle of a batch and started again. The batch completes, every result once and in order; the only tasks
 * that run twice are those of messages in flight when Postgres went away (the at-least-once unit); the
 * runners reconnect on their own. Away for longer than `unavailableTimeout`, the batch fails with
 * `ClusterUnavailable` naming the cause instead of waiting forever.
 *
 * Each test has a Postgres server of its own (`postgres.ts`): the shared one is never stopped.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schedule, Stream } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { WorkerError, WorkerPool } from "../../src/index.ts"
import { Pid, Square } from "../fixtures/cluster-tasks.ts"
import { readLedger } from "./ledger.ts"
import { ownPostgres, postgresBinaries } from "./postgres.ts"
import { type RunnerProcess, startRunner } from "./setup.ts"

/** Waits until every runner has said that it lost its shard locks (Postgres is away, and they noticed). */
const lostLocks = (runners: ReadonlyArray<RunnerProcess>) =>
  Effect.sync(() => runners.every((r) => r.output().includes("Shard lock storage is unhealthy"))).pipe(
    Effect.repeat({ until: (all) => all, schedule: Schedule.spaced("50 millis") }),
    Effect.timeout("30 seconds")
  )

/** Tasks spread over both runners again: they reconnected to Postgres on their own. */
const bothServe = (runners: ReadonlyArray<RunnerProcess>, postgres: string) =>
  Effect.gen(function*() {
    const pids = new Set(yield* Effect.forEach(Array.from({ length: 24 }, (_, i) => i), (i) => Pid(i), { concurrency: 8 }))
    assert.deepStrictEqual([...pids].sort(), runners.map((r) => r.pid).sort(), "both runners serve tasks again")
  }).pipe(Effect.provide(WorkerPool.layerCluster({ postgres, size: 8, timings: "fast-failover" })))

const skipReason = postgresBinaries ? "" : " (skipped: no PostgreSQL binaries under /usr/lib/postgresql to run a server of its own)"

describe(`cluster: Postgres stopped and restarted mid-batch${skipReason}`, () => {
  it.live.skipIf(!postgresBinaries)(
    "the batch completes, every result once and in order; only messages in flight at the outage run again; the runners reconnect",
    () =>
      Effect.gen(function*() {
        const pg = yield* ownPostgres
        const runners = [yield* startRunner(pg.url, { size: 2 }), yield* startRunner(pg.url, { size: 2 })]
        const ledger = join(mkdtempSync(join(tmpdir(), "ep-outage-")), "ledger")
        const N = 40
        const items = Array.from({ length: N }, (_, n) => ({ n, ms: 300, ledger }))
        const results: Array<{ readonly square: number; readonly pid: number }> = []
        let stoppedAt = 0
        let receivedAtStop = 0
        let startedAt = 0
        const t0 = Date.now()
        yield* WorkerPool.imap(Square, items, { chunkSize: 2 }).pipe(
          Stream.runForEach((r) =>
            Effect.gen(function*() {
              results.push(r)
              if (results.length === 8) {
                stoppedAt = Date.now()
                receivedAtStop = results.length
                yield* pg.stop
                // away until every runner has lost its shard locks: the outage costs them their shards
                yield* lostLocks(runners)
                startedAt = Date.now()
                yield* pg.start
              }
            })
          ),
          Effect.provide(WorkerPool.layerCluster({ postgres: pg.url, size: 8, timings: "fast-failover", unavailableTimeout: "60 seconds" }))
        )
        const doneAt = Date.now()

        assert.strictEqual(results.length, N, "every result arrived")
        results.forEach((r, n) => assert.strictEqual(r.square, n * n, `result ${n} once, in input order`))
        assert.isAbove(startedAt, stoppedAt)

        // A task runs again only if its message (a chunk of 2) was in flight when Postgres went away: some task
        // of the chunk had started and the chunk's result had not arrived.
        const lines = readLedger(ledger)
        const chunkOf = (n: number) => Math.floor(n / 2)
        const inFlight = new Set(
          lines.filter((l) => l.kind === "start" && l.at <= stoppedAt && l.n >= receivedAtStop).map((l) => chunkOf(l.n))
        )
        const reran: Array<number> = []
        for (let n = 0; n < N; n++) {
          const starts = lines.filter((l) => l.n === n && l.kind === "start")
          assert.isAtLeast(lines.filter((l) => l.n === n && l.kind === "end").length, 1, `task ${n} finished`)
          if (starts.length > 1) {
            reran.push(n)
            assert.isTrue(inFlight.has(chunkOf(n)), `task ${n} ran ${starts.length} times, but its message was not in flight at the outage`)
          }
        }
        yield* bothServe(runners, pg.url)
        console.log(
          `[figures] cluster, Postgres stopped mid-batch: ${N} tasks of 300 ms in chunks of 2 over 2 runners x 2 threads; ` +
            `down ${startedAt - stoppedAt} ms (until both runners lost their shard locks); batch done ${doneAt - startedAt} ms after the restart ` +
            `(${doneAt - t0} ms in all); ${inFlight.size} messages in flight at the outage, tasks run again: ${reran.length === 0 ? "none" : reran.join(", ")}`
        )
      }).pipe(Effect.scoped),
    120_000
  )

  it.live.skipIf(!postgresBinaries)(
    "away longer than unavailableTimeout: the batch fails with ClusterUnavailable naming the cause; back, the runners serve again",
    () =>
      Effect.gen(function*() {
        const pg = yield* ownPostgres
        const runners = [yield* startRunner(pg.url, { size: 2 }), yield* startRunner(pg.url, { size: 2 })]
        const items = Array.from({ length: 40 }, (_, n) => ({ n, ms: 300, ledger: "" }))
        let stoppedAt = 0
        let seen = 0
        const error = yield* WorkerPool.imap(Square, items, { chunkSize: 2 }).pipe(
          Stream.runForEach(() =>
            ++seen === 4 ? Effect.andThen(Effect.sync(() => stoppedAt = Date.now()), pg.stop) : Effect.void
          ),
          Effect.provide(WorkerPool.layerCluster({ postgres: pg.url, size: 8, timings: "fast-failover", unavailableTimeout: "2 seconds" })),
          Effect.flip
        )
        const failedAt = Date.now()
        assert.instanceOf(error, WorkerError.WorkerError)
        const reason = (error as WorkerError.WorkerError).reason
        assert.strictEqual(reason._tag, "ClusterUnavailable")
        if (reason._tag === "ClusterUnavailable") {
          assert.strictEqual(reason.taskName, "Square")
          assert.include(reason.message, `127.0.0.1:${pg.port}`, "names the server")
          assert.include(reason.message, "unavailableTimeout")
          assert.include(reason.message, "ECONNREFUSED", "names the cause")
        }
        // the bound, plus at most a health check's interval and timeout
        assert.isAtLeast(failedAt - stoppedAt, 2_000)
        assert.isBelow(failedAt - stoppedAt, 15_000)

        yield* pg.start
        yield* bothServe(runners, pg.url)
        console.log(`[figures] cluster, Postgres away for good: the batch failed ${failedAt - stoppedAt} ms after the stop (unavailableTimeout 2 s)`)
      }).pipe(Effect.scoped),
    120_000
  )
})
