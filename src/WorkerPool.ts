/**
 * Runs tasks on a pool of workers: threads, processes, or (for tests and baselines) the current process.
 *
 * The pool is a service: provide it once with a layer, and every `Task` call, `run`, `map`, `imap`,
 * `submit` or `Parallel.forEach` in the program uses it. Closing the layer's scope interrupts every task
 * and ends every worker before the scope finishes closing.
 *
 * **Rules** (DESIGN.md §4) every function here follows:
 * - R1: every wait (for a worker, for room in the queue, for a result) is interruptible.
 * - R2: interrupting a task interrupts its fiber in the worker; a worker that does not stop within
 *   `interruptGrace` (a synchronous loop) is killed and replaced; its slot is busy until it really is free.
 * - R3: closing the scope ends every worker; none outlives it.
 * - R4: a worker that crashes fails only the task it was running; the others go on.
 * - R5: declared errors arrive as instances of their class; undeclared throws arrive as defects.
 * - R6: inputs are pulled lazily, `maxQueued` bounds what waits, result streams apply backpressure.
 * - R7: `TaskContext.random` depends only on the batch seed and the task index.
 *
 * **Example**
 *
 * ```ts
 * import { NodeRuntime } from "@effect/platform-node"
 * import { Effect } from "effect"
 * import { WorkerPool } from "effect-parallel"
 * import { CountPrimes } from "./tasks.ts"
 *
 * const program = Effect.gen(function*() {
 *   const one = yield* CountPrimes({ from: 0, to: 1e6 })
 *   const all = yield* WorkerPool.map(CountPrimes, ranges)
 * })
 *
 * if (import.meta.main) program.pipe(Effect.provide(WorkerPool.layer({ size: "cores" })), NodeRuntime.runMain)
 * ```
 *
 * @since 0.1.0
 */
import "./internal/nodeVersion.ts"
import type * as Duration from "effect/Duration"
import type * as Redacted from "effect/Redacted"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Layer from "effect/Layer"
import type * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type { ConnectionOptions } from "node:tls"
import type { Transferable } from "node:worker_threads"
import type { AsyncResult } from "./AsyncResult.ts"
import { makeAsyncResult } from "./AsyncResult.ts"
import { stream, withBatches, withMachinery } from "./internal/lazy.ts"
import { refuseInWorker } from "./internal/parent/guard.ts"
import type { Source } from "./internal/parent/batch.ts"
import type { PoolService } from "./internal/service.ts"
import { summarize as summarizeResults } from "./internal/summary.ts"
import { runTask, WorkerPool as Service } from "./internal/service.ts"
import type { Task } from "./Task.ts"
import type { WorkerError } from "./WorkerError.ts"

/**
 * The pool service key.
 *
 * @category services
 * @since 0.1.0
 */
export const WorkerPool = Service

/**
 * The pool service key's type.
 *
 * @category services
 * @since 0.1.0
 */
export type WorkerPool = Service

/**
 * Options of a pool: `size`, `maxTasksPerWorker`, `maxQueued`, `interruptGrace`, `resourceLimits`,
 * `initializer`, `idleTimeout`, `execArgv`, `env`, `preload`, `prefetch`. Invalid values fail the layer
 * with a `WorkerError` whose `InvalidOption` reason names the option and the value.
 *
 * @category models
 * @since 0.1.0
 */
export interface PoolOptions {
  /** Number of workers: a positive integer or `"cores"` (usable cores, cgroup quota honoured). Default `"cores"`. */
  readonly size?: number | "cores" | undefined
  /** Retire a worker after it ran this many tasks (Python's `maxtasksperchild`; counts items, not chunks). */
  readonly maxTasksPerWorker?: number | undefined
  /** Tasks allowed to wait for a worker; further submitters wait for room (backpressure). Default unbounded. */
  readonly maxQueued?: number | undefined
  /** How long an interrupted task may take to stop before its worker is killed and replaced. Default 1 second. */
  readonly interruptGrace?: Duration.Input | undefined
  /** V8 heap limits per worker (threads: `resourceLimits`; processes: `--max-old-space-size`). */
  readonly resourceLimits?: ResourceLimits | undefined
  /** A task run once in every new worker before it takes work; if it fails, the pool fails. */
  readonly initializer?: Task.Any | { readonly task: Task.Any; readonly payload: unknown } | undefined
  /** Stop workers idle for this long; they are started again on demand. Default: never. */
  readonly idleTimeout?: Duration.Input | undefined
  /** Node flags for each worker. */
  readonly execArgv?: ReadonlyArray<string> | undefined
  /** Environment of each worker (default: the parent's). */
  readonly env?: Readonly<Record<string, string>> | undefined
  /**
   * Task module URLs every worker imports at start, before it says it is ready. Without it, a module is
   * imported by every ready worker at once when the pool sees its first task.
   */
  readonly preload?: ReadonlyArray<string> | undefined
  /** Allow creating this pool inside a worker (a deliberate nested pool). Default false: see the main guard. */
  readonly allowInWorker?: boolean | undefined
  /** Most jobs inside one worker (one running, the rest queued ahead). Default 64, used only while tasks are
   * measured to be shorter than about a millisecond; 1 disables sending ahead. */
  readonly prefetch?: number | undefined
  /**
   * How long every worker may stay blocked in a shared-object wait (a lock, a semaphore, a queue, an event,
   * a condition, a barrier, a pipe) while tasks wait behind them before the pool calls it a deadlock: it
   * logs a warning naming the objects and the tasks, `stats.deadlock` shows it, and with
   * `onDeadlock: "fail"` the waiting tasks fail. Default 10 seconds; `false` turns detection off. Threads
   * and processes (the in-process pool cannot see its waits).
   */
  readonly deadlockTimeout?: Duration.Input | false | undefined
  /**
   * What a detected deadlock does: `"warn"` (default) logs a warning and shows it in `stats`; `"fail"` also
   * fails the tasks waiting behind the blocked workers with `WorkerError` reason `Deadlock`.
   */
  readonly onDeadlock?: "warn" | "fail" | undefined
}

