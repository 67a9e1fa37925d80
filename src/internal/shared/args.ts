/**
 * Arguments of shared-object operations, checked at the boundary: a bad one is a typed `SharedError`
 * (reason `InvalidArgument`, naming the argument), never a raw exception. "No timeout" is `undefined`,
 * everywhere, on the wire too.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { SharedError } from "../../SharedError.ts"
import { invalidArgumentError } from "./errors.ts"

const show = (u: unknown): string => {
  if (typeof u === "number" || typeof u === "bigint") return String(u)
  try {
    return JSON.stringify(u) ?? String(u)
  } catch {
    return String(u)
  }
}

/**
 * A `timeout` option in milliseconds: `undefined` when none was given (or it is infinite); a typed error
 * when it is not a duration or is negative.
 */
export const timeoutMillis = (object: string, timeout: Duration.Input | undefined): Effect.Effect<number | undefined, SharedError> =>
  Effect.suspend(() => {
    if (timeout === undefined) return Effect.succeed(undefined)
    const d = typeof timeout === "number" && Number.isNaN(timeout) ? undefined : Duration.fromInput(timeout)
    if (d === undefined || d._tag === "None") {
      return Effect.fail(invalidArgumentError(object, "timeout", `timeout must be a duration (e.g. "500 millis" or 500), got ${show(timeout)}`))
    }
    const ms = Duration.toMillis(d.value)
    if (ms < 0) return Effect.fail(invalidArgumentError(object, "timeout", `timeout must not be negative, got ${show(timeout)}`))
    return Effect.succeed(ms === Infinity ? undefined : ms)
  })

/** A number of permits: a positive integer (default 1). */
export const permitCount = (object: string, n: number | undefined): Effect.Effect<number, SharedError> => {
  const k = n ?? 1
  return Number.isInteger(k) && k > 0
    ? Effect.succeed(k)
    : Effect.fail(invalidArgumentError(object, "permits", `permits must be a positive integer, got ${show(n)}`))
}
