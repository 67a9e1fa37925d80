/**
 * The one error a pool adds to a task's own errors: why the pool, not the task, could not deliver a result.
 *
 * Every failure that is not the task's declared error is a `WorkerError` whose `reason` says what went
 * wrong: a worker crashed, could not start, a value could not cross the boundary, the pool is closed, a
 * task ran past its timeout, the cluster could not be reached, and so on. Each reason is a `Schema.TaggedError`, so a `WorkerError` keeps its
 * class when it crosses a thread, a process or a machine, and `Effect.catchReason` picks one reason out.
 *
 * Interruption is never a `WorkerError`: an interrupted task ends its caller with an interrupt cause.
 *
 * @since 0.1.0
 */
import "./internal/nodeVersion.ts"
import * as Schema from "effect/Schema"

/**
 * A worker ended while it was running the task: `process.exit`, an exception thrown outside the handler,
 * heap exhaustion under `resourceLimits`, or a signal (processes). Only the tasks that worker was running
 * fail with it; the pool replaces the worker (rule R4).
 *
 * @category errors
 * @since 0.1.0
 */
export class WorkerCrashed extends Schema.TaggedError<WorkerCrashed>()("WorkerCrashed", {
  taskName: Schema.String,
  workerId: Schema.Number,
  exitCode: Schema.NullOr(Schema.Number),
  signal: Schema.NullOr(Schema.String),
  message: Schema.String
}) {}

/**
 * A worker could not be started, or kept failing before it was ready; the pool gives up instead of
 * respawning forever.
 *
 * @category errors
 * @since 0.1.0
 */
export class SpawnFailed extends Schema.TaggedError<SpawnFailed>()("SpawnFailed", {
  message: Schema.String
}) {}

/**
 * The pool's `initializer` task failed in a worker. The pool is failed with this reason: a broken
 * initializer is never retried in a respawn loop.
 *
 * @category errors
 * @since 0.1.0
 */
export class InitializerFailed extends Schema.TaggedError<InitializerFailed>()("InitializerFailed", {
  taskName: Schema.String,
  message: Schema.String
}) {}

/**
 * A value could not be encoded, decoded or cloned on its way across the worker boundary.
 *
 * `side` is where it happened (`parent` or `worker`), `direction` which value (`payload`, `success`,
 * `error`), and `path` where in the value, when the schema says.
 *
 * @category errors
 * @since 0.1.0
 */
export class CodecFailed extends Schema.TaggedError<CodecFailed>()("CodecFailed", {
  taskName: Schema.String,
  side: Schema.Literals(["parent", "worker"]),
  direction: Schema.Literals(["payload", "success", "error"]),
  path: Schema.String,
  message: Schema.String
}) {}

/**
 * The worker could not find the task: its module failed to import, or exports no task of that name.
 *
 * @category errors
 * @since 0.1.0
 */
export class TaskNotFound extends Schema.TaggedError<TaskNotFound>()("TaskNotFound", {
  taskName: Schema.String,
  module: Schema.String,
  message: Schema.String
}) {}

/**
 * The pool was closed (its scope ended) before the task could run.
 *
 * @category errors
 * @since 0.1.0
 */
export class PoolClosed extends Schema.TaggedError<PoolClosed>()("PoolClosed", {
  taskName: Schema.String
}) {}

/**
 * The task ran longer than its `timeout`, counted from the moment it started in a worker. The task was
 * interrupted (and its worker replaced if it did not stop within `interruptGrace`).
 *
 * @category errors
 * @since 0.1.0
 */
export class TaskTimeout extends Schema.TaggedError<TaskTimeout>()("TaskTimeout", {
  taskName: Schema.String,
  timeoutMillis: Schema.Number
}) {}

/**
 * `AsyncResult.get` gave up waiting. The task itself was NOT cancelled and keeps running; call
 * `AsyncResult.cancel` to stop it.
 *
 * @category errors
 * @since 0.1.0
 */
export class GetTimeout extends Schema.TaggedError<GetTimeout>()("GetTimeout", {
  taskName: Schema.String,
  timeoutMillis: Schema.Number
}) {
  override get message(): string {
    return `waiting for ${this.taskName} timed out after ${this.timeoutMillis} ms; the task was not cancelled and is still running (use AsyncResult.cancel to stop it)`
  }
}

