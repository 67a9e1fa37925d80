/**
 * The floor under the cluster backend: a bare Effect Cluster entity on the same Postgres and socket
 * transport, with no pool, no worker thread and no codec. Its handler doubles a number on the runner's
 * main thread. `bench/cluster.ts` measures its round trips beside effect-parallel's.
 *
 * As a program it is the bare runner: `node bench/cluster-bare.ts --postgres URL --port PORT` serves the
 * entity until SIGTERM and prints "bare runner ready" once it does. Give it a database of its own: a bare
 * runner in effect-parallel's database would take shards of its task entity and never serve them.
 */
import { NodeRuntime } from "@effect/platform-node"
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as ClusterSchema from "effect/cluster/ClusterSchema"
import * as Entity from "effect/cluster/Entity"
import * as RunnerAddress from "effect/cluster/RunnerAddress"
import { Duration, Effect, Layer, Option, Redacted, Schema } from "effect"
import type { Scope } from "effect"
import * as Rpc from "effect/rpc/Rpc"
import { parseArgs } from "node:util"
import { Worker } from "node:worker_threads"

/** Persisted, with a primary key, as effect-parallel's `Run`. */
const Echo = Rpc.make("Echo", {
  payload: { id: Schema.String, x: Schema.Number },
  primaryKey: (p) => p.id,
  success: Schema.Number
}).annotate(ClusterSchema.Persisted, true)

/** Volatile, as effect-parallel's `RunVolatile`. */
const EchoVolatile = Rpc.make("EchoVolatile", { payload: { x: Schema.Number }, success: Schema.Number })

/**
 * Volatile, answered by a bare worker thread (a `worker_threads` Worker that doubles the number it is
 * posted): the cost of a hop to a thread and back with nothing of effect-parallel's on it
 * (`bench/cluster-trip.ts`).
 */
const EchoHop = Rpc.make("EchoHop", { payload: { x: Schema.Number }, success: Schema.Number })

export const BareEntity = Entity.make("bench/BareEcho", [Echo, EchoVolatile, EchoHop])

/** The same timings as the runners of the benchmark (`"fast-failover"`). */
const timings = {
  shardLockExpiration: Duration.seconds(6),
  shardLockRefreshInterval: Duration.seconds(2),
  runnerHealthCheckInterval: Duration.seconds(2),
  refreshAssignmentsInterval: Duration.seconds(1),
  entityMessagePollInterval: Duration.seconds(1)
}

const database = (postgres: string) => PgClient.layer({ url: Redacted.make(postgres) })

/** Entity ids the calls are spread over, as effect-parallel spreads its messages over 256 slots. */
const IDS = 256

/**
 * A bare client in the current scope: `persisted(x)` and `volatile(x)` send one message each to the bare
 * entity and return its answer (2x). The first call of each kind waits until the runner answers.
 */
export const bareClient = (postgres: string): Effect.Effect<{
  readonly persisted: (x: number) => Effect.Effect<number, unknown>
  readonly volatile: (x: number) => Effect.Effect<number, unknown>
  readonly hop: (x: number) => Effect.Effect<number, unknown>
  readonly ready: Effect.Effect<void, unknown>
}, unknown, Scope.Scope> =>
  Effect.gen(function*() {
    const context = yield* Layer.build(
      NodeClusterSocket.layer({ clientOnly: true, storage: "sql", shardingConfig: timings }).pipe(Layer.provide(database(postgres)))
    )
    const make = yield* Effect.provideContext(BareEntity.client, context)
    const clients = Array.from({ length: IDS }, (_, k) => make(`e-${k}`))
    let next = 0
    let sequence = 0
    const run = `${process.pid}-${Date.now()}`
    return {
      persisted: (x: number) => clients[next++ % IDS]!.Echo({ id: `${run}/${++sequence}`, x }),
      volatile: (x: number) => clients[next++ % IDS]!.EchoVolatile({ x }),
      hop: (x: number) => clients[next++ % IDS]!.EchoHop({ x }),
      // every id answers: the client knows the shard assignments (as effect-parallel's readiness ping)
      ready: Effect.forEach(clients, (c) => c.EchoVolatile({ x: 0 }), { concurrency: "unbounded", discard: true })
    }
  })

if (import.meta.main) {
  const { values } = parseArgs({ options: { postgres: { type: "string" }, port: { type: "string" } } })
  if (values.postgres === undefined || values.port === undefined) {
    console.error("usage: node bench/cluster-bare.ts --postgres URL --port PORT")
    process.exit(2)
  }
  // one bare worker thread; replies come back in the order of the messages
  const worker = new Worker(`require("node:worker_threads").parentPort.on("message", (x) => require("node:worker_threads").parentPort.postMessage(x * 2))`, { eval: true })
  worker.unref()
  const waiting: Array<(y: number) => void> = []
  worker.on("message", (y: number) => waiting.shift()!(y))
  const entity = BareEntity.toLayer(
    BareEntity.of({
      Echo: (envelope) => Effect.succeed(envelope.payload.x * 2),
      EchoVolatile: (envelope) => Effect.succeed(envelope.payload.x * 2),
      EchoHop: (envelope) =>
        Effect.callback<number>((resume) => {
          waiting.push((y) => resume(Effect.succeed(y)))
          worker.postMessage(envelope.payload.x)
        })
    }),
    { concurrency: "unbounded" }
  )
  const runner = entity.pipe(
    Layer.provide(NodeClusterSocket.layer({
      storage: "sql",
      shardingConfig: { ...timings, runnerAddress: Option.some(RunnerAddress.make("127.0.0.1", Number(values.port))) }
    })),
    Layer.provide(database(values.postgres))
  )
  Layer.launch(Layer.merge(runner, Layer.effectDiscard(Effect.sync(() => console.log(`bare runner ready (pid ${process.pid})`)))))
    .pipe(NodeRuntime.runMain)
}
