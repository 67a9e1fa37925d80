/**
 * The measurement loop behind `Speedup.measure`: option checks, one fresh pool per configuration, warm-up,
 * timed repeats.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Parallel from "../../Parallel.ts"
import type { Options, Report } from "../../Speedup.ts"
import { InvalidOption, WorkerError } from "../../WorkerError.ts"
import * as WorkerPool from "../../WorkerPool.ts"
import { makeReport } from "./report.ts"

/** 1, 2, 4, … below `cores`, then `cores` itself. */
export const defaultWorkers = (cores: number): Array<number> => {
  const out: Array<number> = []
  for (let p = 1; p < cores; p *= 2) out.push(p)
  out.push(Math.max(1, cores))
  return out
}

const invalid = (option: string, message: string) =>
  Effect.fail(new WorkerError({ reason: new InvalidOption({ option, message }) }))

const isPositiveInt = (u: unknown): u is number => typeof u === "number" && Number.isInteger(u) && u > 0

const show = (u: unknown): string => {
  try {
    return JSON.stringify(u) ?? String(u)
  } catch {
    return String(u)
  }
}

const now = Effect.sync(() => performance.now())

/**
 * Runs `effect` once untimed (if `warmup`), then `repeats` times with `performance.now()` around each run.
 * `performance.now()` rather than `Clock`: the wall clock is what we measure, even under a test clock.
 */
const sample = <E, R>(effect: Effect.Effect<unknown, E, R>, repeats: number, warmup: boolean) =>
  Effect.gen(function*() {
    if (warmup) yield* effect
    const millis: Array<number> = []
    for (let i = 0; i < repeats; i++) {
      const start = yield* now
      yield* effect
      millis.push((yield* now) - start)
    }
    return millis
  })

type Make = (options?: WorkerPool.PoolOptions) => ReturnType<typeof WorkerPool.makeThreads>

/**
 * Samples `run` on a pool built by `make` in a scope of its own: the pool is started (`awaitReady`) before
 * the warm-up and closed, every worker ended, before this returns, so that no two configurations compete.
 */
const onPool = <E, R>(
  make: Make,
  size: number,
  preload: ReadonlyArray<string>,
  run: Effect.Effect<unknown, E, R | WorkerPool.WorkerPool>,
  repeats: number,
  warmup: boolean
): Effect.Effect<Array<number>, E | WorkerError, Exclude<R, WorkerPool.WorkerPool>> =>
  Effect.scoped(
    Effect.gen(function*() {
      const pool = yield* make({ size, preload })
      return yield* Effect.provideService(
        Effect.andThen(WorkerPool.awaitReady, sample(run, repeats, warmup)),
        WorkerPool.WorkerPool,
        pool
      )
    })
  ) as Effect.Effect<Array<number>, E | WorkerError, Exclude<R, WorkerPool.WorkerPool>>

export const measureReport = <E, R>(
  options: Options<E, R>
): Effect.Effect<Report, E | WorkerError, Exclude<R, WorkerPool.WorkerPool>> =>
  Effect.gen(function*() {
    const cores = yield* Parallel.cores
    const workers = options.workers ?? defaultWorkers(cores)
    if (!Array.isArray(workers) || workers.length === 0 || !workers.every(isPositiveInt)) {
      return yield* invalid("workers", `workers must be a non-empty array of positive integers, got ${show(workers)}`)
    }
    const repeats = options.repeats ?? 3
    if (!isPositiveInt(repeats)) {
      return yield* invalid("repeats", `repeats must be a positive integer, got ${show(repeats)}`)
    }
    const backend = options.backend ?? "threads"
    if (backend !== "threads" && backend !== "processes") {
      return yield* invalid("backend", `backend must be "threads" or "processes", got ${show(backend)}`)
    }
    const baseline = options.baseline ?? "in-process"
    if (typeof baseline === "string" && baseline !== "in-process" && baseline !== "one-worker") {
      return yield* invalid("baseline", `baseline must be "in-process", "one-worker" or an effect, got ${show(baseline)}`)
    }
    const warmup = options.warmup ?? true
    const preload = options.preload ?? []
    const make: Make = backend === "threads" ? WorkerPool.makeThreads : WorkerPool.makeProcesses

    const baselineMillis = yield* (baseline === "in-process"
      ? onPool(WorkerPool.makeInProcess, 1, preload, options.run, repeats, warmup)
      : baseline === "one-worker"
      ? onPool(make, 1, preload, options.run, repeats, warmup)
      : sample(baseline, repeats, warmup))

    const runs: Array<{ workers: number; millis: ReadonlyArray<number> }> = []
    for (const size of [...new Set(workers)].sort((a, b) => a - b)) {
      runs.push({ workers: size, millis: yield* onPool(make, size, preload, options.run, repeats, warmup) })
    }

    return makeReport({
      label: options.label ?? "batch",
      baseline: typeof baseline === "string" ? baseline : "custom",
      backend,
      cores,
      baselineMillis,
      runs
    })
  }) as Effect.Effect<Report, E | WorkerError, Exclude<R, WorkerPool.WorkerPool>>
