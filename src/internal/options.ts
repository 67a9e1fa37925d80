/**
 * Option validation, in one style for every option of the library: a validation function returns a
 * `Result` whose failure is an `InvalidOption` naming the option and the value
 * (`size must be a positive integer or "cores", got -1`); the boundary (a layer's constructor, a run, a
 * batch) turns a failure into a `WorkerError` with {@link orFail}. Nothing here throws.
 *
 * Also: the pool options' defaults (`resolveOptions`).
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { isTask, type Task } from "../Task.ts"
import { InvalidOption, WorkerError } from "../WorkerError.ts"
import type { PoolOptions, ResourceLimits } from "../WorkerPool.ts"
import { cores } from "./cores.ts"

/** A validated value, or the option that was wrong. */
export type Checked<A> = Result.Result<A, InvalidOption>

/** A failed validation of `option`. */
export const invalid = (option: string, message: string): Checked<never> =>
  Result.fail(new InvalidOption({ option, message }))

/** At the boundary: a failed validation fails the effect with a `WorkerError` whose reason names the option. */
export const orFail = <A>(checked: Checked<A>): Effect.Effect<A, WorkerError> =>
  Result.isSuccess(checked) ? Effect.succeed(checked.success) : Effect.fail(new WorkerError({ reason: checked.failure }))

/** A value for messages: strings quoted, objects as JSON where possible. */
export const show = (u: unknown): string => {
  if (typeof u === "string") return JSON.stringify(u)
  if (typeof u === "number" || typeof u === "boolean" || u === null || u === undefined) return String(u)
  try {
    return JSON.stringify(u) ?? String(u)
  } catch {
    return String(u)
  }
}

/** A duration option in milliseconds; `message` says what was expected (default: "`option` must be a duration"). */
export const durationMillis = (
  option: string,
  input: unknown,
  message = `${option} must be a duration, got ${String(input)}`
): Checked<number> => {
  const d = Duration.fromInput(input as Duration.Input)
  return d._tag === "None" ? invalid(option, message) : Result.succeed(Duration.toMillis(d.value))
}

/** A run's `timeout`, in milliseconds (undefined: none). */
export const timeoutMillis = (timeout: Duration.Input | undefined): Checked<number | undefined> =>
  timeout === undefined ? Result.succeed(undefined) : durationMillis("timeout", timeout)

export const isPositiveInt = (u: unknown): u is number => typeof u === "number" && Number.isInteger(u) && u > 0

/** A positive integer, `Infinity` when not given. */
const positiveIntOrInfinity = (option: string, u: unknown): Checked<number> => {
  if (u === undefined) return Result.succeed(Infinity)
  if (u === Infinity || isPositiveInt(u)) return Result.succeed(u)
  return invalid(option, `${option} must be a positive integer, got ${show(u)}`)
}

/** A non-negative duration of a pool option, in milliseconds. */
const poolMillis = (option: string, u: unknown, fallback: number): Checked<number> => {
  if (u === undefined) return Result.succeed(fallback)
  return Result.flatMap(
    durationMillis(option, u, `${option} must be a duration (e.g. "500 millis" or 500), got ${show(u)}`),
    (ms) => ms >= 0 ? Result.succeed(ms) : invalid(option, `${option} must not be negative, got ${show(u)}`)
  )
}

/** The default `deadlockTimeout`: long enough that no real hand-off between tasks looks like a deadlock. */
export const DEFAULT_DEADLOCK_TIMEOUT_MILLIS = 10_000

export interface ResolvedOptions {
  readonly size: number
  readonly maxTasksPerWorker: number
  readonly maxQueued: number
  readonly interruptGraceMillis: number
  readonly resourceLimits: ResourceLimits | undefined
  readonly initializer: { readonly task: Task.Any; readonly payload: unknown } | undefined
  readonly idleTimeoutMillis: number
  readonly execArgv: ReadonlyArray<string> | undefined
  readonly env: Readonly<Record<string, string>> | undefined
  readonly preload: ReadonlyArray<string>
  readonly prefetch: number
  /** Deadlock detection: how long all workers may stay blocked with tasks waiting; undefined: off. */
  readonly deadlockTimeoutMillis: number | undefined
  readonly onDeadlock: "warn" | "fail"
}

