/**
 * Runs many effects at once with a bound, in the parent: tasks on the pool, or plain I/O.
 *
 * `Parallel.forEach` is the one-liner for "do this for every item, N at a time": it works for any effect,
 * so the same call fans out I/O-bound work (HTTP requests, file reads) with no workers at all, or
 * CPU-bound tasks onto the pool (`(i) => Render({ i })`). `"cores"` means the usable cores of this
 * machine, cgroup CPU quota honoured.
 *
 * @since 0.1.0
 */
import "./internal/nodeVersion.ts"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Result from "effect/Result"
import { cores as usableCores } from "./internal/cores.ts"
import { type Checked, invalid, isPositiveInt, orFail } from "./internal/options.ts"
import * as Progress from "./Progress.ts"
import type { Task } from "./Task.ts"
import type { WorkerError } from "./WorkerError.ts"
import * as WorkerPool from "./WorkerPool.ts"

/**
 * How many effects run at once.
 *
 * @category models
 * @since 0.1.0
 */
export type Concurrency = number | "unbounded" | "cores"

/**
 * The number of cores this process can really use: `os.availableParallelism()`, bounded by the cgroup CPU
 * quota (a container limited to 2 CPUs gets 2).
 *
 * @category getters
 * @since 0.1.0
 */
export const cores: Effect.Effect<number> = Effect.sync(usableCores)

const resolve = (concurrency: Concurrency | undefined): Checked<number | "unbounded"> => {
  if (concurrency === undefined || concurrency === "cores") return Result.succeed(usableCores())
  if (concurrency === "unbounded" || isPositiveInt(concurrency)) return Result.succeed(concurrency)
  return invalid("concurrency", `concurrency must be a positive integer, "unbounded" or "cores", got ${String(concurrency)}`)
}

/**
 * Applies an effectful function to every item, `concurrency` at a time, and collects the results in input
 * order (or discards them with `discard: true`).
 *
 * **When to use**
 *
 * - I/O-bound fan-out in the parent: no workers needed, the event loop overlaps the waits.
 * - Tasks on the pool with per-item effects around them (`(i) => Render({ i }).pipe(Effect.tap(save))`).
 *   For plain task batches, `WorkerPool.map` is faster (it chunks).
 *
 * **Details**
 *
 * The first failure interrupts the effects still running (fail-fast), and interrupting the call interrupts
 * them all (R1). Default concurrency is `"cores"`.
 *
 * **Example** (Two slow downloads at once)
 *
 * ```ts
 * const tables = yield* Parallel.forEach(["users", "orders"], (t) => download(t), { concurrency: "unbounded" })
 * ```
 *
 * @category running
 * @since 0.1.0
 */
export const forEach: {
  <A, B, E, R>(
    items: Iterable<A>,
    f: (item: A, index: number) => Effect.Effect<B, E, R>,
    options?: ForEachOptions & { readonly discard?: false | undefined }
  ): Effect.Effect<Array<B>, E | WorkerError, R>
  <A, B, E, R>(
    items: Iterable<A>,
    f: (item: A, index: number) => Effect.Effect<B, E, R>,
    options: ForEachOptions & { readonly discard: true }
  ): Effect.Effect<void, E | WorkerError, R>
} = <A, B, E, R>(
  items: Iterable<A>,
  f: (item: A, index: number) => Effect.Effect<B, E, R>,
  options?: ForEachOptions & { readonly discard?: boolean | undefined }
): Effect.Effect<any, E | WorkerError, R> =>
  Effect.flatMap(Effect.suspend(() => orFail(resolve(options?.concurrency))), (concurrency): Effect.Effect<any, E | WorkerError, R> => {
    const progress = options?.progress
    if (progress === undefined || progress === false) {
      return options?.discard === true
        ? Effect.forEach(items, f, { concurrency, discard: true })
        : Effect.forEach(items, f, { concurrency })
    }
    const label = progress === true ? "forEach" : progress.label ?? "forEach"
    return Effect.flatMap(Effect.service(Progress.Reporter), (reporter) => {
      const total = Array.isArray(items) ? items.length : undefined
      let done = 0
      let failed = 0
      const tracked = (item: A, index: number) =>
        Effect.onExit(f(item, index), (exit) =>
          Effect.sync(() => {
            if (Exit.isFailure(exit) && exit.cause.reasons.every((r) => r._tag === "Interrupt")) return
            done++
            if (Exit.isFailure(exit)) failed++
            reporter.report({ _tag: "Advanced", label, done, failed, total, at: Date.now() })
          }))
      reporter.report({ _tag: "Started", label, total, at: Date.now() })
      const all = options?.discard === true
        ? Effect.forEach(items, tracked, { concurrency, discard: true })
        : Effect.forEach(items, tracked, { concurrency })
      return Effect.ensuring(
        all,
        Effect.sync(() => reporter.report({ _tag: "Finished", label, done, failed, total, at: Date.now() }))
      )
    })
  })

/**
 * Options of {@link forEach}.
 *
 * @category models
 * @since 0.1.0
 */
export interface ForEachOptions {
  /** How many effects run at once: a number, `"unbounded"`, or `"cores"` (default). */
  readonly concurrency?: Concurrency | undefined
  /** Show progress (a bar on a TTY, plain lines otherwise), or send it to `Progress.Reporter`. */
  readonly progress?: boolean | { readonly label?: string | undefined } | undefined
}

/**
 * Turns a task into a function over a whole sequence: `Parallel.fn(IsPrime)(numbers)` runs `IsPrime` on
 * every number on the pool in context and returns the results in order (the "`f.parallel(sequence)`"
 * idea). It is `WorkerPool.map` with the task fixed.
 *
 * **Example**
 *
 * ```ts
 * const isPrimeAll = Parallel.fn(IsPrime)
 * const flags = yield* isPrimeAll(numbers, { chunkSize: "auto" })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const fn = <T extends Task.Any>(task: T) =>
(
  items: Iterable<Task.Payload<T>>,
  options?: WorkerPool.BatchOptions & { readonly mode?: "fail-fast" | undefined }
): Effect.Effect<Array<Task.Success<T>>, Task.Error<T> | WorkerError, WorkerPool.WorkerPool> =>
  WorkerPool.map(task, items, options)
