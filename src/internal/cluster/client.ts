/**
 * The cluster executor: executions are messages to the `effect-parallel/Task` entity, served by runners
 * (see `runner.ts`) through Effect Cluster with Postgres storage. The front (`front.ts`) does the rest, as
 * for a local pool.
 *
 * One message per execution: a single task, or a chunk of a batch (sized by the same policy as a local
 * pool's chunks, with the cluster's constants: a message costs milliseconds). Each message has a fresh id:
 * with persisted delivery it is the message's primary key in storage, so a message redelivered after a
 * runner's death is the same message, and a finished one is never run again.
 *
 * @internal
 */
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { randomUUID } from "node:crypto"
import { PoolClosed, WorkerError } from "../../WorkerError.ts"
import type { ClusterOptions } from "../../WorkerPool.ts"
import { type ChunkOutcome, codecsWithin, type Conclude, type Execution, type Executor, type ItemOutcome } from "../executor.ts"
import { orFail } from "../options.ts"
import { clusterChunks, Policy } from "../parent/policy.ts"
import type { TaskRef } from "../service.ts"
import { encodingForOtherMachine } from "../shared/registry.ts"
import { mapLayerError, postgresLayer, resolveClusterOptions, unavailable } from "./options.ts"
import { decodeWorkerError, type ItemExit, jsonCodecOf, type Reply, SLOTS, slotId, TaskEntity } from "./protocol.ts"

const errorTag = (e: unknown): string =>
  typeof e === "object" && e !== null && "_tag" in e ? String((e as { _tag: unknown })._tag) : "Error"

/**
 * The tasks' JSON codecs; a shared object in a payload cannot leave its machine, and its schema says so
 * (`CodecFailed`) instead of encoding a handle the runner could not use.
 */
const codecOf = codecsWithin(jsonCodecOf, encodingForOtherMachine)

/** One item's exit in a reply, as an outcome for the front to decode. */
const outcomeOf = (e: ItemExit): ItemOutcome => {
  if ("s" in e) return { _tag: "Success", value: e.s }
  if ("f" in e) return { _tag: "Failure", error: e.f }
  if ("w" in e) return { _tag: "WorkerError", error: decodeWorkerError(e.w) }
  if ("d" in e) return { _tag: "Defect", defect: e.d }
  return { _tag: "Interrupted" }
}

const isCrash = (o: ItemOutcome | undefined): boolean => o?._tag === "WorkerError" && o.error.reason._tag === "WorkerCrashed"

