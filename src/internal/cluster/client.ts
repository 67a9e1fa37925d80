/**
 * The cluster backend's client: a `PoolService` whose tasks are messages to the `effect-parallel/Task`
 * entity, served by runners (see `runner.ts`) through Effect Cluster with Postgres storage.
 *
 * One message per single task, one per chunk of a batch (the batch layer cuts chunks as for threads, with
 * chunks sized for the message cost). Each message has a fresh id: with persisted delivery it is the
 * message's primary key in storage, so a message redelivered after a runner's death is the same message,
 * and a finished one is never run again.
 *
 * @internal
 */
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { randomUUID } from "node:crypto"
import { CodecFailed, PoolClosed, WorkerError } from "../../WorkerError.ts"
import { aroundBadItem } from "../parent/chunk.ts"
import { withRetry } from "../parent/retry.ts"
import { encodingForOtherMachine } from "../shared/registry.ts"
import { randomSeed } from "../random.ts"
import type { ChunkOutcome, PoolService, PoolStats, RunOptions, TaskRef } from "../service.ts"
import { invalid, mapLayerError, postgresLayer, shardingConfigOf, unavailable } from "./options.ts"
import { decodeExit, decodeWorkerError, jsonCodecOf, type Reply, type RunRequest, SLOTS, slotId, TaskEntity } from "./protocol.ts"

import type { ClusterOptions } from "./types.ts"

const errorTag = (e: unknown): string =>
  typeof e === "object" && e !== null && "_tag" in e ? String((e as { _tag: unknown })._tag) : "Error"

