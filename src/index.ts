/**
 * effect-parallel: typed, structured-concurrency parallelism for Node.js on Effect 4.
 *
 * @since 0.1.0
 */
import "./internal/nodeVersion.ts"

/**
 * A handle to a submitted task: `get({ timeout })`, `wait`, `ready`, `successful`, `cancel`.
 *
 * @since 0.1.0
 */
export * as AsyncResult from "./AsyncResult.ts"

/**
 * A cluster runner: serves tasks to `WorkerPool.layerCluster` clients from its own worker threads.
 *
 * @since 0.2.0
 */
export * as ClusterRunner from "./ClusterRunner.ts"

/**
 * Shared maps, lists and values held by the parent, with typed proxies in workers.
 *
 * @since 0.1.0
 */
export * as Manager from "./Manager.ts"

/**
 * Bounded fan-out of any effects, and the usable core count.
 *
 * @since 0.1.0
 */
export * as Parallel from "./Parallel.ts"

/**
 * One task on a worker of its own, outside any pool (Python's `Process` / `Thread`).
 *
 * @since 0.3.0
 */
export * as Process from "./Process.ts"

/**
 * Progress of batches: a bar on a TTY, plain lines in logs, or a Stream of events for your own display.
 *
 * @since 0.1.0
 */
export * as Progress from "./Progress.ts"

/**
 * A typed array in shared memory, with atomic operations, across workers.
 *
 * @since 0.1.0
 */
export * as SharedArray from "./SharedArray.ts"

/**
 * Makes a fixed number of parties wait for each other, with an optional action and timeout.
 *
 * @since 0.1.0
 */
export * as SharedBarrier from "./SharedBarrier.ts"

/**
 * Waits under a lock until another worker notifies that shared state changed.
 *
 * @since 0.1.0
 */
export * as SharedCondition from "./SharedCondition.ts"

/**
 * The error of shared objects.
 *
 * @since 0.1.0
 */
export * as SharedError from "./SharedError.ts"

/**
 * A lock across workers (threads and processes).
 *
 * @since 0.1.0
 */
export * as SharedLock from "./SharedLock.ts"

/**
 * A flag workers wait for.
 *
 * @since 0.1.0
 */
export * as SharedEvent from "./SharedEvent.ts"

/**
 * A duplex channel between two parties, typed each way.
 *
 * @since 0.1.0
 */
export * as SharedPipe from "./SharedPipe.ts"

/**
 * A bounded, joinable queue of typed items between the parent and workers.
 *
 * @since 0.1.0
 */
export * as SharedQueue from "./SharedQueue.ts"

/**
 * A re-entrant lock across workers, held by a fiber.
 *
 * @since 0.1.0
 */
export * as SharedRLock from "./SharedRLock.ts"

/**
 * A counter of permits across workers (bounded variant included).
 *
 * @since 0.1.0
 */
export * as SharedSemaphore from "./SharedSemaphore.ts"

/**
 * Measures speedup and efficiency over worker counts; prints a table, writes an SVG plot.
 *
 * @since 0.1.0
 */
export * as Speedup from "./Speedup.ts"

/**
 * Typed units of work that run in workers.
 *
 * @since 0.1.0
 */
export * as Task from "./Task.ts"

/**
 * What a task's handler knows about its run: index, attempt, random stream.
 *
 * @since 0.1.0
 */
export * as TaskContext from "./TaskContext.ts"

/**
 * The error a pool adds to every task.
 *
 * @since 0.1.0
 */
export * as WorkerError from "./WorkerError.ts"

/**
 * The pool: layers, `run`, `submit`, `map`, `imap`, `imapUnordered`, `starmap`, `stats`.
 *
 * @since 0.1.0
 */
export * as WorkerPool from "./WorkerPool.ts"
