/**
 * Arguments of shared-object operations, checked at the boundary: a bad one is a typed `SharedError`
 * (reason `InvalidArgument`, naming the argument), never a raw exception. "No timeout" is `undefined`,
 * everywhere, on the wire too.
 *
 * The checks are plain functions returning the value or the error (no effect is built on the path of a
 * good argument: an uncontended lock costs well under a microsecond, and the check must not double it).
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { SharedError } from "../../SharedError.ts"
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
 * A `timeout` option in milliseconds: `undefined` when none was given (or it is infinite); the error when
 * it is not a duration or is negative.
 */
export const parseTimeout = (object: string, timeout: Duration.Input | undefined): number | undefined | SharedError => {
  if (timeout === undefined) return undefined
  if (typeof timeout === "number" && timeout >= 0) return timeout === Infinity ? undefined : timeout
  const d = typeof timeout === "number" && Number.isNaN(timeout) ? undefined : Duration.fromInput(timeout)
  if (d === undefined || d._tag === "None") {
    return invalidArgumentError(object, "timeout", `timeout must be a duration (e.g. "500 millis" or 500), got ${show(timeout)}`)
  }
  const ms = Duration.toMillis(d.value)
  if (ms < 0) return invalidArgumentError(object, "timeout", `timeout must not be negative, got ${show(timeout)}`)
  return ms === Infinity ? undefined : ms
}

/** A number of permits: a positive integer (default 1); else the error. */
export const parsePermits = (object: string, n: number | undefined): number | SharedError => {
  if (n === undefined) return 1
  return Number.isInteger(n) && n > 0 ? n : invalidArgumentError(object, "permits", `permits must be a positive integer, got ${show(n)}`)
}

/** Runs `f` with the parsed timeout, or fails with the error. */
export const withTimeout = <A, E, R>(
  object: string,
  timeout: Duration.Input | undefined,
  f: (millis: number | undefined) => Effect.Effect<A, E, R>
): Effect.Effect<A, E | SharedError, R> => {
  // the common case, no timeout, builds nothing more
  if (timeout === undefined) return f(undefined)
  const ms = parseTimeout(object, timeout)
  return ms instanceof SharedError ? Effect.fail(ms) : f(ms)
}
