/**
 * The `WorkerPool` service key and its shape. Kept apart from the pool's machinery so that `Task` (which
 * workers import) can refer to the service without pulling any parent-side code into a worker: every
 * import here but `Context` and `Effect` (which `Task` loads anyway) is a type.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import type { WorkerError } from "../WorkerError.ts"
import type { PoolStats, RunOptions } from "../WorkerPool.ts"
import type { TaskSchemas } from "./codec.ts"
import type { Payloads } from "./executor.ts"
import type { ResolvedRetry } from "./retry.ts"

/** What the pool needs to know of a task (a `Task` is one). */
export interface TaskRef extends TaskSchemas {
  readonly name: string
  readonly module: string
}

/** One item of a batch as it ended: its index, its exit, and the attempts it took. */
export interface Item {
  readonly index: number
  readonly exit: Exit.Exit<unknown, unknown>
  readonly attempts: number
}

/**
 * A chunk of a batch's items as they ended, compactly: the first `values.length` items (from index
 * `start`) succeeded at their first attempt (`attempts`) with these values, decoded; then `items`, each
 * with its own exit. A chunk that simply succeeded (the common case) is one array of values: no exit and
 * no item object per value.
 */
export interface ItemsRun {
  readonly start: number
  readonly values: ArrayLike<unknown>
  readonly attempts: number
  readonly items: ReadonlyArray<Item>
}

/** How the items of a batch run: its options, validated once for the whole batch. */
export interface ItemsPlan {
  readonly seed: number
  /** Run every item whatever the others do (`mode: "result"`); otherwise stop at the first unrecovered failure. */
  readonly collect: boolean
  /** The number of each item's first attempt: 1, or the client's for a cluster runner. */
  readonly attempt: number
  readonly retry: ResolvedRetry | undefined
  /** Per item, from its start; items then travel one per message, each with its own clock. */
  readonly timeoutMillis: number | undefined
  readonly onProgress: ((index: number, fraction: number) => void) | undefined
}

/** @internal the service shape (the front, `front.ts`); users reach it through the `WorkerPool` module's functions. */
export interface PoolService {
  readonly size: number
  /** One task with its options (`WorkerPool.run`, a task call). */
  readonly run: (task: TaskRef, payload: unknown, options: RunOptions<any> | undefined) => Effect.Effect<unknown, unknown>
  /** `run` inside the caller's fiber, already at hand (`runTask`: no second fiber lookup per task). */
  readonly runIn: (
    fiber: Fiber.Fiber<unknown, unknown>,
    task: TaskRef,
    payload: unknown,
    options: RunOptions<any> | undefined
  ) => Effect.Effect<unknown, unknown>
  /** `WorkerPool.submit`: waits for room in the queue (R1, R6), then returns the effect that waits for the result. */
  readonly submit: (
    task: TaskRef,
    payload: unknown,
    options: RunOptions<any> | undefined
  ) => Effect.Effect<Effect.Effect<unknown, unknown>, WorkerError>
  /**
   * Items of a batch from index `start` on, with their retries: every item (`collect`), or up to the first
   * unrecovered failure. Fails only when the pool itself cannot run them.
   */
  readonly runItems: (
    task: TaskRef,
    items: Payloads,
    start: number,
    plan: ItemsPlan
  ) => Effect.Effect<ReadonlyArray<Item>, WorkerError>
  /** `runItems` answered compactly (`ItemsRun`): what batches use. */
  readonly runChunk: (
    task: TaskRef,
    items: Payloads,
    start: number,
    plan: ItemsPlan
  ) => Effect.Effect<ItemsRun, WorkerError>
  /** Items for the next chunk of this task (adaptive). */
  readonly chunkSize: (task: TaskRef, remaining: number | undefined) => number
  readonly stats: Effect.Effect<PoolStats>
  /** Waits until every worker is started (and initialized); fails if the pool failed. */
  readonly awaitReady: Effect.Effect<void, WorkerError>
}

/**
 * The pool service. Provide it with `WorkerPool.layer`, `layerThreads`, `layerProcesses`, `layerInProcess`
 * or `layerCluster`.
 *
 * @category services
 * @since 0.1.0
 */
export class WorkerPool extends Context.Service<WorkerPool, PoolService>()("effect-parallel/WorkerPool") {}

/**
 * Runs one task on the current fiber's pool (a task call, `WorkerPool.run`): the service lookup and the
 * run share one `withFiber`, where `WorkerPool.use` and the run would each ask for the fiber. Without a
 * pool in the context it dies as `WorkerPool.use` does (the service is missing).
 */
export const runTask = (
  task: TaskRef,
  payload: unknown,
  options: RunOptions<any> | undefined
): Effect.Effect<unknown, unknown, WorkerPool> =>
  Effect.withFiber((fiber) => Context.get(fiber.context as Context.Context<WorkerPool>, WorkerPool).runIn(fiber, task, payload, options))
