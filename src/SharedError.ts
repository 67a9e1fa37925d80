/**
 * The error of shared objects (locks, semaphores, events, conditions, barriers, queues, pipes, arrays,
 * managers): what went wrong with the object, not with the task that used it.
 *
 * A `SharedError` names the object (`object`: `"SharedLock"`, `"SharedQueue"`, …) and carries a `reason`
 * that says why; each reason is a `Schema.TaggedError`, as `WorkerError`'s are, so a `SharedError` keeps
 * its class when it crosses a thread or a process, and `Effect.catchReason` picks one reason out.
 *
 * **Example** (A consumer stops when the queue ends)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { SharedQueue } from "effect-parallel"
 *
 * const next = (queue: SharedQueue.SharedQueue<string>) =>
 *   SharedQueue.take(queue).pipe(
 *     Effect.map((job) => job as string | undefined),
 *     Effect.catchReason("SharedError", "Ended", () => Effect.succeed(undefined))
 *   )
 * ```
 *
 * @since 0.1.0
 */
import "./internal/nodeVersion.ts"
import * as Schema from "effect/Schema"

/**
 * The scope that made the object has ended: every operation fails with it, and every wait still pending
 * at that moment is woken with it.
 *
 * @category errors
 * @since 0.2.0
 */
export class Closed extends Schema.TaggedError<Closed>()("Closed", {
  message: Schema.String
}) {}

/**
 * A release of something not held: a lock this worker (or, for a `SharedRLock`, this fiber) does not
 * hold, a bounded semaphore released beyond its bound, `taskDone` called more times than items were
 * offered.
 *
 * @category errors
 * @since 0.2.0
 */
export class OverRelease extends Schema.TaggedError<OverRelease>()("OverRelease", {
  message: Schema.String
}) {}

/**
 * The queue was ended and is empty (or an offer came after the end, or waited for room when it ended), or
 * the pipe was closed.
 *
 * @category errors
 * @since 0.2.0
 */
export class Ended extends Schema.TaggedError<Ended>()("Ended", {
  message: Schema.String
}) {}

/**
 * A wait with a `timeout` gave up; the object is unchanged.
 *
 * @category errors
 * @since 0.2.0
 */
export class Timeout extends Schema.TaggedError<Timeout>()("Timeout", {
  timeoutMillis: Schema.Number,
  message: Schema.String
}) {}

/**
 * The operation needs shared memory and the worker is a process (`SharedArray.view`).
 *
 * @category errors
 * @since 0.2.0
 */
export class Unsupported extends Schema.TaggedError<Unsupported>()("Unsupported", {
  message: Schema.String
}) {}

/**
 * The barrier is broken (aborted, reset while waited on, a party timed out, was interrupted or died, or
 * its action failed): every party waiting on it, and every later `await`, fails until `reset`.
 *
 * @category errors
 * @since 0.2.0
 */
export class Broken extends Schema.TaggedError<Broken>()("Broken", {
  message: Schema.String
}) {}

/**
 * A value does not match the object's schema: an item offered to a typed queue or sent into a pipe, a key
 * or value set in a `Manager`, or one read back that the reader's schema cannot decode. `message` is the
 * schema's issue, which names the field.
 *
 * @category errors
 * @since 0.2.0
 */
export class InvalidValue extends Schema.TaggedError<InvalidValue>()("InvalidValue", {
  message: Schema.String
}) {}

/**
 * An argument the object cannot use: a `timeout` that is not a duration, a permit count that is not a
 * positive integer. `argument` names it and `message` says what was expected.
 *
 * @category errors
 * @since 0.2.0
 */
export class InvalidArgument extends Schema.TaggedError<InvalidArgument>()("InvalidArgument", {
  argument: Schema.String,
  message: Schema.String
}) {}

/**
 * Every reason a {@link SharedError} can carry.
 *
 * @category models
 * @since 0.2.0
 */
export const SharedErrorReason = Schema.Union([Closed, OverRelease, Ended, Timeout, Unsupported, Broken, InvalidValue, InvalidArgument])

/**
 * @category models
 * @since 0.2.0
 */
export type SharedErrorReason = typeof SharedErrorReason.Type

/**
 * An operation on a shared object could not be done. `object` names the kind of object, `reason` says
 * why (see each reason: `Closed`, `OverRelease`, `Ended`, `Timeout`, `Unsupported`, `Broken`,
 * `InvalidValue`, `InvalidArgument`); `reason._tag` is its name.
 *
 * **Example** (Giving up on a lock after a while)
 *
 * ```ts
 * const tryWrite = SharedLock.withLock(lock)(write).pipe(
 *   Effect.catchReason("SharedError", "Timeout", (t) => Effect.logWarning(`lock busy for ${t.timeoutMillis} ms`))
 * )
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class SharedError extends Schema.TaggedError<SharedError>()("SharedError", {
  object: Schema.String,
  reason: SharedErrorReason
}) {
  override get message(): string {
    return `${this.object}: ${this.reason.message}`
  }
}

/**
 * Tells whether a value is a {@link SharedError}.
 *
 * @category guards
 * @since 0.1.0
 */
export const isSharedError = (u: unknown): u is SharedError => u instanceof SharedError
