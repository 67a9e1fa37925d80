/**
 * A cluster runner: serves the `effect-parallel/Task` entity and runs every task it is sent on its own
 * local pool of worker threads, never on its main thread (CPU work there would block the shard-lock
 * refresh; the runner would lose its shards and the tasks would run again elsewhere, again and again).
 *
 * @internal
 */
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import * as MachineId from "effect/cluster/MachineId"
import * as RunnerAddress from "effect/cluster/RunnerAddress"
import * as Snowflake from "effect/cluster/Snowflake"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import { SqlClient } from "effect/sql/SqlClient"
import { CodecFailed, TaskNotFound, WorkerError } from "../../WorkerError.ts"
import { makeFront } from "../front.ts"
import { type Checked, durationMillis, invalid, isPositiveInt, orFail } from "../options.ts"
import { makeLocal } from "../parent/pool.ts"
import { threads } from "../parent/threads.ts"
import type { Item, PoolService } from "../service.ts"
import { makeTaskLoader, type TaskLoader } from "../taskLoader.ts"
import { mapLayerError, postgresLayer, shardingConfigOf, unavailable } from "./options.ts"
import { encodeExit, encodeWorkerError, jsonCodecOf, type Reply, type RunRequest, TaskEntity } from "./protocol.ts"
import type { RunnerOptions } from "../../ClusterRunner.ts"

const wholeRequestError = (error: WorkerError): Reply => ({ error: encodeWorkerError(error) })

/** Runs one request on the local pool and encodes its reply. Never fails: every outcome is in the reply. */
export const handleRun = (
  pool: PoolService,
  loader: TaskLoader,
  request: RunRequest
): Effect.Effect<Reply> =>
  Effect.gen(function*() {
    const loaded = yield* Effect.promise(() => loader.load(request.module, request.name))
    if (loaded._tag === "TaskNotFound") {
      return wholeRequestError(
        new WorkerError({
          reason: new TaskNotFound({ taskName: request.name, module: request.module, message: `(on the cluster runner) ${loaded.message}` })
        })
      )
    }
    const task = loaded.task
    const codec = jsonCodecOf(task)
    const payloads: Array<unknown> = new Array(request.items.length)
    for (let k = 0; k < request.items.length; k++) {
      const r = codec.decodePayload(request.items[k])
      if (!r.ok) {
        return wholeRequestError(
          new WorkerError({
            reason: new CodecFailed({
              taskName: task.name,
              side: "worker",
              direction: "payload",
              path: `[${request.index + k}]${r.issue.path}`,
              message: `(on the cluster runner: does it run the same version of the task's module?) ${r.issue.message}`
            })
          })
        )
      }
      payloads[k] = r.value
    }
    // Items run as on any local pool (a crash fails the item that was running, the others run again), with
    // the client's attempt number and without retries: the client retries, as for every backend.
    const single = request.mode === "single"
    const items = yield* Effect.exit(pool.runItems(task, payloads, request.index, {
      seed: request.seed,
      collect: single || request.mode === "exits",
      attempt: request.attempt,
      retry: undefined,
      timeoutMillis: request.timeoutMillis ?? undefined,
      onProgress: undefined
    }))
    if (Exit.isFailure(items)) {
      const fail = items.cause.reasons.find(Cause.isFailReason)
      if (fail !== undefined) return wholeRequestError(fail.error)
      // not a failure: an interruption or a defect of the runner's pool, for the entity to report as such
      return yield* Effect.orDie(Effect.failCause(items.cause))
    }
    if (single) return { exit: encodeExit(codec, task.name, items.value[0]!.exit) }
    return request.mode === "exits"
      ? { exits: items.value.map((item) => encodeExit(codec, task.name, item.exit)) }
      : encodeValues(codec, task.name, items.value)
  })

/** A fail-fast chunk's items: the values up to the first failure, which stops it. */
const encodeValues = (codec: ReturnType<typeof jsonCodecOf>, taskName: string, items: ReadonlyArray<Item>): Reply => {
  const values: Array<unknown> = []
  for (const { exit } of items) {
    if (Exit.isFailure(exit)) return { values, stop: encodeExit(codec, taskName, exit) }
    const r = codec.encodeSuccess(exit.value)
    // a value the JSON codec refuses stops the chunk there, as a failure of that item
    if (!r.ok) return { values, stop: encodeExit(codec, taskName, exit) }
    values.push(r.value)
  }
  return { values, stop: null }
}

