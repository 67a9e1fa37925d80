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
 * - R1: waiting to acquire is interruptible at any point and never leaves the lock taken.
 * - R8: a lock held by a worker that dies is released.
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
import * as Effect from "effect/Effect"
import { dual, identity } from "effect/Function"
import type * as Scope from "effect/Scope"
import type * as Duration from "effect/Duration"
import {
  LOCK_CELLS,
  lockAcquire,
  lockAcquireIfAvailable,
  lockHeldBy,
  lockIsLocked,
  lockOwnerCrashed,
  lockRelease,
  type Restore
} from "./internal/shared/lock.ts"
import { timeoutMillis } from "./internal/shared/args.ts"
import { callHost, type Handle, HandleKey, handleSchema, holding, isKind, makeHosted, unknownOp } from "./internal/shared/object.ts"
import { registry } from "./internal/shared/registry.ts"
import type { SharedError } from "./SharedError.ts"

const kind = "SharedLock"

/**
 * @category models
 * @since 0.1.0
 */
export interface SharedLock {
  readonly [HandleKey]: Handle
  /** @internal */
  readonly ops: LockOps
}

interface LockOps {
  /** Only the wait runs under `restore` (see `holding`). */
  readonly acquire: (timeoutMillis: number | undefined, restore?: Restore) => Effect.Effect<void, SharedError>
  readonly acquireIfAvailable: Effect.Effect<boolean, SharedError>
  readonly release: Effect.Effect<void, SharedError>
  readonly isLocked: Effect.Effect<boolean, SharedError>
}

const fromHandle = (handle: Handle): SharedLock => {
  const buffer = handle.buffer
  if (buffer !== undefined) {
    const view = new Int32Array(buffer)
    return {
      [HandleKey]: handle,
      ops: {
        acquire: (timeout, restore) => lockAcquire(view, handle.id, registry.owner, timeout, restore),
        acquireIfAvailable: Effect.suspend(() => lockAcquireIfAvailable(view, registry.owner)),
        release: Effect.suspend(() => lockRelease(view, registry.owner)),
        isLocked: lockIsLocked(view)
      }
    }
  }
  return {
    [HandleKey]: handle,
    ops: {
      acquire: (timeout, restore) =>
        (restore ?? identity)(Effect.asVoid(callHost(handle, "acquire", [timeout], { op: "release", args: [] }))),
      // the compensation gets the call's result: release only if the lock was in fact taken
      acquireIfAvailable: callHost(handle, "acquireIfAvailable", [], { op: "releaseIfTaken", args: [], withResult: true }) as Effect.Effect<
        boolean,
        SharedError
      >,
      release: Effect.asVoid(callHost(handle, "release", [])),
      isLocked: callHost(handle, "isLocked", []) as Effect.Effect<boolean, SharedError>
    }
  }
}

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
 * Makes a lock, free, that lives as long as the current scope.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make: Effect.Effect<SharedLock, never, Scope.Scope> = makeHosted({
  kind,
  cells: LOCK_CELLS,
  build: fromHandle,
  call: (view, id) => (owner, op, args) => {
    switch (op) {
      case "acquire":
        return lockAcquire(view, id, owner, args[0] as number | undefined)
      case "acquireIfAvailable":
        return lockAcquireIfAvailable(view, owner)
      case "release":
        return lockRelease(view, owner)
      case "releaseIfTaken":
        return args[args.length - 1] === true ? lockRelease(view, owner) : Effect.void
      case "isLocked":
        return lockIsLocked(view)
      default:
        return unknownOp(kind, op)
    }
  },
  ownerGone: (view, owner, crashed) => {
    if (crashed) lockOwnerCrashed(view, owner)
  },
  holds: lockHeldBy
})


/**
 * Waits until the lock is free and takes it. With `timeout`, gives up with a `SharedError` (reason
 * `Timeout`) and leaves the lock as it was.
 *
 * @category combinators
 * @since 0.1.0
 */
export const acquire = (
  self: SharedLock,
  options?: { readonly timeout?: Duration.Input | undefined }
): Effect.Effect<void, SharedError> => Effect.flatMap(timeoutMillis(kind, options?.timeout), (ms) => self.ops.acquire(ms))

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
