/**
 * The error of shared objects (locks, semaphores, events, conditions, barriers, queues, pipes, arrays,
 * managers): what went wrong with the object, not with the task that used it.
 *
 * @since 0.1.0
 */
import "./internal/nodeVersion.ts"
import * as Schema from "effect/Schema"

/**
 * An operation on a shared object could not be done. `reason` says why:
 * - `Closed`: the scope that created the object has ended;
 * - `OverRelease`: a bounded semaphore was released more than it was acquired, or a lock not held;
 * - `Ended`: a queue was ended and is empty (or an offer came after the end), or a pipe was closed;
 * - `Timeout`: a wait with a timeout gave up (the object is unchanged);
 * - `Unsupported`: the operation needs shared memory and the worker is a process;
 * - `Broken`: a barrier was broken (aborted, reset while waited on, a party timed out, was interrupted or
 *   died, or its action failed): every party waiting on it, and every later `await`, fails.
 *
 * @category errors
 * @since 0.1.0
 */
export class SharedError extends Schema.TaggedError<SharedError>()("SharedError", {
  object: Schema.String,
  reason: Schema.Literals(["Closed", "OverRelease", "Ended", "Timeout", "Unsupported", "Broken"]),
  message: Schema.String
}) {}

/**
 * Tells whether a value is a {@link SharedError}.
 *
 * @category guards
 * @since 0.1.0
 */
export const isSharedError = (u: unknown): u is SharedError => u instanceof SharedError
