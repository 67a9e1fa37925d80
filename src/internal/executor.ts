/**
 * The executor contract: what a backend must do for the front (`front.ts`, the one Effect face of every
 * pool), and nothing else. An executor runs payloads that are already encoded, one task or a chunk of a
 * batch, and answers with each item's outcome, still encoded; it does not parse options, retry, trace,
 * decode or count. Two executors meet it: the local pool over `PoolCore` (`parent/pool.ts`: threads,
 * processes, in-process) and the cluster client (`cluster/client.ts`: messages to runners).
 *
 * @internal
 */
import type * as Effect from "effect/Effect"
import type { WorkerError } from "../WorkerError.ts"
import type { PoolStats } from "../WorkerPool.ts"
import type { TaskCodec } from "./codec.ts"
import type { WireOutcome, WireTrace } from "./protocol.ts"
import type { TaskRef } from "./service.ts"
import type { Transferable } from "node:worker_threads"

/**
 * A chunk's payloads: an array, or numbers in a `Float64Array` when a batch cut them from an array of numbers
 * (`batch.ts`: one pass over the input, no slice of it; the local wire sends the array as it is).
 */
export type Payloads = ReadonlyArray<unknown> | Float64Array

/** One task, or a chunk of items of one task, to run. */
export interface Execution {
  readonly task: TaskRef
  /** Payloads encoded with the executor's codec: one for a single task, several for a chunk. */
  readonly items: Payloads
  /** `TaskContext.index` of the first item (item k has `index + k`). */
  readonly index: number
  readonly seed: number
  /** `TaskContext.attempt` (1 for a first attempt). */
  readonly attempt: number
  /**
   * `"single"`: one task, which may have a timeout; `"values"`: a fail-fast chunk (it stops at its first
   * failure); `"exits"`: a chunk that runs every item and reports each one's outcome (`mode: "result"`).
   */
  readonly mode: "single" | "values" | "exits"
  /** Counted from the task's start in its worker (single tasks only). */
  readonly timeoutMillis: number | undefined
  /** The caller's span, to continue where the task runs (only when the caller is traced). */
  readonly trace: WireTrace | undefined
  /** Buffers to move instead of copying, where the transport can. */
  readonly transfer: ReadonlyArray<Transferable> | undefined
  /** A task's own progress reports (`TaskContext.progress`), where the transport carries them. */
  readonly onProgress: ((index: number, fraction: number) => void) | undefined
}

/** How one item ended, still encoded: the worker protocol's outcomes, or a `WorkerError` made on the way. */
export type ItemOutcome = WireOutcome | { readonly _tag: "WorkerError"; readonly error: WorkerError }

/**
 * How an execution ended. A single task is a chunk of one: `Exits` with one outcome, `Crashed` or `Failed`.
 * `elapsed`, where the executor knows it, is the milliseconds the worker spent on the execution (measured
 * there: no queueing, no transport); the front ignores it, a cluster runner reports it to its client.
 */
export type ChunkOutcome =
  /**
   * Fail-fast chunk: the encoded values of the items that succeeded, in order (an array, or a
   * `Float64Array` when the transport packed numbers), and the outcome that stopped it.
   */
  | {
    readonly _tag: "Values"
    readonly values: ArrayLike<unknown>
    readonly stop: ItemOutcome | undefined
    readonly elapsed?: number | undefined
  }
  /** Every item's outcome, in order (a collecting chunk, or a single task). */
  | { readonly _tag: "Exits"; readonly exits: ReadonlyArray<ItemOutcome>; readonly elapsed?: number | undefined }
  /** The worker died during the execution; `item` is the one that was running, when the executor can tell. */
  | { readonly _tag: "Crashed"; readonly error: WorkerError; readonly item: number | undefined }
  /**
   * The execution as a whole could not run or did not end with its items' outcomes: the pool closed or
   * failed, a single task's timeout, a payload the transport refused, an unreachable cluster.
   */
  | { readonly _tag: "Failed"; readonly error: WorkerError }

/**
 * What the executor knows of its workers; the front adds the task counts (completed, failed, retried), and
 * no blocked worker and no deadlock where the executor cannot see shared-object waits.
 */
export type ExecutorStats =
  & Omit<PoolStats, "completed" | "failed" | "retried" | "blocked" | "deadlock">
  & Partial<Pick<PoolStats, "blocked" | "deadlock">>

/**
 * A transport's codecs, cached per task, whose payload encoding runs inside `context`: how the transport
 * tells a shared object's schema what it may carry (its memory, a reference to the parent, or nothing when
 * it leaves the machine).
 */
export const codecsWithin = (
  codecOf: (task: TaskRef) => TaskCodec,
  context: <A>(encode: () => A) => A
): (task: TaskRef) => TaskCodec => {
  const cache = new WeakMap<TaskRef, TaskCodec>()
  return (task) => {
    let codec = cache.get(task)
    if (codec === undefined) {
      const own = codecOf(task)
      codec = { ...own, encodePayload: (payload) => context(() => own.encodePayload(payload)) }
      cache.set(task, codec)
    }
    return codec
  }
}

/** How the front concludes an execution from its outcome (decoding, counting, what comes next). */
export type Conclude<A, E> = (outcome: ChunkOutcome, execution: Execution) => Effect.Effect<A, E>

export interface Executor {
  readonly backend: PoolStats["backend"]
  /** Parallelism to plan for (workers, or messages in flight). */
  readonly size: number
  /** The task's codecs for this executor's transport (structured clone, or JSON for messages that are stored). */
  readonly codec: (task: TaskRef) => TaskCodec
  /**
   * Runs an execution and continues with `conclude` of how it ended (an outcome, never a failure: see
   * `Failed`); interrupting the effect interrupts the execution where it runs and returns once it has
   * stopped (R1, R2). The continuation is the front's: an executor that waits through a callback resumes
   * the caller with it directly, which saves the hot path an effect per task.
   */
  readonly execute: <A, E>(execution: Execution, conclude: Conclude<A, E>) => Effect.Effect<A, E>
  /**
   * Admission, for executors with a bounded queue (`maxQueued`): waits for room (interruptibly, R1, R6),
   * then returns the effect that waits for the outcome and concludes. Without it, the front admits at once.
   */
  readonly admit?:
    | (<A, E>(execution: Execution, conclude: Conclude<A, E>) => Effect.Effect<Effect.Effect<A, E>>)
    | undefined
  /** Items for the next chunk of this task (adaptive, `policy.ts`); `remaining` is known for arrays. */
  readonly chunkSize: (task: TaskRef, remaining: number | undefined) => number
  readonly stats: () => ExecutorStats
  /** Waits until every worker (or runner) is ready; fails if the executor cannot run tasks. */
  readonly awaitReady: Effect.Effect<void, WorkerError>
}