/**
 * V8 limits of each worker, in megabytes (the `resourceLimits` pool option).
 *
 * @category models
 * @since 0.1.0
 */
export interface ResourceLimits {
  readonly maxOldGenerationSizeMb?: number | undefined
  readonly maxYoungGenerationSizeMb?: number | undefined
  readonly codeRangeSizeMb?: number | undefined
  /**
   * The worker's stack (threads: `resourceLimits.stackSizeMb`, default 4; processes: `--stack-size`).
   *
   * **Gotchas**: on processes it is capped to the parent's own stack (V8's default, about 1 MB, or the
   * parent's `--stack-size`). A worker with a deeper stack could serialize a value (an array nested some
   * thousands deep) that the parent cannot deserialize, and Node's IPC reader would then throw outside any
   * handler and end the parent; with the cap such a result fails its task with `CodecFailed` (worker,
   * success). Threads need no cap: a message the parent cannot read fails its task with `CodecFailed`
   * (parent, success).
   */
  readonly stackSizeMb?: number | undefined
}

/**
 * Options of a single run (a task call, {@link run}, {@link submit}):
 *
 * - `timeout`: counted from the moment the task starts in a worker, not while it waits for one; when it
 *   passes the task is interrupted and the call fails with reason `TaskTimeout`.
 * - `seed`: the seed of the task's random stream (default: a fresh random seed); `index`: its
 *   `TaskContext.index` (default 0).
 * - `transfer`: buffers to move to the worker instead of copying them (`postMessage`'s transfer list:
 *   `{ transfer: [bytes.buffer] }` for a payload holding `bytes`). On threads the worker gets the memory
 *   without a copy and the caller's views become detached (length 0). Processes, the in-process pool and
 *   the cluster copy instead and the caller's buffers stay usable: the option is accepted there so that one
 *   program runs on every backend. For memory many workers share, use `SharedArray`.
 * - `retry`: a number, a `Schedule`, or `{ times, schedule, retryable }`; worker crashes are retried,
 *   declared errors only when `retryable` (which sees the task's error type `E`) says so, interruptions
 *   never.
 *
 * @category models
 * @since 0.1.0
 */
export interface RunOptions<E = unknown> {
  /** Counted from the moment the task starts in a worker; the task is interrupted when it passes. */
  readonly timeout?: Duration.Input | undefined
  /** Seed of the task's random stream (default: a fresh random seed). */
  readonly seed?: number | undefined
  /** `TaskContext.index` (default 0). */
  readonly index?: number | undefined
  /** Buffers to move to the worker instead of copying (the caller's copies become detached). */
  readonly transfer?: ReadonlyArray<Transferable> | undefined
  /**
   * Retries: a number, a `Schedule`, or `{ times, schedule, retryable }`. Worker crashes are retried;
   * declared errors only when `retryable` says so; interruptions never. `TaskContext.attempt` counts.
   */
  readonly retry?: RetryOption<E> | undefined
}

/**
 * Options of a batch: `chunkSize` (`"auto"` or a number), `seed`, `window`, `retry` (whose `retryable`
 * sees the task's error type `E`), `timeout` (per item), `progress`, `mode`.
 *
 * @category models
 * @since 0.1.0
 */
export interface BatchOptions<E = unknown> {
  /** Items per message to a worker: `"auto"` (default) adapts to measured task durations. */
  readonly chunkSize?: number | "auto" | undefined
  /** Seed of the batch: task k's random stream depends on (seed, k) only (R7). Default: random. */
  readonly seed?: number | undefined
  /** Chunks in flight at once (default: twice the pool size). Bounds memory on endless inputs. */
  readonly window?: number | undefined
  /** Retries per item: a number, a `Schedule`, or `{ times, schedule, retryable }`. */
  readonly retry?: RetryOption<E> | undefined
  /** Show progress (a bar on a TTY, plain lines otherwise) or send it to `Progress.Reporter`. */
  readonly progress?: boolean | { readonly label?: string | undefined } | undefined
  /** `"fail-fast"` (default): the first failure fails the batch. `"result"`: one `BatchResult` per item. */
  readonly mode?: "fail-fast" | "result" | undefined
  /**
   * Per item, counted from the item's start (joblib's `timeout`): an item past it is interrupted and fails
   * with reason `TaskTimeout`. Items then travel one per message (a timeout needs its own clock).
   */
  readonly timeout?: Duration.Input | undefined
}

/**
 * One input's outcome in a `mode: "result"` batch: its `index`, and its `value`, typed `error` or `defect`,
 * with the number of `attempts` it took.
 *
 * @category models
 * @since 0.1.0
 */