/** Builds the client in the current scope. Fails only on bad options or an unreachable Postgres. */
export const makeClusterPool = (options: ClusterOptions): Effect.Effect<PoolService, WorkerError, Scope.Scope> =>
  Effect.gen(function*() {
    const size = options.size ?? 16
    if (!(Number.isInteger(size) && size > 0)) return yield* Effect.fail(invalid("size", `size must be a positive integer, got ${String(size)}`))
    const delivery = options.delivery ?? "persisted"
    if (delivery !== "persisted" && delivery !== "volatile") {
      return yield* Effect.fail(invalid("delivery", `delivery must be "persisted" or "volatile", got ${String(delivery)}`))
    }
    const readyTimeout = Duration.fromInput(options.readyTimeout ?? "60 seconds")
    if (readyTimeout._tag === "None") {
      return yield* Effect.fail(invalid("readyTimeout", `readyTimeout must be a duration, got ${String(options.readyTimeout)}`))
    }
    const sharding = yield* Effect.try({ try: () => shardingConfigOf(options.timings), catch: (e) => e as WorkerError })
    const cluster = mapLayerError(
      NodeClusterSocket.layer({ clientOnly: true, storage: "sql", shardingConfig: sharding }).pipe(
        Layer.provide(postgresLayer(options.postgres))
      ),
      (e) => e instanceof WorkerError ? e : unavailable(`the cluster client could not start: ${String((e as Error)?.message ?? e)}`)
    )
    const context = yield* Layer.build(cluster)
    const makeClient = yield* TaskEntity.client.pipe(Effect.provideContext(context))

    const stats = {
      completed: 0,
      failed: 0,
      retried: 0,
      running: 0,
      crashed: 0,
      runners: new Set<string>()
    }

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
        duration: readyTimeout.value,
        orElse: () =>
          Effect.fail(unavailable(
            `no runner answered within ${Duration.format(readyTimeout.value)}: are runners started (npx effect-parallel runner) with the same Postgres?`
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

    /** Sends one request and waits for its reply; cluster failures become `ClusterUnavailable`. */
    const send = (task: TaskRef, request: Omit<RunRequest, "id" | "module" | "name">): Effect.Effect<Reply, WorkerError> =>
      Effect.suspend(() => {
        if (Deferred.isDoneUnsafe(closed)) return Effect.fail(poolClosed(task))
        const call = Effect.andThen(awaitReady, () => {
          const client = makeClient(slotId(nextSlot++))
          const full: RunRequest = { ...request, id: `${clientId}/${++sequence}`, module: task.module, name: task.name }
          stats.running++
          const call = delivery === "persisted" ? client.Run(full) : client.RunVolatile(full)
          return (call as Effect.Effect<unknown, unknown>).pipe(
            Effect.mapError((e) => unavailable(`${errorTag(e)}: ${String((e as Error).message ?? e)}`, task.name)),
            Effect.ensuring(Effect.sync(() => stats.running--))
          ) as Effect.Effect<Reply, WorkerError>
        })
        return Effect.raceFirst(call, Effect.andThen(Deferred.await(closed), Effect.fail(poolClosed(task))))
      })

    const failedRequest = (reply: Reply): WorkerError | undefined =>
      "error" in reply ? decodeWorkerError(reply.error) : undefined

    const count = (exit: Exit.Exit<unknown, unknown>, attempt: number): void => {
      stats.completed++
      if (attempt > 1) stats.retried++
      if (Exit.isSuccess(exit)) return
      stats.failed++
      const error = Cause.squash(exit.cause)
      if (error instanceof WorkerError && error.reason._tag === "WorkerCrashed") stats.crashed++
    }

    const runOnce = (task: TaskRef, payload: unknown, options: RunOptions | undefined, attempt: number) =>
      Effect.suspend(() => {
        const encoded = encodingForOtherMachine(() => jsonCodecOf(task).encodePayload(payload))
        if (!encoded.ok) {
          return Effect.fail(new WorkerError({ reason: new CodecFailed({ taskName: task.name, side: "parent", direction: "payload", ...encoded.issue }) }))
        }
        let timeoutMillis: number | null = null
        if (options?.timeout !== undefined) {
          const d = Duration.fromInput(options.timeout)
          if (d._tag === "None") return Effect.fail(invalid("timeout", `timeout must be a duration, got ${String(options.timeout)}`))
          timeoutMillis = Duration.toMillis(d.value)
        }
        return send(task, {
          items: [encoded.value],
          index: options?.index ?? 0,
          seed: options?.seed ?? randomSeed(),
          attempt,
          timeoutMillis,
          mode: "single"
        }).pipe(
          Effect.flatMap((reply) => {
            const whole = failedRequest(reply)
            if (whole !== undefined) return Effect.fail(whole)
            if (!("exit" in reply)) return Effect.die(new Error("a single task's reply had no exit"))
            const exit = decodeExit(jsonCodecOf(task), task.name, reply.exit)
            count(exit, attempt)
            return exit
          })
        )
      })

    const run: PoolService["run"] = (task, payload, options, firstAttempt = 1) =>
      withRetry(options, firstAttempt, (options, attempt) => runOnce(task, payload, options, attempt))

    const runChunk: PoolService["runChunk"] = (task, payloads, index, chunkOptions) =>
      Effect.suspend(() => {
        const codec = jsonCodecOf(task)
        const items: Array<unknown> = []
        for (let k = 0; k < payloads.length; k++) {
          const r = encodingForOtherMachine(() => codec.encodePayload(payloads[k]))
          if (!r.ok) {
            const error = new WorkerError({
              reason: new CodecFailed({ taskName: task.name, side: "parent", direction: "payload", path: `[${index + k}]${r.issue.path}`, message: r.issue.message })
            })
            return aroundBadItem(payloads, index, k, chunkOptions.collect, error, (p, i) => runChunk(task, p, i, chunkOptions))
          }
          items.push(r.value)
        }
        return sendChunk(task, items, index, chunkOptions)
      })

    const sendChunk = (
      task: TaskRef,
      items: Array<unknown>,
      index: number,
      chunkOptions: Parameters<PoolService["runChunk"]>[3]
    ): Effect.Effect<ChunkOutcome, WorkerError> =>
      Effect.flatMap(
        timed(task, items.length, send(task, {
          items,
          index,
          seed: chunkOptions.seed,
          attempt: chunkOptions.attempt,
          timeoutMillis: null,
          mode: chunkOptions.collect ? "exits" : "values"
        })),
        (reply): Effect.Effect<ChunkOutcome, WorkerError> => {
          const whole = failedRequest(reply)
          if (whole !== undefined) return Effect.fail(whole)
          const codec = jsonCodecOf(task)
          if ("crashed" in reply) {
            stats.completed++
            stats.failed++
            stats.crashed++
            return Effect.succeed({ _tag: "Crashed", error: decodeWorkerError(reply.crashed), item: reply.item ?? undefined })
          }
          if ("exits" in reply) {
            const exits = reply.exits.map((e) => decodeExit(codec, task.name, e))
            for (const exit of exits) count(exit, chunkOptions.attempt)
            return Effect.succeed({ _tag: "Exits", exits })
          }
          if ("values" in reply) {
            const values: Array<unknown> = []
            for (const v of reply.values) {
              const exit = decodeExit(codec, task.name, { s: v })
              count(exit, chunkOptions.attempt)
              if (Exit.isFailure(exit)) return Effect.succeed({ _tag: "Values", values, stop: exit as Exit.Exit<never, unknown> })
              values.push(exit.value)
            }
            const stop = reply.stop === null ? undefined : decodeExit(codec, task.name, reply.stop)
            if (stop !== undefined) count(stop, chunkOptions.attempt)
            return Effect.succeed({ _tag: "Values", values, stop: stop as Exit.Exit<never, unknown> | undefined })
          }
          return Effect.die(new Error("a chunk's reply had no outcome"))
        }
      )

    // Chunk sizes: a message costs about a millisecond (volatile) to ten (persisted), so a chunk should hold
    // about TARGET_CHUNK_MS of work. Until a task's time per item is measured (the client's time per chunk,
    // message cost included, over its items: an EWMA), chunks spread the known input four per unit of size.
    const TARGET_CHUNK_MS = 200
    const perItemMs = new WeakMap<object, number>()
    const timed = <A, E>(task: TaskRef, items: number, effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
      Effect.suspend(() => {
        const t0 = performance.now()
        return Effect.tap(effect, () =>
          Effect.sync(() => {
            const sample = (performance.now() - t0) / items
            const previous = perItemMs.get(task)
            perItemMs.set(task, previous === undefined ? sample : previous * 0.7 + sample * 0.3)
          }))
      })
    const chunkSizeFor = (task: TaskRef, remaining: number | undefined): number => {
      const spread = remaining === undefined ? 64 : Math.ceil(remaining / (size * 4))
      const cap = remaining === undefined ? 10_000 : Math.max(1, Math.ceil(remaining / size))
      const t = perItemMs.get(task)
      const byTime = t === undefined ? 1 : Math.round(TARGET_CHUNK_MS / Math.max(t, 0.001))
      return Math.max(1, Math.min(10_000, cap, Math.max(spread, byTime)))
    }

    return {
      size,
      run,
      admit: (task, payload, options) => Effect.succeed(run(task, payload, options)),
      runChunk,
      chunkSizeFor,
      stats: Effect.sync((): PoolStats => ({
        size,
        workers: stats.runners.size,
        ready: stats.runners.size,
        busy: Math.min(stats.running, size),
        queued: 0,
        waiting: 0,
        running: stats.running,
        completed: stats.completed,
        failed: stats.failed,
        retried: stats.retried,
        crashed: stats.crashed,
        killed: 0,
        recycled: 0,
        spawned: 0,
        backend: "cluster"
      })),
      awaitReady
    } satisfies PoolService
  })
