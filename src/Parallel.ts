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
import * as Effect from "effect/Effect"
import { cores as usableCores } from "./internal/cores.ts"
import { InvalidOption, WorkerError } from "./WorkerError.ts"

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

const resolve = (concurrency: Concurrency | undefined): number | "unbounded" | InvalidOption => {
  if (concurrency === undefined || concurrency === "cores") return usableCores()
  if (concurrency === "unbounded") return "unbounded"
  if (typeof concurrency === "number" && Number.isInteger(concurrency) && concurrency > 0) return concurrency
  return new InvalidOption({
    option: "concurrency",
    message: `concurrency must be a positive integer, "unbounded" or "cores", got ${String(concurrency)}`
  })
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
    options?: { readonly concurrency?: Concurrency | undefined; readonly discard?: false | undefined }
  ): Effect.Effect<Array<B>, E | WorkerError, R>
  <A, B, E, R>(
    items: Iterable<A>,
    f: (item: A, index: number) => Effect.Effect<B, E, R>,
    options: { readonly concurrency?: Concurrency | undefined; readonly discard: true }
  ): Effect.Effect<void, E | WorkerError, R>
} = <A, B, E, R>(
  items: Iterable<A>,
  f: (item: A, index: number) => Effect.Effect<B, E, R>,
  options?: { readonly concurrency?: Concurrency | undefined; readonly discard?: boolean | undefined }
): Effect.Effect<any, E | WorkerError, R> =>
  Effect.suspend((): Effect.Effect<any, E | WorkerError, R> => {
    const concurrency = resolve(options?.concurrency)
    if (concurrency instanceof InvalidOption) return Effect.fail(new WorkerError({ reason: concurrency }))
    return options?.discard === true
      ? Effect.forEach(items, f, { concurrency, discard: true })
      : Effect.forEach(items, f, { concurrency })
  })
