/**
 * The wire protocol between the parent and a worker. A contract: imported by both sides, importing neither.
 *
 * Messages are plain structured-clone values (worker_threads `postMessage`, or `child_process` IPC with
 * `serialization: "advanced"`). One message carries many jobs or many replies: the parent coalesces the
 * jobs waiting for a worker, the worker coalesces replies while it still has work queued.
 *
 * @internal
 */

/** A unit of work as it travels to a worker: one task, or a chunk of items of one task (`map`). */
export interface WireJob {
  readonly id: number
  readonly module: string
  readonly name: string
  /** Encoded payloads: one for a single task, several for a chunk (numbers may come as a `Float64Array`). */
  readonly payloads: ArrayLike<unknown>
  /** Index of the first payload in its batch: `TaskContext.index` of item k is `index + k`. */
  readonly index: number
  readonly attempt: number
  readonly seed: number
  /** A chunk reports one reply with every item's result; a single task replies with one outcome. */
  readonly chunk: boolean
  /** Ask the worker to say when it starts this job (the parent then starts the job's timeout clock). */
  readonly notifyStart: boolean
  /** A chunk that runs every item whatever the others do, replying with every outcome (`mode: "result"`). */
  readonly collect: boolean
  /** The parent's span for this job, continued in the worker (present only when the caller is traced). */
  readonly trace?: WireTrace | undefined
}

export interface WireTrace {
  readonly traceId: string
  readonly spanId: string
  readonly sampled: boolean
}

/** Parent → worker. */
export type ToWorker =
  | { readonly _tag: "Run"; readonly jobs: ReadonlyArray<WireJob> }
  | { readonly _tag: "Interrupt"; readonly id: number }
  | { readonly _tag: "Close" }
  /**
   * Imports these task modules in the background, once the worker is idle (never under a running handler):
   * the pool has seen a task of theirs. An idle worker then has the module when its first task of it comes, so the first batch of a module runs on every worker at
   * once instead of one worker at a time while the others import it.
   */
  | { readonly _tag: "Warm"; readonly modules: ReadonlyArray<string> }
  /** The answer to a worker's call on a parent-hosted shared object. */
  | { readonly _tag: "Return"; readonly id: number; readonly ok: boolean; readonly value: unknown }

/** A serialized defect: an undeclared throw or die, with what survives of it. */
export interface WireDefect {
  readonly name: string
  readonly message: string
  readonly stack: string | undefined
  readonly cause: WireDefect | undefined
}

/** Why the worker could not deliver an outcome (becomes a `WorkerError` reason in the parent). */
export type WireProblem =
  | { readonly _tag: "TaskNotFound"; readonly message: string }
  | {
    readonly _tag: "CodecFailed"
    readonly direction: "payload" | "success" | "error"
    readonly path: string
    readonly message: string
  }

/** How one task ended in the worker. */
export type WireOutcome =
  | { readonly _tag: "Success"; readonly value: unknown }
  | { readonly _tag: "Failure"; readonly error: unknown }
  | { readonly _tag: "Defect"; readonly defect: WireDefect }
  | { readonly _tag: "Interrupted" }
  | { readonly _tag: "Problem"; readonly problem: WireProblem }

/**
 * A job's reply. For a chunk, `values` holds the successful items in order and `last`, when present, is the
 * outcome of the item that stopped the chunk (a failure, defect, interruption or problem).
 */
export interface WireReply {
  readonly id: number
  /** Milliseconds the worker spent on the job, measured there (feeds adaptive chunking). */
  readonly elapsed: number
  readonly outcome: WireOutcome | undefined
  /** Numbers may come as a `Float64Array`. */
  readonly values: ArrayLike<unknown> | undefined
  /** Every item's outcome, for a collecting chunk. */
  readonly outcomes?: ReadonlyArray<WireOutcome> | undefined
}

/** Worker → parent. */
export type FromWorker =
  | { readonly _tag: "Ready" }
  | { readonly _tag: "Started"; readonly id: number }
  /** A task reported its own partial progress (`TaskContext.progress`). */
  | { readonly _tag: "Progress"; readonly id: number; readonly index: number; readonly fraction: number }
  | { readonly _tag: "Done"; readonly replies: ReadonlyArray<WireReply> }
  /** An uncaught exception is about to end the worker (processes; threads report it through "error"). */
  | { readonly _tag: "Fatal"; readonly message: string }
  /**
   * The worker process is exiting with this code (sent from its "exit" hook): if it has not exited within
   * `interruptGrace` (Node can deadlock inside `process.exit`), the parent kills it (processes).
   */
  | { readonly _tag: "Exiting"; readonly code: number }
  /**
   * A call on a parent-hosted shared object (queues, managers; every shared object on processes): the
   * object's id and the request, that object's typed operation (`{ _tag, ...fields }`).
   */
  | { readonly _tag: "Call"; readonly id: number; readonly object: number; readonly request: unknown }
  /** The caller of a pending call was interrupted: the parent abandons the operation. */
  | { readonly _tag: "CallCancel"; readonly id: number }

/** What the parent hands a new worker (threads: `workerData`; processes: the first message). */
export interface WorkerBoot {
  readonly workerId: number
  /** The worker's owner token for shared objects (locks it holds, permits it took). */
  readonly owner: number
  /** Module URLs to import before saying Ready (the initializer's module among them). */
  readonly preload: ReadonlyArray<string>
  /**
   * Threads only: shared memory where the worker writes [job id, item] before each item it starts, so that
   * after a crash the parent knows exactly which item of a chunk was running; then its waits on shared
   * memory (cells `PROBE_*` of `shared/registry.ts`), read by the parent's deadlock detection.
   */
  readonly cursor?: Int32Array | undefined
}

/** Set on `globalThis` in every worker: a pool created there is almost always a missing main guard. */
export const workerMarker: unique symbol = Symbol.for("effect-parallel/worker") as never

/**
 * On `globalThis` in a worker: how many pools were refused there (a counter the pool increments). The task
 * loader compares it before and after importing a module: a module whose import started a program is one
 * without the main guard, and its tasks are refused with {@link missingGuardMessage}.
 */
export const poolRefusals: unique symbol = Symbol.for("effect-parallel/poolRefusals") as never

/** Why a pool cannot be created inside a worker, and what to do about it. */
export const missingGuardMessage = "a WorkerPool was created inside a worker. A module that defines tasks and also runs a program must " +
  "guard the program with `if (import.meta.main) { ... }`: workers import the module to find its tasks, and " +
  "without the guard every worker runs the program again. (Pass allowInWorker: true for a deliberate nested pool.)"

/** Serializes any thrown value so that it survives structured clone, keeping name, message and stack. */
export const toWireDefect = (u: unknown, depth = 0): WireDefect => {
  if (u instanceof Error) {
    const cause = (u as { cause?: unknown }).cause
    return {
      name: u.name,
      message: u.message,
      stack: u.stack,
      // depth-limited: an error whose cause chain loops must not hang the worker
      cause: cause === undefined || depth >= 8 ? undefined : toWireDefect(cause, depth + 1)
    }
  }
  let message: string
  try {
    message = typeof u === "string" ? u : JSON.stringify(u) ?? String(u)
  } catch {
    message = String(u)
  }
  return { name: "Error", message, stack: undefined, cause: undefined }
}

/** Rebuilds an `Error` from a serialized defect: same name, message and stack (the worker's stack). */
export const fromWireDefect = (d: WireDefect): Error => {
  const error = new Error(d.message, d.cause === undefined ? undefined : { cause: fromWireDefect(d.cause) })
  error.name = d.name
  if (d.stack !== undefined) error.stack = d.stack
  return error
}
