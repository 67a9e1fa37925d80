/**
 * The retry policy and its one loop, for every pool (the front runs single tasks, submitted tasks and a
 * batch's items through it): crashes are retried, declared errors only when the caller marks them
 * retryable, interruptions never (Effect's `retry` never retries an interruption).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import { WorkerError } from "../WorkerError.ts"
import type { RetryOption } from "../WorkerPool.ts"
import { type Checked, invalid } from "./options.ts"

export interface ResolvedRetry {
  readonly times: number | undefined
  readonly schedule: Schedule.Schedule<any, any, never, never> | undefined
  readonly isRetryable: (error: unknown) => boolean
}

export const isCrash = (error: unknown): boolean => error instanceof WorkerError && error.reason._tag === "WorkerCrashed"

const isCount = (n: unknown): boolean => typeof n === "number" && Number.isInteger(n) && n >= 0

/** Validates a `retry` option; `undefined` when nothing is to be retried. */
export const resolveRetry = (option: RetryOption<any> | undefined): Checked<ResolvedRetry | undefined> => {
  if (option === undefined) return Result.succeed(undefined)
  if (typeof option === "number") {
    if (!isCount(option)) return invalid("retry", `retry must be a non-negative integer, got ${option}`)
    return Result.succeed(option === 0 ? undefined : { times: option, schedule: undefined, isRetryable: isCrash })
  }
  if (Schedule.isSchedule(option)) return Result.succeed({ times: undefined, schedule: option, isRetryable: isCrash })
  if (option.times !== undefined && !isCount(option.times)) {
    return invalid("retry", `retry.times must be a non-negative integer, got ${option.times}`)
  }
  const retryable = option.retryable
  return Result.succeed({
    times: option.times,
    schedule: option.schedule,
    isRetryable: retryable === undefined ? isCrash : (e) => isCrash(e) || retryable(e)
  })
}

/** How an item ended after its retries, and how many attempts it took. */
export interface Retried<A, E> {
  readonly exit: Exit.Exit<A, E>
  readonly attempts: number
}

/**
 * The retry loop: runs `once(attempt)` from attempt `first`, and again, with the next attempt number,
 * while `policy` says the failure is retryable. `made`, when given, is attempt `first` already made
 * elsewhere (a chunk's item, an admitted job): its outcome counts as that attempt, and only the retries run
 * here. The caller keeps the seed of every attempt (R7: a retried task sees the same random stream).
 */
export const retrying = <A, E>(
  policy: ResolvedRetry,
  first: number,
  once: (attempt: number) => Effect.Effect<A, E>,
  made?: Effect.Effect<A, E> | undefined
): Effect.Effect<Retried<A, E>> =>
  Effect.suspend(() => {
    let attempt = first - 1
    let pending = made
    const next = Effect.suspend(() => {
      attempt++
      if (pending === undefined) return once(attempt)
      const p = pending
      pending = undefined
      return p
    })
    return Effect.map(
      Effect.exit(next.pipe(Effect.retry({
        while: policy.isRetryable,
        ...(policy.times === undefined ? {} : { times: policy.times }),
        ...(policy.schedule === undefined ? {} : { schedule: policy.schedule })
      }))),
      (exit) => ({ exit, attempts: attempt })
    )
  })