export type BatchResult<A, E> =
  | { readonly _tag: "Success"; readonly index: number; readonly value: A; readonly attempts: number }
  | { readonly _tag: "Failure"; readonly index: number; readonly error: E; readonly attempts: number }
  | { readonly _tag: "Defect"; readonly index: number; readonly defect: unknown; readonly attempts: number }

/**
 * Counts of a `mode: "result"` batch: succeeded, failed by error tag, retried.
 *
 * @category models
 * @since 0.1.0
 */
export interface BatchSummary {
  readonly total: number
  readonly succeeded: number
  /** Failures by error tag (`WorkerError` reasons as `WorkerError.<reason>`), and `Defect`. */
  readonly failed: Readonly<Record<string, number>>
  /** Items that needed more than one attempt. */
  readonly retried: number
}

/**
 * Retry options: a number of retries, a `Schedule`, or `{ times, schedule, retryable }`.
 *
 * @category models
 * @since 0.1.0
 */
export type RetryOption<E = unknown> = number | Schedule.Schedule<any, any, never, never> | RetryPolicy<E>

/**
 * Retry options: a number of retries, a `Schedule`, or `{ times, schedule, retryable }`.
 *
 * @category models
 * @since 0.1.0
 */
export interface RetryPolicy<E = unknown> {
  /** Retries at most this many times (not counting the first attempt). */
  readonly times?: number | undefined
  /** Spacing between attempts (e.g. `Schedule.exponential("100 millis")`); may also bound the count. */
  readonly schedule?: Schedule.Schedule<any, any, never, never> | undefined
  /**
   * Which errors to retry besides worker crashes (always retried): return true for a declared error worth
   * another attempt. `WorkerError`s other than crashes (timeouts, codec failures) are passed here too.
   */
  readonly retryable?: ((error: E | WorkerError) => boolean) | undefined
}

/**
 * A snapshot of a pool: workers, queue, counts of completed, failed, crashed, killed and recycled.
 *
 * @category models
 * @since 0.1.0
 */
export interface PoolStats {
  /** Configured number of workers. */
  readonly size: number
  /** Workers alive now (starting or ready). */
  readonly workers: number
  /** Workers ready to take tasks. */
  readonly ready: number
  /** Workers running at least one job. */
  readonly busy: number
  /** Jobs admitted to the queue, waiting for a worker (at most `maxQueued`). */
  readonly queued: number
  /** Submitters waiting for room in the queue (backpressure). */
  readonly waiting: number
  /** Jobs sent to a worker and not yet finished. */
  readonly running: number
  /** Tasks (items) finished, whatever their outcome. */
  readonly completed: number
  /** Tasks that ended with a failure, a defect or a WorkerError. */
  readonly failed: number
  /** Task runs that were retries (attempt 2 or later). */
  readonly retried: number
  /** Workers that crashed (exit, uncaught throw, out of memory, signal). */
  readonly crashed: number
  /** Workers killed because a task did not stop within `interruptGrace`. */
  readonly killed: number
  /** Workers retired after `maxTasksPerWorker` tasks. */
  readonly recycled: number
  /** Workers started since the pool was created. */
  readonly spawned: number
  /** Backend name. */
  readonly backend: "threads" | "processes" | "in-process" | "cluster"
  /**
   * Workers whose running task is blocked in a shared-object wait (a lock, a semaphore, a queue's take or
   * offer, an event, a condition, a barrier, a pipe). Threads and processes; 0 elsewhere.
   */
  readonly blocked: number
  /** Set while the pool is deadlocked (see the `deadlockTimeout` option), `undefined` otherwise. */
  readonly deadlock: DeadlockInfo | undefined
}

/**
 * A deadlock the pool sees: every worker blocked in a shared-object wait for at least `deadlockTimeout`,
 * with tasks waiting behind them that can never get a worker.
 *
 * @category models
 * @since 0.3.0
 */
export interface DeadlockInfo {
  /** When every worker had become blocked (epoch milliseconds). */
  readonly since: number
  /** The objects waited on, as `kind #id` (`"SharedQueue #3"`). */
  readonly waitingOn: ReadonlyArray<string>
  /** The blocked tasks, one per worker: name and `TaskContext.index`, and the object each waits on. */
  readonly blocked: ReadonlyArray<{ readonly taskName: string; readonly index: number; readonly waitingOn: ReadonlyArray<string> }>
  /** The tasks waiting behind them (the first few by name and index, and how many in all). */
  readonly waiting: ReadonlyArray<{ readonly taskName: string; readonly index: number }>
  readonly waitingCount: number
}

/**
 * A local pool: refused at once inside a worker (before anything is loaded, see `guard.ts`), else built,
 * with only its own backend loaded (threads need neither `child_process` nor the in-process runtime).
 */
const local = (
  options: PoolOptions | undefined,
  backend: () => Promise<import("./internal/parent/backend.ts").Backend>
): Effect.Effect<PoolService, WorkerError, Scope.Scope> =>
  Effect.suspend(() => {
    const refused = refuseInWorker(options)
    if (refused !== undefined) return Effect.fail(refused)
    return withMachinery((m) => Effect.flatMap(Effect.promise(backend), (b) => m.makeFront(m.makeLocal(b, options))))
  })

