/**
 * Guards a critical section across workers: at most one holder at a time, on threads and on processes
 * (Python's `multiprocessing.Lock`).
 *
 * A lock is made in the parent within a Scope and passed to tasks in their payload (its `schema` goes in
 * the payload schema). On threads it is one cell of shared memory driven by `Atomics`, and a waiting worker
 * keeps its event loop running (`Atomics.waitAsync`); on processes the parent holds it for the worker over
 * the pool's channel. The API is the same everywhere.
 *
 * **Rules**
 * - R1: waiting to acquire is interruptible at any point and never leaves the lock taken; an interrupted
 *   waiter never keeps the release's wake-up from the next one.
 * - R8: the holder is the worker. A lock held by a worker that crashes is released at once; a task that
 *   ends without releasing it leaves it held (`withLock` is the scoped way), also when its worker retires.
 * - After the lock's scope ends, every operation fails with reason `Closed`, and pending waits are woken
 *   with it.
 *
 * **Example** (A counter updated by many workers)
 *
 * ```ts
 * export const Increment = Task.make("Increment", {
 *   module: import.meta.url,
 *   payload: Schema.Struct({ lock: SharedLock.schema, counter: SharedArray.schema, times: Schema.Number }),
 *   success: Schema.Void,
 *   run: ({ lock, counter, times }) =>
 *     Effect.forEach(Array.from({ length: times }), () =>
 *       SharedLock.withLock(lock)(Effect.flatMap(SharedArray.get(counter, 0), (n) => SharedArray.set(counter, 0, n + 1))),
 *       { discard: true })
 * })
 * ```
 *
 * @since 0.1.0
 */
import "./internal/nodeVersion.ts"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import type * as Scope from "effect/Scope"
import { withTimeout } from "./internal/shared/args.ts"
import { lazyImport } from "./internal/lazy.ts"
import { kind } from "./internal/shared/lock/protocol.ts"
import { type LockView, lockView } from "./internal/shared/lock/worker.ts"
import { type Handle, HandleKey, handleSchema, holding, isKind } from "./internal/shared/object.ts"
import type { SharedError } from "./SharedError.ts"

/** The parent side (making and hosting the object), imported on first use: see `internal/lazy.ts`. */
const parent = lazyImport(() => import("./internal/shared/lock/parent.ts"))

/**
 * @category models
 * @since 0.1.0
 */
export interface SharedLock {
  readonly [HandleKey]: Handle
  /** @internal */
  readonly ops: LockView
}

const fromHandle = (handle: Handle): SharedLock => ({ [HandleKey]: handle, ops: lockView(handle) })

/**
 * Tells whether a value is a {@link SharedLock}.
 *
 * @category guards
 * @since 0.1.0
 */
export const isSharedLock: (u: unknown) => u is SharedLock = isKind<SharedLock>(kind)

/**
 * The schema to put a lock in a task's payload.
 *
 * @category schemas
 * @since 0.1.0
 */
export const schema = handleSchema<SharedLock>(kind, isSharedLock, fromHandle)

/**
 * Makes a lock, free, that lives as long as the current scope. After the scope ends, every operation
 * fails with reason `Closed`, and every wait still pending is woken with it.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make: Effect.Effect<SharedLock, never, Scope.Scope> = Effect.map(Effect.flatMap(parent, (p) => p.makeLock), fromHandle)

/**
 * Waits until the lock is free and takes it. With `timeout`, gives up with a `SharedError` (reason
 * `Timeout`) and leaves the lock as it was; a `timeout` that is not a duration fails with reason
 * `InvalidArgument`.
 *
 * @category combinators
 * @since 0.1.0
 */
export const acquire = (
  self: SharedLock,
  options?: { readonly timeout?: Duration.Input | undefined }
): Effect.Effect<void, SharedError> => withTimeout(kind, options?.timeout, (ms) => self.ops.acquire(ms))

/**
 * Takes the lock if it is free, without waiting; tells whether it did.
 *
 * @category combinators
 * @since 0.1.0
 */
export const acquireIfAvailable = (self: SharedLock): Effect.Effect<boolean, SharedError> => self.ops.acquireIfAvailable

/**
 * Releases the lock; fails with reason `OverRelease` if this worker does not hold it.
 *
 * @category combinators
 * @since 0.1.0
 */
export const release = (self: SharedLock): Effect.Effect<void, SharedError> => self.ops.release

/**
 * Tells whether someone holds the lock now.
 *
 * @category getters
 * @since 0.1.0
 */
export const isLocked = (self: SharedLock): Effect.Effect<boolean, SharedError> => self.ops.isLocked

/**
 * Runs an effect while holding the lock: waits for it (interruptibly), runs the effect, and releases the
 * lock whatever the effect does, interruption included.
 *
 * @category combinators
 * @since 0.1.0
 */
export const withLock: {
  (self: SharedLock): <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | SharedError, R>
  <A, E, R>(effect: Effect.Effect<A, E, R>, self: SharedLock): Effect.Effect<A, E | SharedError, R>
} = dual(2, <A, E, R>(effect: Effect.Effect<A, E, R>, self: SharedLock): Effect.Effect<A, E | SharedError, R> =>
  holding((restore) => self.ops.acquire(undefined, restore), self.ops.release, effect))
