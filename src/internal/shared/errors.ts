/**
 * The `SharedError`s shared objects fail with, one constructor per reason, so that messages read the same
 * everywhere.
 *
 * @internal
 */
import {
  Broken,
  Closed,
  Ended,
  InvalidArgument,
  InvalidValue,
  OverRelease,
  SharedError,
  type SharedErrorReason,
  Timeout,
  Unsupported
} from "../../SharedError.ts"

export const closedError = (object: string) =>
  new SharedError({ object, reason: new Closed({ message: `the ${object} was closed: the scope that made it has ended` }) })

export const timeoutError = (object: string, millis: number, what = `the ${object}`) =>
  new SharedError({ object, reason: new Timeout({ timeoutMillis: millis, message: `gave up waiting for ${what} after ${millis} ms` }) })

export const endedError = (object: string, message: string) => new SharedError({ object, reason: new Ended({ message }) })

export const overReleaseError = (object: string, message: string) => new SharedError({ object, reason: new OverRelease({ message }) })

export const brokenError = (object: string, message: string) => new SharedError({ object, reason: new Broken({ message }) })

export const unsupportedError = (object: string, message: string) => new SharedError({ object, reason: new Unsupported({ message }) })

export const invalidValueError = (object: string, message: string) => new SharedError({ object, reason: new InvalidValue({ message }) })

export const invalidArgumentError = (object: string, argument: string, message: string) =>
  new SharedError({ object, reason: new InvalidArgument({ argument, message }) })

/** Whether `e` is a `SharedError` with that reason. */
export const hasReason = (e: unknown, tag: SharedErrorReason["_tag"]): e is SharedError =>
  e instanceof SharedError && e.reason._tag === tag