/**
 * Builds a pool on worker threads in the current scope (the constructor behind {@link layerThreads}).
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeThreads = (options?: PoolOptions): Effect.Effect<PoolService, WorkerError, Scope.Scope> =>
  local(options, () => import("./internal/parent/threads.ts").then((m) => m.threads))

/**
 * Builds a pool on child processes in the current scope (the constructor behind {@link layerProcesses}).
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeProcesses = (options?: PoolOptions): Effect.Effect<PoolService, WorkerError, Scope.Scope> =>
  local(options, () => import("./internal/parent/processes.ts").then((m) => m.processes))

/**
 * Builds an in-process pool in the current scope (the constructor behind {@link layerInProcess}).
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeInProcess = (options?: PoolOptions): Effect.Effect<PoolService, WorkerError, Scope.Scope> =>
  local(options, () => import("./internal/inProcess.ts").then((m) => m.inProcess))

/**
 * A pool of worker threads: the default backend.
 *
 * **When to use**
 *
 * CPU-bound work in the same process: a thread starts faster than a process (though each worker spends
 * ~0.1–0.2 s loading effect), shares the process's memory limit, and moves typed arrays without copying
 * (transfer lists, `SharedArray`).
 *
 * **Example**
 *
 * ```ts
 * program.pipe(Effect.provide(WorkerPool.layerThreads({ size: "cores", interruptGrace: "500 millis" })))
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layerThreads = (options?: PoolOptions): Layer.Layer<WorkerPool, WorkerError> =>
  Layer.effect(Service, makeThreads(options))

/**
 * A pool of child processes (`child_process.fork`), with the same behaviour as threads.
 *
 * **When to use**
 *
 * When workers need isolation: a separate heap each (more total memory), native add-ons that may crash,
 * per-worker `execArgv` / `env`, or code that is not thread-safe. Python's `multiprocessing.Pool`.
 *
 * **Gotchas**
 *
 * - Start-up costs more than a thread (a new Node process); keep the pool alive and reuse it.
 * - Values are copied (structured clone over IPC): a `transfer` list is accepted and the caller's buffers
 *   stay attached (threads move them).
 *
 * @category layers
 * @since 0.1.0
 */
export const layerProcesses = (options?: PoolOptions): Layer.Layer<WorkerPool, WorkerError> =>
  Layer.effect(Service, makeProcesses(options))

/**
 * A pool that runs tasks in the current process behind the same protocol: same codecs, same errors, no
 * isolation. For tests and for the serial baseline of speedup measurements.
 *
 * **Gotchas**
 *
 * - A synchronous loop cannot be interrupted, and `process.exit` in a task ends the program.
 * - Values are copied as they would be to a thread, but a `transfer` list copies too (the buffers stay
 *   attached).
 * - Like a worker, the pool imports a task's module to find the task, except in one case: the program's
 *   main file still evaluating (a program run with a top-level `await` from the file that defines its
 *   tasks). Importing it then would wait for the program itself, so the task is run as it was made.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerInProcess = (options?: PoolOptions): Layer.Layer<WorkerPool, WorkerError> =>
  Layer.effect(Service, makeInProcess(options))

/**
 * Options of {@link layerCluster}: the Postgres connection, delivery (`"persisted"` or `"volatile"`),
 * cluster timings (`"fast-failover"` preset), messages in flight (`size`), `readyTimeout` and `unavailableTimeout`.
 *
 * @category models
 * @since 0.2.0
 */
export interface ClusterOptions {
  /** Postgres shared with the runners: a URL (`postgres://user@host:5432/db`) or `@effect/sql-pg` pool options. */
  readonly postgres: PostgresOption
  /**
   * The chunks a batch keeps in flight (`map`'s window is twice this), and the parallelism `map` plans for
   * until the runners have answered (then it plans for their worker threads). Messages themselves go to
   * runners with a free worker and wait in the client otherwise. Set it to about the number of worker
   * threads across all runners. Default 16.
   */
  readonly size?: number | undefined
  /**
   * `"persisted"` (default): every message is stored in Postgres before it is delivered; if its runner dies
   * it is delivered again to the runner that takes over its shard (at-least-once). `"volatile"`: sent
   * straight to the runner, about 5× cheaper, but a runner's death fails its tasks with `ClusterUnavailable`.
   */
  readonly delivery?: "persisted" | "volatile" | undefined
  /** Cluster timings; use the same as the runners. Default Effect Cluster's. */
  readonly timings?: ClusterTimingsOption | undefined
  /** How long the first task waits for runners to answer before failing with `ClusterUnavailable`. Default 60 seconds. */
  readonly readyTimeout?: Duration.Input | undefined
  /**
   * How long Postgres may stay away while tasks are in flight. Persisted messages whose sending fails are sent
   * again (same id: stored once, run once) and calls keep waiting for their replies; once Postgres has not
   * answered for this long, those calls, and new ones until it is back, fail with `ClusterUnavailable` naming
   * the cause. Default 60 seconds.
   */
  readonly unavailableTimeout?: Duration.Input | undefined
}

/**
 * The Postgres connection of a cluster: a URL (`postgres://user@host:5432/db`) or `@effect/sql-pg`'s pool
 * options.
 *
 * @category models
 * @since 0.2.0
 */
export type PostgresOption = string | PostgresConfig

