/**
 * Runs one task on a worker of its own, outside any pool: Python's `multiprocessing.Process` and
 * `threading.Thread`.
 *
 * A pool runs many tasks on a few workers; tasks that wait on each other (a producer and its consumers
 * around a `SharedQueue`) deadlock on a pool smaller than the set of tasks that wait on each other. A
 * `Process` has its worker to itself, so it never waits for a free one: `Process.spawn` starts a worker
 * (a child process or a worker thread) for its one task, and the worker exits when the task ends.
 *
 * The handle is Python's: `join` (with a timeout: whether it ended), `result` (the typed value or error,
 * as a task call gives), `pid` / `threadId`, `exitCode`, `isAlive`, `terminate`. It belongs to the scope
 * `spawn` ran in: closing that scope terminates a worker still running, and returns once it is gone (R3).
 *
 * @since 0.3.0
 */
import "./internal/nodeVersion.ts"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { orFail } from "./internal/options.ts"
import { lazyImport } from "./internal/lazy.ts"
import type { Task } from "./Task.ts"
import type { WorkerError } from "./WorkerError.ts"
import type { ResourceLimits } from "./WorkerPool.ts"

/** The dedicated workers' machinery, imported on first use: see `internal/lazy.ts`. */
const machinery = lazyImport(() => import("./internal/parent/process.ts"))

const TypeId = "~effect-parallel/Process" as const

/**
 * A task running on a dedicated worker.
 *
 * @category models
 * @since 0.3.0
 */
export interface Process<A, E> {
  readonly [TypeId]: typeof TypeId
  /** The task's name. */
  readonly taskName: string
  /** `"process"` (a child process) or `"thread"` (a worker thread). */
  readonly kind: "process" | "thread"
  /** The worker's process id (`kind: "process"`); `undefined` for a thread. Python's `pid`. */
  readonly pid: number | undefined
  /** The worker's thread id (`kind: "thread"`, `worker.threadId`); `undefined` for a process. Python's `Thread.native_id`. */
  readonly threadId: number | undefined
  /**
   * Waits for the task's result: its value, its declared error, or a `WorkerError` (a crash is
   * `WorkerCrashed`, with the exit code). After {@link Process.terminate}, it ends with an interruption, as a
   * cancelled task does. Can be read any number of times.
   */
  readonly result: Effect.Effect<A, E>
  /**
   * Waits until the worker has exited (Python's `join`). With a `timeout`, gives up after that long and
   * returns whether it exited; it never kills the worker. Interruptible (R1).
   */
  readonly join: (options?: { readonly timeout?: Duration.Input | undefined }) => Effect.Effect<boolean, WorkerError>
  /**
   * The worker's exit code once it has exited, `None` while it runs (Python's `exitcode`): 0 after a task
   * that ended (even with an error: the worker itself was fine), the code of a `process.exit`, minus the
   * signal's number for a process killed by a signal (-9 for SIGKILL), 1 for a thread that was terminated.
   */
  readonly exitCode: Effect.Effect<Option.Option<number>>
  /** Whether the worker is running (Python's `is_alive`): from `spawn` until it has exited. */
  readonly isAlive: Effect.Effect<boolean>
  /**
   * Stops the task and its worker (Python's `terminate`): interrupts the task in its worker, kills the
   * worker if it does not stop within `interruptGrace` (a synchronous loop), and returns once the worker
   * has exited. Does nothing if it already has.
   */
  readonly terminate: Effect.Effect<void>
}

/**
 * Options of {@link spawn}: the kind of worker and the per-worker options a pool would give it.
 *
 * @category models
 * @since 0.3.0
 */
