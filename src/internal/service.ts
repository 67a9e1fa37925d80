/**
 * The `WorkerPool` service key and its shape. Kept apart from the pool's machinery so that `Task` (which
 * workers import) can refer to the service without pulling any parent-side code into a worker.
 *
 * @internal
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type { WorkerError } from "../WorkerError.ts"
import type * as Exit from "effect/Exit"
import type { TaskSchemas } from "./codec.ts"
import type { RetryOption } from "./parent/retry.ts"
import type { Transferable } from "node:worker_threads"

/** What the pool needs to know of a task (a `Task` is one). */
export interface TaskRef extends TaskSchemas {
  readonly name: string
  readonly module: string
}

/** Options of a single run; `E` is the task's error type, seen by `retry.retryable`. */
export interface RunOptions<E = unknown> {
  /** Counted from the moment the task starts in a worker; the task is interrupted when it passes. */
  readonly timeout?: Duration.Input | undefined
  /** Seed of the task's random stream (default: a fresh random seed). */
  readonly seed?: number | undefined
  /** `TaskContext.index` (default 0). */
  readonly index?: number | undefined
  /**
   * Buffers to move to the worker instead of copying them (`postMessage`'s transfer list; put the buffers of
   * the payload's typed arrays here: `[bytes.buffer]`). Threads move them: the worker gets the memory without
   * a copy and the caller's views become detached (length 0). Processes, the in-process pool and the cluster
   * copy instead, and the caller's buffers stay usable: the option is accepted there so that one program runs
   * on every backend. For memory that many workers read or write, use `SharedArray`.
   */
  readonly transfer?: ReadonlyArray<Transferable> | undefined
  /**
   * Retries: a number, a `Schedule`, or `{ times, schedule, retryable }`. Worker crashes are retried;
   * declared errors only when `retryable` says so; interruptions never. `TaskContext.attempt` counts.
   */
  readonly retry?: RetryOption<E> | undefined
}

/** How a chunk ended. */
export type ChunkOutcome =
  /** Fail-fast chunk: the values of the items that succeeded, in order, and the exit that stopped it. */
  | {
    readonly _tag: "Values"
    readonly values: ReadonlyArray<unknown>
    readonly stop: Exit.Exit<never, unknown> | undefined
  }
  /** Collecting chunk: every item's exit. */
  | { readonly _tag: "Exits"; readonly exits: ReadonlyArray<Exit.Exit<unknown, unknown>> }
  /** The worker died during the chunk; `item` is the one that was running, when the backend can tell. */
  | { readonly _tag: "Crashed"; readonly error: WorkerError; readonly item: number | undefined }

export interface ChunkOptions {
  readonly seed: number
  readonly attempt: number
  readonly collect: boolean
  readonly onProgress: ((index: number, fraction: number) => void) | undefined
}

/**
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
}

/** @internal the service shape; users reach it through the `WorkerPool` module's functions. */
export interface PoolService {
  readonly size: number
  readonly run: (
    task: TaskRef,
    payload: unknown,
    options: RunOptions | undefined,
    attempt?: number
  ) => Effect.Effect<unknown, unknown>
  /** Waits for room in the queue (maxQueued), then returns an effect that runs the task (R1, R6). */
  readonly admit: (
    task: TaskRef,
    payload: unknown,
    options: RunOptions | undefined
  ) => Effect.Effect<Effect.Effect<unknown, unknown>, WorkerError>
  readonly runChunk: (
    task: TaskRef,
    payloads: ReadonlyArray<unknown>,
    index: number,
    options: ChunkOptions
  ) => Effect.Effect<ChunkOutcome, WorkerError>
  /** Adaptive chunk size for the next chunk of this task. */
  readonly chunkSizeFor: (task: TaskRef, remaining: number | undefined) => number
  readonly stats: Effect.Effect<PoolStats>
  /** Waits until every worker is started (and initialized); fails if the pool failed. */
  readonly awaitReady: Effect.Effect<void, WorkerError>
}

/**
 * The pool service. Provide it with `WorkerPool.layer`, `layerThreads`, `layerProcesses` or `layerInProcess`.
 *
 * @category services
 * @since 0.1.0
 */
export class WorkerPool extends Context.Service<WorkerPool, PoolService>()("effect-parallel/WorkerPool") {}