/**
 * The most used of `@effect/sql-pg`'s pool options (`PgPoolConfig`), spelled out here: `@effect/sql-pg` is an
 * optional peer dependency, and a program that does not install it must still type-check against these
 * declarations (`skipLibCheck: false`). Assignable to `PgPoolConfig` (checked where it is passed).
 *
 * @category models
 * @since 0.3.0
 */
export interface PostgresConfig {
  readonly url?: Redacted.Redacted | undefined
  readonly host?: string | undefined
  readonly port?: number | undefined
  readonly path?: string | undefined
  readonly ssl?: boolean | ConnectionOptions | undefined
  readonly database?: string | undefined
  readonly username?: string | undefined
  readonly password?: Redacted.Redacted | Effect.Effect<Redacted.Redacted> | undefined
  readonly connectTimeout?: Duration.Input | undefined
  readonly applicationName?: string | undefined
  readonly maxConnections?: number | undefined
  readonly minConnections?: number | undefined
  readonly idleTimeout?: Duration.Input | undefined
  readonly connectionTTL?: Duration.Input | undefined
}

/**
 * Cluster timings. Every runner and every client of one cluster should use the same values.
 *
 * @category models
 * @since 0.2.0
 */
export interface ClusterTimings {
  /** How long a runner's shard locks live without a refresh: bounds the failover after a runner dies. */
  readonly shardLockExpiration?: Duration.Input | undefined
  /** How often a runner refreshes its shard locks (at most a third of the expiration). */
  readonly shardLockRefreshInterval?: Duration.Input | undefined
  /** How often runners check each other's health. */
  readonly runnerHealthCheckInterval?: Duration.Input | undefined
  /** How often runners and clients reload the shard assignments. */
  readonly refreshAssignmentsInterval?: Duration.Input | undefined
  /** How often a runner looks in storage for messages it was not told about (redelivery after a failover). */
  readonly entityMessagePollInterval?: Duration.Input | undefined
  /**
   * How often a client looks in storage for the replies to its persisted messages, while one is awaited there
   * (after a failover, or a send the runner turned away): 20 ms unless set here (Effect Cluster's default is 200 ms).
   */
  readonly entityReplyPollInterval?: Duration.Input | undefined
}

/**
 * `"fast-failover"`: a dead runner's tasks move to the others in about 5–7 s on loopback (Effect Cluster's
 * defaults take 30–40 s), at the price of more lock and health-check traffic to Postgres. `"default"`:
 * Effect Cluster's defaults (lock expiry 35 s, health checks every minute).
 *
 * @category models
 * @since 0.2.0
 */
export type ClusterTimingsOption = "default" | "fast-failover" | ClusterTimings

/**
 * Builds a cluster client in the current scope (the constructor behind {@link layerCluster}).
 *
 * @category constructors
 * @since 0.2.0
 */
export const makeCluster = (options: ClusterOptions): Effect.Effect<PoolService, WorkerError, Scope.Scope> =>
  withMachinery((m) =>
    m.makeFront(
      // loaded on demand: programs that never use the cluster do not load the cluster client and the Postgres
      // driver (a missing optional peer @effect/sql-pg is a typed ClusterUnavailable saying what to install)
      Effect.flatMap(m.loadCluster("client", () => import("./internal/cluster/client.ts")), (c) => c.makeCluster(options))
    )
  )

/**
 * The same tasks on many machines: a pool whose workers are the worker threads of cluster runners, reached
 * through Effect Cluster with Postgres storage. `run`, `map`, `imap`, `submit`, `Parallel.forEach` and
 * calling a task work as on threads.
 *
 * **When to use**
 *
 * A batch that outgrows one machine, or work that must survive the loss of a machine. Start runners on
 * each host (`npx effect-parallel runner --postgres URL --host HOST --port PORT`, or `ClusterRunner.layer`
 * in a program), point this layer at the same Postgres, and run the program unchanged.
 *
 * **Details**
 *
 * - Delivery: `"persisted"` (default) stores each message (a task, or a chunk of a batch) in Postgres
 *   before delivering it. If a runner dies, its messages are delivered again to the runner that takes over
 *   its shards: at-least-once, so a task that was running when its runner died runs again (its result is
 *   delivered once). A finished task's stored result is never recomputed. `"volatile"` skips storage: a
 *   few times cheaper, but a runner's death fails its in-flight tasks with `ClusterUnavailable`.
 * - Balancing: each message (a task, or a chunk of a batch) goes to a runner with a free worker thread, so
 *   a bigger or faster runner gets more of the work; when every worker is busy, messages wait in the client.
 * - Values cross as on threads (the task's schemas, structured clone's meaning), in JSON-safe form: typed
 *   arrays and bytes as base64 of their bytes, never as arrays of numbers.
 * - Postgres going away: persisted messages are sent again with the same id (stored once, run once) and
 *   calls wait, up to `unavailableTimeout`; then they fail with `ClusterUnavailable` naming the cause.
 * - Interruption and `timeout` reach the runner: the task is interrupted in the runner's worker, and a
 *   synchronous loop is killed after the runner's `interruptGrace`.
 * - The first task waits until runners answer (shard assignments known), then messages go straight to the
 *   runner chosen; with no runner within `readyTimeout` it fails with `ClusterUnavailable`.
 * - Task modules are imported by the runners by their URL (`import.meta.url`): deploy the same code at
 *   the same path on every host (a container image does this).
 * - Shared objects (`SharedLock`, `SharedQueue` ...) belong to one machine: a payload holding one fails
 *   with `CodecFailed` before it is sent.
 *
 * **Example**
 *
 * ```ts
 * const Cluster = WorkerPool.layerCluster({
 *   postgres: "postgres://postgres@127.0.0.1:5432/postgres",
 *   size: 16,
 *   timings: "fast-failover"
 * })
 * const rows = yield* WorkerPool.map(RenderRow, rows).pipe(Effect.provide(Cluster))
 * ```
 *
 * @category layers
 * @since 0.2.0
 */
