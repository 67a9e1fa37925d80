/**
 * A cluster runner: serves the `effect-parallel/Task` entity by handing each execution, as it came, to its
 * own local pool of worker threads (the local executor, `parent/pool.ts`), and replying with the pool's
 * outcome as it came. The client's front does the rest (decoding, retries, a crash inside a chunk), as it
 * does for a local pool. The runner's main thread imports no task module and runs no schema: CPU work there
 * would block the shard-lock refresh, the runner would lose its shards and the tasks would run again
 * elsewhere, again and again.
 *
 * @internal
 */
import * as MachineId from "effect/cluster/MachineId"
import * as RunnerAddress from "effect/cluster/RunnerAddress"
import * as Snowflake from "effect/cluster/Snowflake"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import { SqlClient } from "effect/sql/SqlClient"
import type { RunnerOptions } from "../../ClusterRunner.ts"
import { CodecFailed, WorkerError } from "../../WorkerError.ts"
import type { Execution, Executor } from "../executor.ts"
import { type Checked, durationMillis, invalid, isPositiveInt, orFail } from "../options.ts"
import { makeLocal } from "../parent/pool.ts"
import { threads } from "../parent/threads.ts"
import type { TaskRef } from "../service.ts"
import { fromJsonSafe, NotJsonSafe } from "./json.ts"
import { describeError, mapLayerError, postgresLayer, shardingConfigOf, unavailable } from "./options.ts"
import { encodeWorkerError, outcomeToJson, type ReplyMessage, type RunRequest, TaskEntity } from "./protocol.ts"
import { runnerLayer } from "./transport.ts"

/**
 * The task a request names, as the local executor knows it: by module URL and export name (its workers
 * import the module and find the task there). One object per task, so that its measured durations (the
 * pool's policy keys them by task) accumulate.
 */
const taskRefs = new Map<string, TaskRef>()
const taskRef = (module: string, name: string): TaskRef => {
  const key = `${name}\u0000${module}`
  let ref = taskRefs.get(key)
  if (ref === undefined) {
    // the runner never encodes or decodes: the schemas are the workers' business
    ref = { module, name } as TaskRef
    taskRefs.set(key, ref)
  }
  return ref
}

/**
 * The replies of the runner's last messages, by message id. When Postgres is away as a task finishes, its
 * reply cannot be stored: Effect Cluster retries for about a second, then restarts the entity and delivers
 * the message again once storage is back. The message then gets its reply from here instead of running its
 * tasks a second time. Bounded: the messages that can be caught this way are those in flight at the
 * outage, a few per worker; entries older than {@link RECENT_MILLIS} are dropped.
 */
export class RecentReplies {
  private readonly replies = new Map<string, { readonly reply: ReplyMessage; readonly at: number }>()
  private readonly limit: number
  constructor(limit: number) {
    this.limit = limit
  }
  get(id: string): ReplyMessage | undefined {
    const entry = this.replies.get(id)
    if (entry === undefined) return undefined
    if (Date.now() - entry.at > RECENT_MILLIS) {
      this.replies.delete(id)
      return undefined
    }
    return entry.reply
  }
  set(id: string, reply: ReplyMessage): void {
    this.replies.set(id, { reply, at: Date.now() })
    // a Map iterates in insertion order: the first key is the oldest
    while (this.replies.size > this.limit) this.replies.delete(this.replies.keys().next().value!)
  }
}

/** How long a reply is kept for a message delivered again. */
const RECENT_MILLIS = 10 * 60_000

/**
 * Runs one request on the local executor and encodes its reply. Never fails: every outcome is in the reply;
 * interrupting it (the client was interrupted, or the shard moved) interrupts the task in its worker.
 * `recent`: the replies of persisted messages, for one delivered again (a volatile message never is).
 */
