/**
 * The cluster executor: executions are messages to the `effect-parallel/Task` entity, served by runners
 * (see `runner.ts`) through Effect Cluster with Postgres storage. The front (`front.ts`) does the rest, as
 * for a local pool: a runner is a local executor at the end of a wire, and its outcome comes back as is.
 *
 * One message per execution: a single task, or a chunk of a batch (sized by the same policy as a local
 * pool's chunks, with the cluster's constants: a message costs milliseconds). Three things happen here:
 *
 * - **Where it goes** (`balance.ts`): to a runner with a free worker. The client learns which runner answers
 *   for each entity id and how many workers it has, and addresses the message to an id of the runner with
 *   the most room; when all are busy, the message waits here, not in a runner's queue.
 * - **Exactly one result**: each message has a fresh id, its primary key in storage, kept across the
 *   retries below. A message stored twice is one message, and a finished one is never run again.
 * - **Surviving the database**: a persisted send that fails because Postgres is away (or the cluster is
 *   momentarily without a route) is sent again, with the same id, until it goes through; while messages are
 *   in flight, the client checks that Postgres answers. Away for longer than `unavailableTimeout`, every
 *   call in flight, and every new one until it is back, fails with `ClusterUnavailable` naming the cause.
 *
 * @internal
 */
import * as EntityId from "effect/cluster/EntityId"
import * as Sharding from "effect/cluster/Sharding"
import * as ShardingConfig from "effect/cluster/ShardingConfig"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { SqlClient } from "effect/sql/SqlClient"
import { randomUUID } from "node:crypto"
import { PoolClosed, WorkerError } from "../../WorkerError.ts"
import type { ClusterOptions } from "../../WorkerPool.ts"
import { codecOf as plainCodecOf } from "../codec.ts"
import { type ChunkOutcome, codecsWithin, type Conclude, type Execution, type Executor } from "../executor.ts"
import { orFail } from "../options.ts"
import { clusterChunks, persistedChunks, Policy } from "../parent/policy.ts"
import type { TaskRef } from "../service.ts"
import { encodingForOtherMachine } from "../shared/registry.ts"
import { Balancer, type Lease } from "./balance.ts"
import { describe, describeError, mapLayerError, postgresLayer, resolveClusterOptions, tagOf, unavailable } from "./options.ts"
import {
  isReply,
  jsonSafeCodec,
  malformedReply,
  outcomeFromJson,
  type ReplyMessage,
  type RunnerInfo,
  type RunRequest,
  slotIds,
  TaskEntity
} from "./protocol.ts"
import { clientLayer } from "./transport.ts"

/**
 * The tasks' codecs: the schema's own encoding, as on threads, carried in JSON-safe form; a shared object in
 * a payload cannot leave its machine, and its schema says so (`CodecFailed`) instead of encoding a handle
 * the runner could not use.
 */
const codecOf = codecsWithin((task) => jsonSafeCodec(plainCodecOf(task)), encodingForOtherMachine)

/** The client-wide errors (closed, Postgres away) as errors of the task at hand. */
const forTask = (e: WorkerError, task: TaskRef): WorkerError => {
  const reason = e.reason
  if (reason._tag === "PoolClosed" && reason.taskName === "") return new WorkerError({ reason: new PoolClosed({ taskName: task.name }) })
  if (reason._tag === "ClusterUnavailable" && reason.taskName === "") return unavailable(reason.message, task.name)
  return e
}

/** Errors of a send that say "not now" rather than "never": the same message is sent again. */
const transient = new Set(["PersistenceError", "MailboxFull", "EntityNotAssignedToRunner", "RunnerUnavailable"])

/** What a failed send says: whether sending the same message again may work, and the cause in words. */
const failureOf = (cause: Cause.Cause<unknown>): { readonly transient: boolean; readonly message: string } => {
  const fail = cause.reasons.find(Cause.isFailReason)
  if (fail !== undefined) return { transient: transient.has(tagOf(fail.error) ?? ""), message: describeError(fail.error) }
  const die = cause.reasons.find(Cause.isDieReason)
  if (die !== undefined) return { transient: false, message: describeError(die.defect) }
  // the cluster ended the call with an interruption: its runner stopped serving it (it lost its shard, or
  // it is shutting down); a persisted message is then served by the shard's next owner
  return { transient: true, message: "the runner stopped serving the message (it lost its shard or shut down)" }
}

/** A reply, and the milliseconds from its message's send to its arrival. */
interface Sent {
  readonly reply: ReplyMessage
  readonly millis: number
}