export interface SpawnOptions {
  /** `"thread"` (default: a worker thread) or `"process"` (a child process: its own heap, survives native crashes). */
  readonly kind?: "process" | "thread" | undefined
  /** Node flags for the worker. */
  readonly execArgv?: ReadonlyArray<string> | undefined
  /** Environment of the worker (default: the parent's). */
  readonly env?: Readonly<Record<string, string>> | undefined
  /** V8 heap limits of the worker, in megabytes. */
  readonly resourceLimits?: ResourceLimits | undefined
  /** How long an interrupted task may take to stop before its worker is killed. Default 1 second. */
  readonly interruptGrace?: Duration.Input | undefined
}

/**
 * Tells whether a value is a {@link Process}.
 *
 * @category guards
 * @since 0.3.0
 */
export const isProcess = (u: unknown): u is Process<unknown, unknown> =>
  typeof u === "object" && u !== null && (u as Record<string, unknown>)[TypeId] === TypeId

/**
 * Starts a task on a worker of its own (Python's `Process(target=f, args=...).start()`, or `Thread`).
 *
 * **When to use**
 *
 * - Tasks that wait on each other through shared objects: a producer and its consumers, two stages of a
 *   pipeline. Each has its own worker, so none waits for a free one (on a pool too small for all of them
 *   they would deadlock; the pool's `deadlockTimeout` reports that).
 * - A long-lived background job with its own lifetime (`terminate`, `join`), next to a pool's short tasks.
 * - For many independent tasks, a `WorkerPool` is cheaper: it reuses its workers.
 *
 * **Details**
 *
 * - The worker starts at once (a thread in about 0.1–0.2 s, a process a little more: each loads `effect`);
 *   `pid` / `threadId` are set when `spawn` returns. It exits when the task ends: it is never reused and
 *   never respawned.
 * - Shared objects (`SharedQueue`, `SharedLock` …) in the payload work as with pool tasks, on both kinds;
 *   a crashed worker gives back what its task held (R8).
 * - A crash (`process.exit`, out of memory, a signal) fails `result` with `WorkerError` reason
 *   `WorkerCrashed`, and `exitCode` says the code.
 * - Closing the scope `spawn` ran in terminates the worker if it still runs (R3): wait for what you need
 *   (`join`, `result`) before leaving it.
 * - Fails with a `WorkerError` when an option is invalid (`InvalidOption`, naming it) or no worker could be
 *   started for the task (`SpawnFailed`, or `CodecFailed` for a payload that does not match its schema).
 *
 * **Example** (A producer and a consumer, each on its own process)
 *
 * ```ts
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const queue = yield* SharedQueue.make(Schema.Int, { capacity: 8 })
 *   const consumer = yield* Process.spawn(Consume, { queue }, { kind: "process" })
 *   const producer = yield* Process.spawn(Produce, { queue, count: 100 }, { kind: "process" })
 *   console.log(`producer pid ${producer.pid}, consumer pid ${consumer.pid}`)
 *   yield* producer.join()
 *   const total = yield* consumer.result
 *   console.log(total, yield* consumer.exitCode) // 4950 { _tag: "Some", value: 0 }
 * }))
 * ```
 *
 * @category constructors
 * @since 0.3.0
 */
export const spawn = <T extends Task.Any>(
  task: T,
  payload: Task.Payload<T>,
  options?: SpawnOptions
): Effect.Effect<Process<Task.Success<T>, Task.Error<T> | WorkerError>, WorkerError, Scope.Scope> =>
  Effect.flatMap(machinery, (internal) =>
    Effect.map(internal.spawn<Task.Success<T>, Task.Error<T> | WorkerError>(task, payload, options), (d) => ({
      [TypeId]: TypeId,
      taskName: task.name,
      kind: d.kind,
      get pid() {
        return d.pid()
      },
      get threadId() {
        return d.threadId()
      },
      result: d.result,
      join: (options) =>
        Effect.flatMap(Effect.suspend(() => orFail(internal.joinTimeout(options?.timeout))), (millis) => d.join(millis)),
      exitCode: d.exitCode,
      isAlive: d.isAlive,
      terminate: d.terminate
    })))
