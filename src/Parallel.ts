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
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Result from "effect/Result"
import { cores as usableCores } from "./internal/cores.ts"
import { type Checked, invalid, isPositiveInt } from "./internal/options.ts"
import * as Progress from "./Progress.ts"
import type { Task } from "./Task.ts"
import { WorkerError } from "./WorkerError.ts"
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

/** A bad option of `forEach` is a bug in the program: it dies (the error type stays exactly `f`'s). */
const orDie = <A>(checked: Checked<A>): Effect.Effect<A> =>
  Result.isSuccess(checked) ? Effect.succeed(checked.success) : Effect.die(new WorkerError({ reason: checked.failure }))

/**
 * Applies an effectful function to every item, `concurrency` at a time, and collects the results in input
 * order (or discards them with `discard: true`, or collects every outcome with `mode: "result"`).
 *
 * **When to use**
 *
 * - I/O-bound fan-out in the parent: no workers needed, the event loop overlaps the waits.
 * - Tasks on the pool with per-item effects around them (`(i) => Render({ i }).pipe(Effect.tap(save))`).
 *   For plain task batches, `WorkerPool.map` is faster (it chunks).
 *
 * **Details**
 *
 * - Fail-fast (default): the first failure interrupts the effects still running and fails the call.
 * - `mode: "result"`: every item runs to its end and the call returns one `BatchResult` per item, in input
 *   order (`{ _tag: "Success", index, value }`, `{ _tag: "Failure", index, error }` or
 *   `{ _tag: "Defect", index, defect }`), like `WorkerPool.map`'s mode of the same name; it never fails
 *   because of an item (`WorkerPool.summarize` counts them).
 * - Interrupting the call interrupts every effect still running (R1). Default concurrency is `"cores"`.
 * - The error type is exactly `f`'s: `forEach` adds none of its own (a `WorkerError` appears only when `f`
 *   runs tasks). An invalid `concurrency` (not a positive integer, `"unbounded"` or `"cores"`) is a bug in
 *   the program and dies with a `WorkerError` whose reason is `InvalidOption`, naming the value.
 *
 * **Example** (Two slow downloads at once)
 *
 * ```ts
 * const tables = yield* Parallel.forEach(["users", "orders"], (t) => download(t), { concurrency: "unbounded" })
 * ```
 *
 * **Example** (Keep going past failures)
 *
 * ```ts
 * const results = yield* Parallel.forEach(urls, (url) => fetchPage(url), { concurrency: 8, mode: "result" })
 * const pages = results.flatMap((r) => r._tag === "Success" ? [r.value] : [])
 * ```
 *
 * @category running
 * @since 0.1.0
 */
export const forEach: {
  <A, B, E, R>(
    items: Iterable<A>,
    f: (item: A, index: number) => Effect.Effect<B, E, R>,
    options: ForEachOptions & { readonly mode: "result"; readonly discard?: false | undefined }
  ): Effect.Effect<Array<WorkerPool.BatchResult<B, E>>, never, R>
  <A, B, E, R>(
    items: Iterable<A>,
    f: (item: A, index: number) => Effect.Effect<B, E, R>,
    options?: ForEachOptions & { readonly discard?: false | undefined; readonly mode?: "fail-fast" | undefined }
  ): Effect.Effect<Array<B>, E, R>
  <A, B, E, R>(
    items: Iterable<A>,
    f: (item: A, index: number) => Effect.Effect<B, E, R>,
    options: ForEachOptions & { readonly discard: true; readonly mode?: "fail-fast" | undefined }
  ): Effect.Effect<void, E, R>
} = (<A, B, E, R>(
  items: Iterable<A>,
  f: (item: A, index: number) => Effect.Effect<B, E, R>,
  options?: ForEachOptions & { readonly discard?: boolean | undefined; readonly mode?: "fail-fast" | "result" | undefined }
): Effect.Effect<unknown, E, R> =>
  Effect.flatMap(Effect.suspend(() => orDie(checkForEach(options))), ({ concurrency, discard, mode }): Effect.Effect<any, E, R> => {
    const collect = mode === "result"
    const progress = options?.progress
    const label = progress === undefined || progress === false ? undefined : progress === true ? "forEach" : progress.label ?? "forEach"
    return Effect.flatMap(
      label === undefined ? Effect.succeed(undefined) : Effect.service(Progress.Reporter),
      (reporter) => {
        const total = Array.isArray(items) ? items.length : undefined
        let done = 0
        let failed = 0
        const report = reporter === undefined || label === undefined
          ? undefined
          : (exit: Exit.Exit<unknown, unknown>) => {
            if (Exit.isFailure(exit) && exit.cause.reasons.every((r) => r._tag === "Interrupt")) return
            done++
            if (Exit.isFailure(exit)) failed++
            reporter.report({ _tag: "Advanced", label, done, failed, total, at: Date.now() })
          }
        const tracked = report === undefined
          ? f
          : (item: A, index: number) => Effect.onExit(f(item, index), (exit) => Effect.sync(() => report(exit)))
        const each: (item: A, index: number) => Effect.Effect<unknown, E, R> = collect
          ? (item, index) => Effect.map(Effect.exit(tracked(item, index)), (exit) => toBatchResult(index, exit, 1))
          : tracked
        const all: Effect.Effect<any, E, R> = discard
          ? Effect.forEach(items, each, { concurrency, discard: true })
          : Effect.forEach(items, each, { concurrency })
        if (reporter === undefined || label === undefined) return all
        reporter.report({ _tag: "Started", label, total, at: Date.now() })
        return Effect.ensuring(
          all,
          Effect.sync(() => reporter.report({ _tag: "Finished", label, done, failed, total, at: Date.now() }))
        )
      }
    )
  })) as never

const checkForEach = (
  options: (ForEachOptions & { readonly discard?: boolean | undefined }) | undefined
): Checked<{ readonly concurrency: number | "unbounded"; readonly discard: boolean; readonly mode: "fail-fast" | "result" }> =>
  Result.flatMap(resolve(options?.concurrency), (concurrency) => {
    const mode = options?.mode ?? "fail-fast"
    if (mode !== "fail-fast" && mode !== "result") return invalid("mode", `mode must be "fail-fast" or "result", got ${String(mode)}`)
    const discard = options?.discard === true
    if (discard && mode === "result") {
      return invalid("discard", `discard: true cannot be combined with mode: "result" (which returns every item's outcome)`)
    }
    return Result.succeed({ concurrency, discard, mode })
  })

/** One item's exit as a `BatchResult` (the shape `WorkerPool.map` uses in mode "result"). */
const toBatchResult = <B, E>(index: number, exit: Exit.Exit<B, E>, attempts: number): WorkerPool.BatchResult<B, E> => {
  if (Exit.isSuccess(exit)) return { _tag: "Success", index, value: exit.value, attempts }
  const fail = exit.cause.reasons.find(Cause.isFailReason)
  if (fail !== undefined) return { _tag: "Failure", index, error: fail.error, attempts }
  const die = exit.cause.reasons.find(Cause.isDieReason)
  return { _tag: "Defect", index, defect: die !== undefined ? die.defect : Cause.squash(exit.cause), attempts }
}

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
  /**
   * `"fail-fast"` (default): the first failure interrupts the rest and fails the call. `"result"`: every
   * item runs, and the call returns one `BatchResult` per item.
   */
  readonly mode?: "fail-fast" | "result" | undefined
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