export const layerCluster = (options: ClusterOptions): Layer.Layer<WorkerPool, WorkerError> =>
  Layer.effect(Service, makeCluster(options))

/**
 * The default pool: worker threads.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer: (options?: PoolOptions) => Layer.Layer<WorkerPool, WorkerError> = layerThreads

/**
 * Runs one task and waits for its result.
 *
 * **Details**
 *
 * `timeout` counts from the moment the task starts in a worker (not while it waits in the queue); when it
 * passes, the task is interrupted and the call fails with a `WorkerError` whose reason is `TaskTimeout`.
 * Interrupting the calling fiber interrupts the task in its worker and waits until it really stopped (R2).
 *
 * **Example**
 *
 * ```ts
 * const n = yield* WorkerPool.run(CountPrimes, { from: 0, to: 1e6 }, { timeout: "5 seconds" })
 * ```
 *
 * @category running
 * @since 0.1.0
 */
export const run = <T extends Task.Any>(
  task: T,
  payload: Task.Payload<T>,
  options?: RunOptions<Task.Error<T>>
): Effect.Effect<Task.Success<T>, Task.Error<T> | WorkerError, WorkerPool> =>
  runTask(task, payload, options) as Effect.Effect<
    Task.Success<T>,
    Task.Error<T> | WorkerError,
    WorkerPool
  >

/**
 * Submits a task and returns at once with a handle to its result (Python's `apply_async`).
 *
 * **Details**
 *
 * The task runs whether or not anyone waits for it. `submit` itself waits only while the queue is full
 * (`maxQueued`). The handle belongs to the current scope: when the scope closes, a task still running is
 * interrupted. Read it with `AsyncResult.get(handle, { timeout })`: a `get` that times out does not
 * cancel the task; `AsyncResult.cancel` does.
 *
 * **Gotchas**
 *
 * - `get`'s timeout is wall-clock time from the call, so on a fresh pool it includes the workers' start-up
 *   and their import of the task's module (about 0.3 s per worker for a module that imports
 *   `@effect/platform-node`'s barrel). Start the pool first: `preload` the task module
 *   (`WorkerPool.layer({ preload: [Render.module] })`: a worker imports it before it says it is ready) and
 *   `yield* WorkerPool.awaitReady`. `run`'s `timeout` counts from the task's start instead.
 *
 * **Example**
 *
 * ```ts
 * const handle = yield* WorkerPool.submit(Render, { frame: 1 })
 * const image = yield* AsyncResult.get(handle, { timeout: "1 second" })
 * ```
 *
 * @category running
 * @since 0.1.0
 */
export const submit = <T extends Task.Any>(
  task: T,
  payload: Task.Payload<T>,
  options?: RunOptions<Task.Error<T>>
): Effect.Effect<AsyncResult<Task.Success<T>, Task.Error<T> | WorkerError>, WorkerError, WorkerPool | Scope.Scope> =>
  Effect.gen(function*() {
    const pool = yield* Service
    const awaitResult = yield* pool.submit(task, payload, options)
    const fiber = yield* Effect.forkScoped(awaitResult, { startImmediately: true })
    return makeAsyncResult(task.name, fiber as never)
  })

/**
 * Runs a task over every item and returns the results in input order (Python's `Pool.map`).
 *
 * **Details**
 *
 * Items are sent in chunks whose size adapts to the measured task duration (joblib's
 * `batch_size="auto"`), or `chunkSize` items each. The input is pulled lazily: an iterable of ten million
 * items runs in bounded memory (R6). The first failure interrupts the rest of the batch (fail-fast);
 * with `mode: "result"` every item runs and the result has one `BatchResult` per input (its index, and
 * its value or its typed error). `retry` retries items whose worker crashed, and declared errors marked
 * retryable; `TaskContext.attempt` tells the handler. `seed` makes every item's random stream
 * reproducible (R7). `progress: true` shows a progress bar (see the `Progress` module).
 *
 * **Load balancing.** Chunks are handed to whichever worker is free (dynamic dispatch), and their size
 * follows the measured duration per item: long items travel one per chunk, so expensive items early in
 * the input do not pile up on one worker; tiny items travel by the thousand.
 *
 * **Example**
 *
 * ```ts
 * const counts = yield* WorkerPool.map(CountPrimes, ranges, { chunkSize: "auto", seed: 42 })
 *
 * // keep going past failures, retry crashed workers twice
 * const results = yield* WorkerPool.map(Render, frames, { mode: "result", retry: 2, progress: true })
 * console.log(WorkerPool.summarize(results))   // { total, succeeded, failed: { BadFrame: 3 }, retried }
 * ```
 *
 * @category batches
 * @since 0.1.0
 */