/**
 * Deletes processed messages (and their replies) older than `retention`. Message ids are snowflakes that
 * begin with their creation time, so "older than" is a comparison of ids.
 */
const cleanup = (retentionMillis: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const cutoff = String(Snowflake.make({ timestamp: Date.now() - retentionMillis, machineId: MachineId.make(0), sequence: 0 }))
    const deleted = yield* sql<{ id: string }>`
      DELETE FROM cluster_messages WHERE processed = true AND id < ${cutoff} RETURNING id`
    yield* sql`
      DELETE FROM cluster_replies r WHERE r.request_id < ${cutoff}
        AND NOT EXISTS (SELECT 1 FROM cluster_messages m WHERE m.id = r.request_id)`
    if (deleted.length > 0) yield* Effect.logDebug(`effect-parallel runner: deleted ${deleted.length} processed messages`)
  })

/** A runner's options, validated: the timings as sharding configuration, the retention in milliseconds. */
const resolveRunnerOptions = (options: RunnerOptions) =>
  Result.gen(function*() {
    if (options.weight !== undefined && !isPositiveInt(options.weight)) {
      return yield* invalid("weight", `weight must be a positive integer, got ${String(options.weight)}`)
    }
    const sharding = yield* shardingConfigOf(options.timings)
    const retention: Checked<number | undefined> = options.retention === "never"
      ? Result.succeed(undefined)
      : durationMillis("retention", options.retention ?? "1 day", `retention must be a duration or "never", got ${String(options.retention)}`)
    return { sharding, retention: yield* retention }
  })

/** The runner as a layer: serves tasks until the layer's scope closes. */
export const layer = (options: RunnerOptions): Layer.Layer<never, WorkerError> =>
  Layer.unwrap(Effect.gen(function*() {
    const host = options.host ?? "localhost"
    const port = options.port ?? 34431
    const config = yield* orFail(resolveRunnerOptions(options))
    const address = `${host}:${port}`
    const loader = makeTaskLoader()
    // One local pool for the runner, made with the layer's scope: the entity's handlers below are built once
    // per entity id (per slot), so the pool must not be made there.
    const pool = yield* makeFront(makeLocal(threads, { size: "cores", ...options.pool }))
    const entity = TaskEntity.toLayer(
      TaskEntity.of({
        Run: (envelope) => handleRun(pool, loader, envelope.payload),
        RunVolatile: (envelope) => handleRun(pool, loader, envelope.payload),
        Ping: () => Effect.succeed(address)
      }),
      { concurrency: "unbounded", maxIdleTime: "10 minutes" }
    )
    const sharding = NodeClusterSocket.layer({
      storage: "sql",
      shardingConfig: {
        ...config.sharding,
        ...(options.weight === undefined ? {} : { runnerShardWeight: options.weight }),
        runnerAddress: Option.some(RunnerAddress.make(host, port)),
        ...(options.listenHost === undefined
          ? {}
          : { runnerListenAddress: Option.some(RunnerAddress.make(options.listenHost, port)) })
      }
    })
    const retention = config.retention
    const cleaner = retention === undefined
      ? Layer.empty
      : Layer.effectDiscard(
        cleanup(retention).pipe(
          Effect.catchCause((cause) => Effect.logWarning("effect-parallel runner: cleanup of old messages failed", cause)),
          Effect.repeat(Schedule.spaced(Duration.millis(Math.min(retention / 10, 3_600_000)))),
          Effect.forkScoped
        )
      )
    return mapLayerError(
      Layer.mergeAll(entity, cleaner).pipe(Layer.provide(sharding), Layer.provide(postgresLayer(options.postgres))),
      (e) => e instanceof WorkerError ? e : unavailable(`the runner at ${address} could not start: ${String((e as Error)?.message ?? e)}`)
    )
  }))