/**
 * How often the client reads replies from storage while one is awaited there (the timings may say
 * otherwise). A reply normally comes straight from its runner; it is read from storage after a failover, or
 * when the runner turned the send away (`EntityNotAssignedToRunner`, seen about once in 300 messages while
 * a slot's entity starts) and served the stored message. At Effect Cluster's 200 ms, that one message made a
 * whole Mandelbrot batch 40% slower in half the runs; the poll runs only while such a reply is awaited.
 */
const REPLY_POLL = Duration.millis(20)

/** How often the client checks that Postgres answers while messages are in flight, or it is away. */
const HEALTH_INTERVAL = Duration.seconds(1)
/** How long one check may take before it counts as a failure. */
const HEALTH_TIMEOUT = Duration.seconds(2)

/** Builds the cluster executor in the current scope. Fails only on bad options or an unreachable Postgres. */
export const makeCluster = (options: ClusterOptions): Effect.Effect<Executor, WorkerError, Scope.Scope> =>
  Effect.gen(function*() {
    const { size, delivery, readyTimeout, unavailableTimeoutMillis, sharding } = yield* orFail(resolveClusterOptions(options))
    const database = yield* Layer.build(postgresLayer(options.postgres))
    const sql = Context.get(database, SqlClient)
    const starting = (e: unknown) => e instanceof WorkerError ? e : unavailable(`the cluster client could not start: ${describeError(e)}`)
    const cluster = mapLayerError(
      clientLayer({ entityReplyPollInterval: REPLY_POLL, ...sharding }).pipe(
        Layer.provide(Layer.succeedContext(database))
      ),
      starting
    )
    const context = yield* Layer.build(cluster)
    const makeClient = yield* TaskEntity.client.pipe(Effect.provideContext(context))
    // The configuration the cluster layer read (the environment, then our timings): its number of shards.
    const { shardsPerGroup } = Context.get(
      yield* Effect.mapError(Layer.build(ShardingConfig.layerFromEnv(sharding)), starting),
      ShardingConfig.ShardingConfig
    )
    const shardOf = (id: string) => {
      const shard = Context.get(context, Sharding.Sharding).getShardId(EntityId.make(id), TaskEntity.getShardGroup(EntityId.make(id)))
      return `${shard.group}/${shard.id}`
    }
    const slots = slotIds(shardsPerGroup, shardOf)
    // one entity client per slot, made once: making one hashes its id to a shard on every call
    const clients = slots.map((id) => makeClient(id))

    const stats = { running: 0, crashed: 0 }
    const policy = new Policy(delivery === "persisted" ? persistedChunks : clusterChunks, { prefetch: 1, maxTasksPerWorker: Infinity })
    const balancer = new Balancer(slots.length)

    // ---------------------------------------------------------------------------------------------------------
    // Routing: which runner answers for each slot

    /** Asks a slot which runner serves it. Volatile: it waits until the client knows the shard assignments. */
    const probe = (slot: number) =>
      Effect.map(clients[slot]!.Ping(), (info: RunnerInfo) => balancer.learn(slot, info))

    // Readiness: every slot answered. Once they have, persisted sends are routed at once instead of waiting
    // for the runners' storage poll (10 s by default), and the balancer knows every runner.
    const ready = yield* Deferred.make<void, WorkerError>()
    yield* Effect.forEach(slots.keys(), probe, { concurrency: "unbounded", discard: true }).pipe(
      Effect.timeoutOrElse({
        duration: readyTimeout,
        orElse: () =>
          Effect.fail(unavailable(
            `no runner answered within ${Duration.format(readyTimeout)}: are runners started (npx effect-parallel runner) with the same Postgres?`
          ))
      }),
      Effect.mapError((e) => e instanceof WorkerError ? e : unavailable(`readiness check failed: ${describeError(e)}`)),
      Effect.exit,
      Effect.flatMap((exit) => Deferred.done(ready, exit)),
      Effect.forkScoped
    )
    const awaitReady = Deferred.await(ready)

    // A reply from a runner the balancer did not expect for its slot: the assignments moved (a runner died,
    // joined or left). Every slot is asked again (one refresh at a time), each answer updating the map as it
    // comes (a slot whose shard has no owner yet answers when it has one).
    let refreshing = false
    const refresh = Effect.suspend(() => {
      if (refreshing) return Effect.void
      refreshing = true
      return Effect.forEach(
        slots.keys(),
        (k) => probe(k).pipe(Effect.timeout("30 seconds"), Effect.ignore),
        { concurrency: "unbounded", discard: true }
      ).pipe(Effect.ensuring(Effect.sync(() => refreshing = false)))
    })
    const scope = yield* Effect.scope

    // ---------------------------------------------------------------------------------------------------------
    // Closing, and Postgres going away

    // Every call in flight can be ended at once: closing the client ends each with PoolClosed (R3: their
    // interruption reaches the runners before the cluster client shuts down; this finalizer is added after
    // the cluster layer was built, so it runs first), an outage longer than the bound with ClusterUnavailable.
    // A set of callbacks, not a race against a Deferred: a race forks two fibers per call, this one.
    const inFlight = new Set<(error: WorkerError) => void>()
    const abort = (error: WorkerError) => {
      for (const end of [...inFlight]) end(error)
    }
    let closedError: WorkerError | undefined
    const outage = { since: undefined as number | undefined, cause: "", tripped: undefined as WorkerError | undefined }
    const poolClosed = (task: TaskRef) => new WorkerError({ reason: new PoolClosed({ taskName: task.name }) })

    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        // the client-wide error: `forTask` names the task at hand
        closedError = new WorkerError({ reason: new PoolClosed({ taskName: "" }) })
        abort(closedError)
        return Effect.void
      }).pipe(
        Effect.andThen(Effect.sync(() => stats.running).pipe(
          Effect.repeat({ until: (n) => n === 0, schedule: Schedule.spaced("5 millis") }),
          Effect.timeout("5 seconds"),
          Effect.ignore
        ))
      )
    )

    const noteFailure = (cause: string) => {
      outage.since ??= Date.now()
      outage.cause = cause
      if (outage.tripped === undefined && Date.now() - outage.since >= unavailableTimeoutMillis) {
        outage.tripped = unavailable(
          `Postgres (${describe(options.postgres)}) has not answered for ${
            Duration.format(Duration.millis(Date.now() - outage.since))
          } (unavailableTimeout ${Duration.format(Duration.millis(unavailableTimeoutMillis))}): ${cause}`
        )
        abort(outage.tripped)
      }
      return Effect.void
    }
    const noteHealthy = Effect.sync(() => {
      // calls from now on go through again
      outage.since = undefined
      outage.tripped = undefined
    })

    // While messages are in flight (Effect Cluster waits for their replies through any outage without a
    // word), or while Postgres is known to be away, ask it once a second whether it answers.
    yield* Effect.suspend(() =>
      stats.running === 0 && outage.since === undefined ? Effect.void : sql`SELECT 1`.pipe(
        Effect.timeoutOrElse({
          duration: HEALTH_TIMEOUT,
          orElse: () => Effect.fail(new Error(`no answer within ${Duration.format(HEALTH_TIMEOUT)}`))
        }),
        Effect.matchEffect({ onSuccess: () => noteHealthy, onFailure: (e) => noteFailure(describeError(e)) })
      )
    ).pipe(Effect.repeat(Schedule.spaced(HEALTH_INTERVAL)), Effect.forkScoped)

    // ---------------------------------------------------------------------------------------------------------
    // Sending

    const clientId = randomUUID()
    let sequence = 0

    /** The balancer's next lease, waiting (interruptibly, R1) while every runner is full. */
    const lease = Effect.callback<Lease>((resume) => {
      const cancel = balancer.acquire((l) => resume(Effect.succeed(l)))
      return Effect.sync(cancel)
    })

    /**
     * Sends the request to its slot. A persisted message whose send failed for a transient reason (Postgres
     * away, no route yet, the runner gave it up when it lost its shard) is sent again, with the same id,
     * until it goes through or Postgres has been away for longer than the bound. A volatile message is not:
     * its failure is the task's `ClusterUnavailable`.
     */
    const call = (slot: number, request: RunRequest, task: TaskRef): Effect.Effect<unknown, WorkerError> => {
      const client = clients[slot]!
      const once = (delivery === "persisted" ? client.Run(request) : client.RunVolatile(request)) as Effect.Effect<unknown, unknown>
      let failingSince: number | undefined
      const loop = (delay: number): Effect.Effect<unknown, WorkerError> =>
        // an interruption of this fiber never reaches here; an interrupt cause here is the call's own end
        Effect.catchCause(once, (cause) => {
          const failure = failureOf(cause)
          if (delivery === "volatile" || !failure.transient) return Effect.fail(unavailable(failure.message, task.name))
          // bounded per message too: a transient failure that lasts while Postgres answers (no route, ever)
          failingSince ??= Date.now()
          const failing = Date.now() - failingSince
          if (failing >= unavailableTimeoutMillis) {
            return Effect.fail(unavailable(
              `the message could not be sent for ${Duration.format(Duration.millis(failing))} (unavailableTimeout ${
                Duration.format(Duration.millis(unavailableTimeoutMillis))
              }): ${failure.message}`,
              task.name
            ))
          }
          return Effect.andThen(noteFailure(failure.message), () =>
            outage.tripped !== undefined
              ? Effect.fail(outage.tripped)
              : Effect.andThen(Effect.sleep(delay), loop(Math.min(delay * 2, 1000))))
        })
      return loop(50)
    }

    /** Sends one execution and waits for its reply, and how long the round trip took (from the send). */
    const send = (execution: Execution): Effect.Effect<Sent, WorkerError> =>
      Effect.suspend(() => {
        const task = execution.task
        if (closedError !== undefined) return Effect.fail(poolClosed(task))
        if (outage.tripped !== undefined) return Effect.fail(outage.tripped)
        const request: RunRequest = {
          id: `${clientId}/${++sequence}`,
          module: task.module,
          name: task.name,
          // numbers a batch packed into a Float64Array cross the cluster as the array of numbers they were
          items: execution.items instanceof Float64Array ? Array.from(execution.items) : execution.items,
          index: execution.index,
          seed: execution.seed,
          attempt: execution.attempt,
          timeoutMillis: execution.timeoutMillis ?? null,
          mode: execution.mode
        }
        const sent = Effect.uninterruptibleMask((restore) =>
          Effect.flatMap(restore(lease), (l) => {
            stats.running++
            const t0 = performance.now()
            let answered: Sent | undefined
            return restore(call(l.slot, request, task)).pipe(
              Effect.flatMap((reply) => {
                if (!isReply(reply)) return Effect.fail(malformedReply(task.name, reply))
                answered = { reply, millis: performance.now() - t0 }
                // the runner that answered for this slot: a different one means the assignments moved
                if (balancer.learn(l.slot, { address: reply.r.by, workers: reply.r.w })) {
                  return Effect.as(Effect.forkIn(refresh, scope), answered)
                }
                return Effect.succeed(answered)
              }),
              Effect.onExit(() =>
                Effect.sync(() => {
                  stats.running--
                  if (answered === undefined) balancer.release(l)
                  else {
                    const reply = answered.reply.r
                    balancer.release(l, { roundTrip: answered.millis, inRunner: reply.ms, work: reply.wk ?? reply.ms })
                  }
                })
              )
            )
          })
        )
        const work = Effect.andThen(awaitReady, sent)
        // the call in a fiber of its own, which `abort` can leave behind at once (interrupting it); interrupting
        // the caller interrupts the call and waits until it has stopped (R1, R2)
        return Effect.withFiber((parent) =>
          Effect.callback<Sent, WorkerError>((resume) => {
            const fiber = Effect.runForkWith(parent.context)(work)
            const end = (error: WorkerError) => {
              inFlight.delete(end)
              resume(Effect.fail(forTask(error, task)))
              fiber.interruptUnsafe(parent.id)
            }
            inFlight.add(end)
            fiber.addObserver((exit) => {
              inFlight.delete(end)
              resume(Exit.isSuccess(exit) ? exit : Effect.mapError(exit, (e) => forTask(e, task)))
            })
            return Effect.suspend(() => {
              inFlight.delete(end)
              return Fiber.interrupt(fiber)
            })
          })
        )
      })

    const failed = (error: WorkerError): ChunkOutcome => ({ _tag: "Failed", error })

    /** The reply as an outcome; a worker crash on the runner counts as a crash here too. */
    const outcome = ({ reply }: Sent): ChunkOutcome => {
      const o = outcomeFromJson(reply.r.o, reply.b)
      if (o._tag === "Crashed") stats.crashed++
      return o
    }

    const execute = <A, E>(execution: Execution, conclude: Conclude<A, E>): Effect.Effect<A, E> =>
      Effect.flatMap(
        Effect.match(send(execution), {
          onSuccess: (sent) => {
            // a chunk's time per item, message cost included, sizes the next chunks
            if (execution.mode !== "single") policy.observe(execution.task, sent.millis, execution.items.length)
            return outcome(sent)
          },
          onFailure: failed
        }),
        (o) => conclude(o, execution)
      )

    const known = () => balancer.known()
    return {
      backend: "cluster",
      size,
      codec: codecOf,
      execute,
      // chunks planned for the workers the runners have (what `size` stands for until they answered)
      chunkSize: (task, remaining) => policy.chunkSize(task, remaining, balancer.capacity() || size),
      stats: () => {
        const runners = known()
        return {
          size,
          workers: runners.length,
          ready: runners.length,
          busy: Math.min(stats.running, size),
          // messages held in the client until a runner has a free worker
          queued: balancer.waiting(),
          waiting: 0,
          running: stats.running,
          crashed: stats.crashed,
          killed: 0,
          recycled: 0,
          spawned: 0,
          backend: "cluster"
        }
      },
      awaitReady
    } satisfies Executor
  })
