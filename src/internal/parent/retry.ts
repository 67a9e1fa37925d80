/**
 * Retry policy for tasks: crashes are retried, declared errors only when the caller marks them
 * retryable, interruptions never (Effect's `retry` never retries an interruption).
 *
 * @internal
 */
import * as Schedule from "effect/Schedule"
import { WorkerError } from "../../WorkerError.ts"

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