/**
 * A pool option had a value the pool cannot use. `option` names it and `message` says what was expected.
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidOption extends Schema.TaggedError<InvalidOption>()("InvalidOption", {
  option: Schema.String,
  message: Schema.String
}) {}

/**
 * The cluster backend (`WorkerPool.layerCluster`) could not reach its cluster: Postgres refused the
 * connection, no runner answered within `readyTimeout`, or the cluster could not store or route a task's
 * message. `taskName` is empty when no task was involved (the pool's start).
 *
 * @category errors
 * @since 0.2.0
 */
export class ClusterUnavailable extends Schema.TaggedError<ClusterUnavailable>()("ClusterUnavailable", {
  taskName: Schema.String,
  message: Schema.String
}) {}

/**
 * The task was not run because the pool is deadlocked: every worker has been blocked in a shared-object wait
 * (a lock, a semaphore, a queue's take or offer, an event, a condition, a barrier, a pipe) for
 * `deadlockTimeout` while this task waited behind them, so it could never get a worker (the pool option
 * `onDeadlock: "fail"`). `waitingOn` names the objects (kind and id), `blockedMillis` how long the workers
 * had been blocked.
 *
 * Tasks that wait on each other need a worker each: use a bigger pool, or `Process.spawn` for them.
 *
 * @category errors
 * @since 0.3.0
 */
export class Deadlock extends Schema.TaggedError<Deadlock>()("Deadlock", {
  taskName: Schema.String,
  poolSize: Schema.Number,
  waitingOn: Schema.Array(Schema.String),
  blockedMillis: Schema.Number
}) {
  override get message(): string {
    return `${this.taskName} could not run: all ${this.poolSize} worker(s) of the pool have been blocked for ${this.blockedMillis} ms ` +
      `waiting on ${this.waitingOn.join(", ")} while tasks waited behind them (a deadlock: tasks that wait on each other need a ` +
      `worker each; use a bigger pool, or Process.spawn for tasks that wait on each other)`
  }
}

/**
 * Every reason a {@link WorkerError} can carry.
 *
 * @category models
 * @since 0.1.0
 */
export const WorkerErrorReason = Schema.Union([
  WorkerCrashed,
  SpawnFailed,
  InitializerFailed,
  CodecFailed,
  TaskNotFound,
  PoolClosed,
  TaskTimeout,
  GetTimeout,
  InvalidOption,
  ClusterUnavailable,
  Deadlock
])

/**
 * @category models
 * @since 0.1.0
 */
export type WorkerErrorReason = typeof WorkerErrorReason.Type

/**
 * The error a pool adds to every task: the worker or the boundary failed, not the task.
 *
 * **Example** (Handling a timeout)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { WorkerPool } from "effect-parallel"
 *
 * const program = WorkerPool.run(Render, { frame: 1 }, { timeout: "2 seconds" }).pipe(
 *   Effect.catchReason("WorkerError", "TaskTimeout", (t) => Effect.succeed(`gave up after ${t.timeoutMillis} ms`))
 * )
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class WorkerError extends Schema.TaggedError<WorkerError>()("WorkerError", {
  reason: WorkerErrorReason
}) {
  override get message(): string {
    const r = this.reason
    switch (r._tag) {
      case "WorkerCrashed":
        return `worker ${r.workerId} crashed while running ${r.taskName}: ${r.message}`
      case "SpawnFailed":
        return `worker could not start: ${r.message}`
      case "InitializerFailed":
        return `pool initializer ${r.taskName} failed: ${r.message}`
      case "CodecFailed":
        return `${r.taskName}: ${r.direction} could not cross the boundary (${r.side} side${
          r.path === "" ? "" : `, at ${r.path}`
        }): ${r.message}`
      case "TaskNotFound":
        return `task ${r.taskName} not found in ${r.module}: ${r.message}`
      case "PoolClosed":
        return `${r.taskName}: the pool is closed`
      case "TaskTimeout":
        return `${r.taskName} timed out after ${r.timeoutMillis} ms and was interrupted`
      case "GetTimeout":
        return r.message
      case "InvalidOption":
        return `invalid option ${r.option}: ${r.message}`
      case "ClusterUnavailable":
        return r.taskName === "" ? `cluster unavailable: ${r.message}` : `${r.taskName}: cluster unavailable: ${r.message}`
      case "Deadlock":
        return r.message
    }
  }
}

/**
 * Tells whether a value is a {@link WorkerError}.
 *
 * @category guards
 * @since 0.1.0
 */
export const isWorkerError = (u: unknown): u is WorkerError => u instanceof WorkerError