export const handleRun = (
  executor: Executor,
  address: string,
  recent: RecentReplies | undefined,
  request: RunRequest
): Effect.Effect<ReplyMessage> => {
  const replied = recent?.get(request.id)
  if (replied !== undefined) return Effect.succeed(replied)
  const items = restoreItems(executor, address, request)
  if (!Array.isArray(items)) return Effect.succeed(items as ReplyMessage)
  const execution: Execution = {
    task: taskRef(request.module, request.name),
    items,
    index: request.index,
    seed: request.seed,
    attempt: request.attempt,
    mode: request.mode,
    timeoutMillis: request.timeoutMillis ?? undefined,
    trace: undefined,
    transfer: undefined,
    onProgress: undefined
  }
  const t0 = performance.now()
  return executor.execute(execution, (outcome): Effect.Effect<ReplyMessage> => {
    const elapsed = outcome._tag === "Values" || outcome._tag === "Exits" ? outcome.elapsed : undefined
    const ms = performance.now() - t0
    // the bytes of the values travel beside the JSON, as bytes
    const b: Array<Uint8Array> = []
    const o = outcomeToJson(outcome, b)
    const r = elapsed === undefined ? { by: address, w: executor.size, ms, o } : { by: address, w: executor.size, ms, wk: elapsed, o }
    const reply: ReplyMessage = { r, b }
    recent?.set(request.id, reply)
    return Effect.succeed(reply)
  })
}

/** A request's payloads restored from JSON-safe form, or the reply that says which one could not be. */
const restoreItems = (executor: Executor, address: string, request: RunRequest): ReadonlyArray<unknown> | ReplyMessage => {
  const items: Array<unknown> = new Array(request.items.length)
  for (let k = 0; k < items.length; k++) {
    try {
      items[k] = fromJsonSafe(request.items[k])
    } catch (e) {
      const error = new WorkerError({
        reason: new CodecFailed({
          taskName: request.name,
          side: "worker",
          direction: "payload",
          path: `[${request.index + k}]${e instanceof NotJsonSafe ? e.path : ""}`,
          message: `(on the cluster runner) ${e instanceof Error ? e.message : String(e)}`
        })
      })
      return { r: { by: address, w: executor.size, ms: 0, o: { e: encodeWorkerError(error) } }, b: [] }
    }
  }
  return items
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

/**
 * Stores the payloads of messages and replies uncompressed (`STORAGE EXTERNAL`), once per database. Postgres
 * tries to compress every text value over 2 KB (pglz) before it stores it out of line; payloads whose bulk
 * is base64 hardly compress, and the attempt doubled what storing a reply of Mandelbrot rows cost Postgres
 * (55 ms against 107 ms for 1,200 rows of 6.4 KB, 20 replies, on this project's bench machine). Nothing else
 * changes: the columns stay `TEXT`, and values stored before keep their form. A role that may not alter the
 * tables leaves them as they are.
 */
const uncompressedPayloads = Effect.gen(function*() {
  const sql = yield* SqlClient
  const tables = yield* sql<{ t: string }>`
    SELECT attrelid::regclass::text AS t FROM pg_attribute
    WHERE attrelid IN (to_regclass('cluster_messages'), to_regclass('cluster_replies'))
      AND attname = 'payload' AND attstorage <> 'e'`
  for (const { t } of tables) yield* sql.unsafe(`ALTER TABLE ${t} ALTER COLUMN payload SET STORAGE EXTERNAL`)
}).pipe(Effect.catchCause((cause) => Effect.logDebug("effect-parallel runner: payload columns left as they are", cause)))

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
    // One local pool for the runner, made with the layer's scope: the entity's handlers below are built once
    // per entity id (per slot), so the pool must not be made there.
    const executor = yield* makeLocal(threads, { size: "cores", ...options.pool })
    const info = { address, workers: executor.size }
    const recent = new RecentReplies(Math.max(64, 8 * executor.size))
    const entity = TaskEntity.toLayer(
      TaskEntity.of({
        Run: (envelope) => handleRun(executor, address, recent, envelope.payload),
        RunVolatile: (envelope) => handleRun(executor, address, undefined, envelope.payload),
        Ping: () => Effect.succeed(info)
      }),
      { concurrency: "unbounded", maxIdleTime: "10 minutes" }
    )
    const sharding = runnerLayer({
      ...config.sharding,
      ...(options.weight === undefined ? {} : { runnerShardWeight: options.weight }),
      runnerAddress: Option.some(RunnerAddress.make(host, port)),
      ...(options.listenHost === undefined
        ? {}
        : { runnerListenAddress: Option.some(RunnerAddress.make(options.listenHost, port)) })
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
      Layer.mergeAll(entity, cleaner, Layer.effectDiscard(uncompressedPayloads)).pipe(Layer.provide(sharding), Layer.provide(postgresLayer(options.postgres))),
      (e) => e instanceof WorkerError ? e : unavailable(`the runner at ${address} could not start: ${describeError(e)}`)
    )
  }))
