/**
 * Retry policy for tasks: crashes are retried, declared errors only when the caller marks them
 * retryable, interruptions never (Effect's `retry` never retries an interruption).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { InvalidOption, WorkerError } from "../../WorkerError.ts"
import { randomSeed } from "../random.ts"
import type { RunOptions } from "../service.ts"

/**
 * How to retry a task: a number of retries, a `Schedule`, or a policy.
 *
 * @category models
 * @since 0.1.0
 */
export type RetryOption<E = unknown> = number | Schedule.Schedule<any, any, never, never> | RetryPolicy<E>

/**
 * @category models
 * @since 0.1.0
 */
export interface RetryPolicy<E = unknown> {
  /** Retries at most this many times (not counting the first attempt). */
  readonly times?: number | undefined
  /** Spacing between attempts (e.g. `Schedule.exponential("100 millis")`); may also bound the count. */
  readonly schedule?: Schedule.Schedule<any, any, never, never> | undefined
  /**
   * Which errors to retry besides worker crashes (always retried): return true for a declared error worth
   * another attempt. `WorkerError`s other than crashes (timeouts, codec failures) are passed here too.
   */
  readonly retryable?: ((error: E | WorkerError) => boolean) | undefined
}

export interface ResolvedRetry {
  readonly times: number | undefined
  readonly schedule: Schedule.Schedule<any, any, never, never> | undefined
  readonly isRetryable: (error: unknown) => boolean
}

export const isCrash = (error: unknown): boolean => error instanceof WorkerError && error.reason._tag === "WorkerCrashed"

export const resolveRetry = (option: RetryOption<any> | undefined): ResolvedRetry | undefined => {
  if (option === undefined) return undefined
  if (typeof option === "number") {
    if (!(Number.isInteger(option) && option >= 0)) throw new TypeError(`retry must be a non-negative integer, got ${option}`)
    return option === 0 ? undefined : { times: option, schedule: undefined, isRetryable: isCrash }
  }
  if (Schedule.isSchedule(option)) return { times: undefined, schedule: option, isRetryable: isCrash }
  const retryable = option.retryable
  if (option.times !== undefined && !(Number.isInteger(option.times) && option.times >= 0)) {
    throw new TypeError(`retry.times must be a non-negative integer, got ${option.times}`)
  }
  return {
    times: option.times,
    schedule: option.schedule,
    isRetryable: retryable === undefined ? isCrash : (e) => isCrash(e) || retryable(e)
  }
}

/**
 * Runs a single task with its `retry` option: `runOnce(options, attempt)` is called for attempt
 * `firstAttempt`, then again while the policy says the failure is retryable. The seed is fixed before the
 * first attempt, so a retried task sees the same random stream (R7). An invalid `retry` fails with
 * `InvalidOption`.
 */
export const withRetry = <A>(
  options: RunOptions | undefined,
  firstAttempt: number,
  runOnce: (options: RunOptions | undefined, attempt: number) => Effect.Effect<A, unknown>
): Effect.Effect<A, unknown> => {
  if (options?.retry === undefined) return runOnce(options, firstAttempt)
  return Effect.suspend(() => {
    let policy: ResolvedRetry | undefined
    try {
      policy = resolveRetry(options.retry)
    } catch (e) {
      return Effect.fail(new WorkerError({ reason: new InvalidOption({ option: "retry", message: (e as Error).message }) }))
    }
    if (policy === undefined) return runOnce(options, firstAttempt)
    let attempt = firstAttempt - 1
    const fixed = { ...options, seed: options.seed ?? randomSeed() }
    return Effect.suspend(() => runOnce(fixed, ++attempt)).pipe(
      Effect.retry({
        while: policy.isRetryable,
        ...(policy.times === undefined ? {} : { times: policy.times }),
        ...(policy.schedule === undefined ? {} : { schedule: policy.schedule })
      })
    )
  })
}