/** Validates a pool's options and fills in the defaults; fails naming the first bad option. */
export const resolveOptions = (options: PoolOptions | undefined): Checked<ResolvedOptions> =>
  Result.gen(function*() {
    const o = options ?? {}
    if (typeof o !== "object" || o === null) return yield* invalid("options", `options must be an object, got ${show(o)}`)
    const size = o.size === undefined || o.size === "cores" ? cores() : o.size
    if (!isPositiveInt(size)) return yield* invalid("size", `size must be a positive integer or "cores", got ${show(o.size)}`)
    let initializer: ResolvedOptions["initializer"]
    if (o.initializer !== undefined) {
      if (isTask(o.initializer)) initializer = { task: o.initializer, payload: undefined }
      else if (typeof o.initializer === "object" && o.initializer !== null && isTask(o.initializer.task)) {
        initializer = o.initializer
      } else {
        return yield* invalid("initializer", `initializer must be a Task or { task, payload }, got ${show(o.initializer)}`)
      }
    }
    if (o.execArgv !== undefined && (!Array.isArray(o.execArgv) || !o.execArgv.every((a) => typeof a === "string"))) {
      return yield* invalid("execArgv", `execArgv must be an array of strings, got ${show(o.execArgv)}`)
    }
    if (
      o.env !== undefined &&
      (typeof o.env !== "object" || o.env === null || !Object.values(o.env).every((v) => typeof v === "string"))
    ) {
      return yield* invalid("env", `env must be a record of strings, got ${show(o.env)}`)
    }
    if (o.resourceLimits !== undefined) {
      if (typeof o.resourceLimits !== "object" || o.resourceLimits === null) {
        return yield* invalid("resourceLimits", `resourceLimits must be an object, got ${show(o.resourceLimits)}`)
      }
      for (const [k, v] of Object.entries(o.resourceLimits)) {
        if (v !== undefined && !(typeof v === "number" && v > 0)) {
          return yield* invalid(`resourceLimits.${k}`, `resourceLimits.${k} must be a positive number of megabytes, got ${show(v)}`)
        }
      }
    }
    if (o.preload !== undefined && (!Array.isArray(o.preload) || !o.preload.every((u) => typeof u === "string"))) {
      return yield* invalid("preload", `preload must be an array of module URLs, got ${show(o.preload)}`)
    }
    const prefetch = o.prefetch === undefined ? 64 : o.prefetch
    if (!isPositiveInt(prefetch)) return yield* invalid("prefetch", `prefetch must be a positive integer, got ${show(o.prefetch)}`)
    const idleTimeoutMillis = yield* poolMillis("idleTimeout", o.idleTimeout, Infinity)
    const deadlockTimeoutMillis = o.deadlockTimeout === false
      ? undefined
      : yield* poolMillis("deadlockTimeout", o.deadlockTimeout, DEFAULT_DEADLOCK_TIMEOUT_MILLIS)
    const onDeadlock = o.onDeadlock ?? "warn"
    if (onDeadlock !== "warn" && onDeadlock !== "fail") {
      return yield* invalid("onDeadlock", `onDeadlock must be "warn" or "fail", got ${show(o.onDeadlock)}`)
    }
    return {
      size,
      maxTasksPerWorker: yield* positiveIntOrInfinity("maxTasksPerWorker", o.maxTasksPerWorker),
      maxQueued: yield* positiveIntOrInfinity("maxQueued", o.maxQueued),
      interruptGraceMillis: yield* poolMillis("interruptGrace", o.interruptGrace, 1000),
      resourceLimits: o.resourceLimits,
      initializer,
      idleTimeoutMillis,
      execArgv: o.execArgv,
      env: o.env,
      preload: [...new Set([...(o.preload ?? []), ...(initializer ? [initializer.task.module] : [])])],
      prefetch,
      deadlockTimeoutMillis: deadlockTimeoutMillis === Infinity ? undefined : deadlockTimeoutMillis,
      onDeadlock
    }
  })