export const map: {
  <T extends Task.Any>(
    task: T,
    items: Iterable<Task.Payload<T>>,
    options: BatchOptions<Task.Error<T>> & { readonly mode: "result" }
  ): Effect.Effect<Array<BatchResult<Task.Success<T>, Task.Error<T> | WorkerError>>, WorkerError, WorkerPool>
  <T extends Task.Any>(
    task: T,
    items: Iterable<Task.Payload<T>>,
    options?: BatchOptions<Task.Error<T>>
  ): Effect.Effect<Array<Task.Success<T>>, Task.Error<T> | WorkerError, WorkerPool>
} = (task: Task.Any, items: Iterable<unknown>, options?: BatchOptions) =>
  withBatches((b) => b.map(task, items, options)) as never

/**
 * Runs a task over every item as a stream of results in input order (Python's `Pool.imap`).
 *
 * The stream applies backpressure: a slow consumer holds the batch back instead of buffering results.
 * The items may be an iterable (pulled lazily) or an Effect `Stream` (see {@link mapStream}: chunks are
 * cut as its items arrive; its error and requirements flow into the result).
 *
 * @category batches
 * @since 0.1.0
 */
export const imap: {
  <T extends Task.Any>(
    task: T,
    items: Iterable<Task.Payload<T>>,
    options: BatchOptions<Task.Error<T>> & { readonly mode: "result" }
  ): Stream.Stream<BatchResult<Task.Success<T>, Task.Error<T> | WorkerError>, WorkerError, WorkerPool>
  <T extends Task.Any>(
    task: T,
    items: Iterable<Task.Payload<T>>,
    options?: BatchOptions<Task.Error<T>>
  ): Stream.Stream<Task.Success<T>, Task.Error<T> | WorkerError, WorkerPool>
  <T extends Task.Any, E, R>(
    task: T,
    items: Stream.Stream<Task.Payload<T>, E, R>,
    options: BatchOptions<Task.Error<T>> & { readonly mode: "result" }
  ): Stream.Stream<BatchResult<Task.Success<T>, Task.Error<T> | WorkerError>, WorkerError | E, WorkerPool | R>
  <T extends Task.Any, E, R>(
    task: T,
    items: Stream.Stream<Task.Payload<T>, E, R>,
    options?: BatchOptions<Task.Error<T>>
  ): Stream.Stream<Task.Success<T>, Task.Error<T> | WorkerError | E, WorkerPool | R>
} = (task: Task.Any, items: Source, options?: BatchOptions) =>
  stream().unwrap(withBatches((b) => Effect.succeed(b.imap(task, items, options, false)))) as never

/**
 * Runs a task over every item as a stream of results in completion order (Python's `imap_unordered`).
 * The items may be an iterable or an Effect `Stream`, as for {@link imap}.
 *
 * @category batches
 * @since 0.1.0
 */
export const imapUnordered: {
  <T extends Task.Any>(
    task: T,
    items: Iterable<Task.Payload<T>>,
    options: BatchOptions<Task.Error<T>> & { readonly mode: "result" }
  ): Stream.Stream<BatchResult<Task.Success<T>, Task.Error<T> | WorkerError>, WorkerError, WorkerPool>
  <T extends Task.Any>(
    task: T,
    items: Iterable<Task.Payload<T>>,
    options?: BatchOptions<Task.Error<T>>
  ): Stream.Stream<Task.Success<T>, Task.Error<T> | WorkerError, WorkerPool>
  <T extends Task.Any, E, R>(
    task: T,
    items: Stream.Stream<Task.Payload<T>, E, R>,
    options: BatchOptions<Task.Error<T>> & { readonly mode: "result" }
  ): Stream.Stream<BatchResult<Task.Success<T>, Task.Error<T> | WorkerError>, WorkerError | E, WorkerPool | R>
  <T extends Task.Any, E, R>(
    task: T,
    items: Stream.Stream<Task.Payload<T>, E, R>,
    options?: BatchOptions<Task.Error<T>>
  ): Stream.Stream<Task.Success<T>, Task.Error<T> | WorkerError | E, WorkerPool | R>
} = (task: Task.Any, items: Source, options?: BatchOptions) =>
  stream().unwrap(withBatches((b) => Effect.succeed(b.imap(task, items, options, true)))) as never

/**
 * Options of {@link mapStream}: a batch's options (`chunkSize`, `window`, `retry`, `mode`, `progress`,
 * `seed`, `timeout`), and `ordered`.
 *
 * @category models
 * @since 0.3.0
 */
export interface StreamOptions<E = unknown> extends BatchOptions<E> {
  /** `true` (default): results in input order (`imap`); `false`: in completion order (`imapUnordered`). */
  readonly ordered?: boolean | undefined
}