/** Builds the cluster executor in the current scope. Fails only on bad options or an unreachable Postgres. */
export const makeCluster = (options: ClusterOptions): Effect.Effect<Executor, WorkerError, Scope.Scope> =>
  Effect.gen(function*() {
    const { size, delivery, readyTimeout, sharding } = yield* orFail(resolveClusterOptions(options))
    const cluster = mapLayerError(
      NodeClusterSocket.layer({ clientOnly: true, storage: "sql", shardingConfig: sharding }).pipe(
        Layer.provide(postgresLayer(options.postgres))
      ),
      (e) => e instanceof WorkerError ? e : unavailable(`the cluster client could not start: ${String((e as Error)?.message ?? e)}`)
    )
    const context = yield* Layer.build(cluster)
    const makeClient = yield* TaskEntity.client.pipe(Effect.provideContext(context))

    const stats = { running: 0, crashed: 0, runners: new Set<string>() }
    const policy = new Policy(clusterChunks, { prefetch: 1, maxTasksPerWorker: Infinity })

    // Readiness: a volatile Ping to every slot. Volatile sends wait (retrying) until the client has loaded
    // the shard assignments, so once they answer, persisted sends are routed at once instead of waiting for
    // the runners' storage poll (10 s by default).
    const ready = yield* Deferred.make<void, WorkerError>()
    yield* Effect.forEach(
      Array.from({ length: SLOTS }, (_, k) => k),
      (k) => Effect.map(makeClient(slotId(k)).Ping(), (address) => stats.runners.add(address)),
      { concurrency: "unbounded", discard: true }
    ).pipe(
      Effect.timeoutOrElse({
        duration: readyTimeout,
        orElse: () =>
          Effect.fail(unavailable(
            `no runner answered within ${Duration.format(readyTimeout)}: are runners started (npx effect-parallel runner) with the same Postgres?`
          ))
      }),
      Effect.mapError((e) => e instanceof WorkerError ? e : unavailable(`readiness check failed: ${errorTag(e)}: ${String((e as Error).message)}`)),
      Effect.exit,
      Effect.flatMap((exit) => Deferred.done(ready, exit)),
      Effect.forkScoped
    )
    const awaitReady = Deferred.await(ready)

    const clientId = randomUUID()
    let sequence = 0
    let nextSlot = Math.floor(Math.random() * SLOTS)

    // Closing the client (R3): calls in flight fail with PoolClosed, and their interruption reaches the
    // runners (the task is interrupted there) before the cluster client itself shuts down. This finalizer is
    // added after the cluster layer was built, so it runs first.
    const closed = yield* Deferred.make<void>()
    const poolClosed = (task: TaskRef) => new WorkerError({ reason: new PoolClosed({ taskName: task.name }) })
    yield* Effect.addFinalizer(() =>
      Deferred.succeed(closed, undefined).pipe(
        Effect.andThen(Effect.sync(() => stats.running).pipe(
          Effect.repeat({ until: (n) => n === 0, schedule: Schedule.spaced("5 millis") }),
          Effect.timeout("5 seconds"),
          Effect.ignore
        ))
      )
    )

    /** Sends one execution and waits for its reply; cluster failures become `ClusterUnavailable`. */
    const send = (execution: Execution): Effect.Effect<Reply, WorkerError> =>
      Effect.suspend(() => {
        const task = execution.task
        if (Deferred.isDoneUnsafe(closed)) return Effect.fail(poolClosed(task))
        const call = Effect.andThen(awaitReady, () => {
          const client = makeClient(slotId(nextSlot++))
          const request = {
            id: `${clientId}/${++sequence}`,
            module: task.module,
            name: task.name,
            items: execution.items,
            index: execution.index,
            seed: execution.seed,
            attempt: execution.attempt,
            timeoutMillis: execution.timeoutMillis ?? null,
            mode: execution.mode
          }
          stats.running++
          const call = delivery === "persisted" ? client.Run(request) : client.RunVolatile(request)
          return (call as Effect.Effect<unknown, unknown>).pipe(
            Effect.mapError((e) => unavailable(`${errorTag(e)}: ${String((e as Error).message ?? e)}`, task.name)),
            Effect.ensuring(Effect.sync(() => stats.running--))
          ) as Effect.Effect<Reply, WorkerError>
        })
        return Effect.raceFirst(call, Effect.andThen(Deferred.await(closed), Effect.fail(poolClosed(task))))
      })

    /** The reply as an outcome; a worker crash on the runner counts as a crash here. */
    const outcome = (reply: Reply): ChunkOutcome => {
      if ("error" in reply) return { _tag: "Failed", error: decodeWorkerError(reply.error) }
      let result: ChunkOutcome
      if ("exit" in reply) result = { _tag: "Exits", exits: [outcomeOf(reply.exit)] }
      else if ("exits" in reply) result = { _tag: "Exits", exits: reply.exits.map(outcomeOf) }
      else result = { _tag: "Values", values: reply.values, stop: reply.stop === null ? undefined : outcomeOf(reply.stop) }
      if (result._tag === "Exits") for (const o of result.exits) if (isCrash(o)) stats.crashed++
      if (result._tag === "Values" && isCrash(result.stop)) stats.crashed++
      return result
    }

    const failed = (error: WorkerError): ChunkOutcome => ({ _tag: "Failed", error })

    const execute = <A, E>(execution: Execution, conclude: Conclude<A, E>): Effect.Effect<A, E> => {
      if (execution.mode === "single") {
        return Effect.flatMap(Effect.match(send(execution), { onSuccess: outcome, onFailure: failed }), (o) => conclude(o, execution))
      }
      // a chunk's time per item, message cost included, sizes the next chunks
      return Effect.suspend(() => {
        const t0 = performance.now()
        return Effect.flatMap(
          Effect.match(send(execution), {
            onSuccess: (reply) => {
              policy.observe(execution.task, performance.now() - t0, execution.items.length)
              return outcome(reply)
            },
            onFailure: failed
          }),
          (o) => conclude(o, execution)
        )
      })
    }

    return {
      backend: "cluster",
      size,
      codec: codecOf,
      execute,
      chunkSize: (task, remaining) => policy.chunkSize(task, remaining, size),
      stats: () => ({
        size,
        workers: stats.runners.size,
        ready: stats.runners.size,
        busy: Math.min(stats.running, size),
        queued: 0,
        waiting: 0,
        running: stats.running,
        crashed: stats.crashed,
        killed: 0,
        recycled: 0,
        spawned: 0,
        backend: "cluster"
      }),
      awaitReady
    } satisfies Executor
  })