/**
 * A pool stage for an Effect `Stream`: runs a task on every item of the stream and emits the results
 * (`stream.pipe(WorkerPool.mapStream(Task, options))`).
 *
 * **When to use**
 *
 * Requests, messages or records that arrive as a `Stream` (a queue, a socket, a file read line by line)
 * and need CPU work: unlike `Stream.mapEffect(Task, { concurrency })`, the pool stage sends items in
 * chunks, keeps a window of chunks in flight, and has `map`'s retries, modes and progress.
 *
 * **Details**
 *
 * - Chunks are cut as items arrive: a chunk is cut when it is full (`chunkSize`, or the adaptive size of
 *   `"auto"`) or when the source has nothing more ready, so a slow source never waits for a chunk to fill.
 * - Backpressure runs from the consumer to the source (R6): at most `window` chunks are in flight (default:
 *   twice the pool size), and the source is pulled at most one buffer ahead of them (`chunkSize` items, or
 *   4,096 with `"auto"`): an endless source runs in bounded memory.
 * - `ordered: true` (default) emits results in input order, `false` in completion order. `mode: "result"`
 *   emits one `BatchResult` per item instead of failing at the first error; `retry`, `seed` (R7),
 *   `timeout` (per item) and `progress` work as in {@link map}. Item indexes count from 0 in arrival order.
 * - The source's error and requirements flow through: the result fails with the source's error, and needs
 *   what the source needs plus the `WorkerPool`.
 * - Ending the result stream early (`Stream.take`, interruption of its consumer) stops the source and
 *   interrupts the tasks in flight in their workers (R1, R2).
 *
 * **Example** (Requests from a queue, through the pool)
 *
 * ```ts
 * const thumbnails = Stream.fromQueue(requests).pipe(
 *   WorkerPool.mapStream(Thumbnail, { ordered: false, retry: 2 }),
 *   Stream.tap((t) => Effect.log(`done ${t.name}`))
 * )
 * ```
 *
 * @category batches
 * @since 0.3.0
 */
export const mapStream: {
  <T extends Task.Any>(
    task: T,
    options: StreamOptions<Task.Error<T>> & { readonly mode: "result" }
  ): <E, R>(
    self: Stream.Stream<Task.Payload<T>, E, R>
  ) => Stream.Stream<BatchResult<Task.Success<T>, Task.Error<T> | WorkerError>, WorkerError | E, WorkerPool | R>
  <T extends Task.Any>(
    task: T,
    options?: StreamOptions<Task.Error<T>>
  ): <E, R>(self: Stream.Stream<Task.Payload<T>, E, R>) => Stream.Stream<Task.Success<T>, Task.Error<T> | WorkerError | E, WorkerPool | R>
  <T extends Task.Any, E, R>(
    self: Stream.Stream<Task.Payload<T>, E, R>,
    task: T,
    options: StreamOptions<Task.Error<T>> & { readonly mode: "result" }
  ): Stream.Stream<BatchResult<Task.Success<T>, Task.Error<T> | WorkerError>, WorkerError | E, WorkerPool | R>
  <T extends Task.Any, E, R>(
    self: Stream.Stream<Task.Payload<T>, E, R>,
    task: T,
    options?: StreamOptions<Task.Error<T>>
  ): Stream.Stream<Task.Success<T>, Task.Error<T> | WorkerError | E, WorkerPool | R>
} = dual(
  (args) => stream().isStream(args[0]),
  (self: Stream.Stream<unknown, unknown, unknown>, task: Task.Any, options?: StreamOptions) =>
    stream().unwrap(withBatches((b) => Effect.succeed(b.mapStream(self, task, options))))
) as never

/**
 * Like {@link map}, with each item an argument tuple spread over the payload (Python's `starmap`,
 * joblib's `delayed(f)(i, j)`): a tuple payload takes it as it is, a struct payload by field order.
 *
 * **Example**
 *
 * ```ts
 * // payload: Schema.Struct({ i: Schema.Number, j: Schema.Number })
 * const cells = yield* WorkerPool.starmap(Cell, [[0, 0], [0, 1], [1, 0]])
 * ```
 *
 * @category batches
 * @since 0.1.0
 */
export const starmap = <T extends Task.Any>(
  task: T,
  args: Iterable<
    Task.Payload<T> extends ReadonlyArray<any> ? Task.Payload<T> : ReadonlyArray<Task.Payload<T>[keyof Task.Payload<T>]>
  >,
  options?: BatchOptions<Task.Error<T>>
): Effect.Effect<Array<Task.Success<T>>, Task.Error<T> | WorkerError, WorkerPool> =>
  withBatches((b) => b.map(task, b.spread(task, args as Iterable<ReadonlyArray<unknown>>), options)) as Effect.Effect<
    Array<Task.Success<T>>,
    Task.Error<T> | WorkerError,
    WorkerPool
  >

/**
 * Counts a `mode: "result"` batch: how many succeeded, how many failed by error tag, how many needed
 * retries.
 *
 * @category getters
 * @since 0.1.0
 */
export const summarize: <A, E>(results: ReadonlyArray<BatchResult<A, E>>) => BatchSummary = summarizeResults

/**
 * Waits until every worker of the pool in context has started (and run its initializer).
 *
 * **When to use**
 *
 * Before timing a batch, or to surface start-up failures early. Tasks never need it: they wait for a
 * worker by themselves, and the first ready worker starts taking work while the others still start.
 *
 * @category getters
 * @since 0.1.0
 */
export const awaitReady: Effect.Effect<void, WorkerError, WorkerPool> = Service.use((pool) => pool.awaitReady)

/**
 * A snapshot of the pool in context.
 *
 * @category getters
 * @since 0.1.0
 */
export const stats: Effect.Effect<PoolStats, never, WorkerPool> = Service.use((pool) => pool.stats)
