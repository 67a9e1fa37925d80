/**
 * Guards a critical section across workers and lets its holder take it again: a re-entrant lock, on
 * threads and on processes (Python's `multiprocessing.RLock`).
 *
 * The holder is a fiber, not a worker: the fiber that holds the lock may acquire it again (each acquire
 * needs its release), while every other fiber waits, whether it runs in another worker or in the same
 * one. So a function that takes the lock can call another that takes it too, and two fibers of one task
 * still exclude each other. On threads the lock is three cells of shared memory driven by `Atomics` (the
 * holder's worker, its fiber, the count), and a waiting worker keeps its event loop running
 * (`Atomics.waitAsync`); on processes the parent holds it for the worker over the pool's channel.
 *
 * **Rules**
 * - R1: waiting to acquire is interruptible at any point and never leaves the lock taken; an interrupted
 *   waiter never keeps the release's wake-up from the next one.
 * - R8: a lock held by a worker that crashes is released, whatever its count; a task that ends without
 *   releasing it leaves it held (`withLock` is the scoped way), also when its worker retires.
 * - After the lock's scope ends, every operation fails with reason `Closed`, and pending waits are woken
 *   with it.
 *
 * **Example** (A recursive function that locks at every level)
 *
 * ```ts
 * const visit = (lock: SharedRLock.SharedRLock, depth: number): Effect.Effect<void, SharedError.SharedError> =>
 *   SharedRLock.withLock(lock)(depth === 0 ? Effect.void : visit(lock, depth - 1))
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
import { type Handle, HandleKey, handleSchema, holding, isKind } from "./internal/shared/object.ts"
import { lazyImport } from "./internal/lazy.ts"
import { fiberCell, kind } from "./internal/shared/rlock/protocol.ts"
import { type RLockView, rlockView } from "./internal/shared/rlock/worker.ts"
import type { SharedError } from "./SharedError.ts"

/** The parent side (making and hosting the object), imported on first use: see `internal/lazy.ts`. */
const parent = lazyImport(() => import("./internal/shared/rlock/parent.ts"))

/**
 * @category models
 * @since 0.1.0
 */
export interface SharedRLock {
  readonly [HandleKey]: Handle
  /** @internal */
  readonly ops: RLockView
}

const fromHandle = (handle: Handle): SharedRLock => ({ [HandleKey]: handle, ops: rlockView(handle) })

/**
 * Tells whether a value is a {@link SharedRLock}.
 *
 * @category guards
 * @since 0.1.0
 */
export const isSharedRLock: (u: unknown) => u is SharedRLock = isKind<SharedRLock>(kind)

/**
 * The schema to put a re-entrant lock in a task's payload.
 *
 * @category schemas
 * @since 0.1.0
 */
export const schema = handleSchema<SharedRLock>(kind, isSharedRLock, fromHandle)

/**
 * Makes a re-entrant lock, free, that lives as long as the current scope.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make: Effect.Effect<SharedRLock, never, Scope.Scope> = Effect.map(Effect.flatMap(parent, (p) => p.makeRLock), fromHandle)


/** Runs `f` with the current fiber's id as the lock knows it. */
const withFiberId = <A, E>(f: (fiber: number) => Effect.Effect<A, E>): Effect.Effect<A, E> =>
  Effect.withFiber((fiber) => f(fiberCell(fiber.id)))

/**
 * Waits until the lock is free or held by this fiber, and takes it (once more). With `timeout`, gives up
 * with a `SharedError` (reason `Timeout`) and leaves the lock as it was.
 *
 * @category combinators
 * @since 0.1.0
 */
export const acquire = (
  self: SharedRLock,
  options?: { readonly timeout?: Duration.Input | undefined }
): Effect.Effect<void, SharedError> =>
  withTimeout(kind, options?.timeout, (ms) => withFiberId((fiber) => self.ops.acquire(fiber, 1, ms)))

/**
 * Takes the lock if it is free or held by this fiber, without waiting; tells whether it did.
 *
 * @category combinators
 * @since 0.1.0
 */
export const acquireIfAvailable = (self: SharedRLock): Effect.Effect<boolean, SharedError> =>
  withFiberId((fiber) => self.ops.acquireIfAvailable(fiber))

/**
 * Gives back one hold of the lock; the last one frees it. Fails with reason `OverRelease` if this fiber
 * does not hold it.
 *
 * @category combinators
 * @since 0.1.0
 */
export const release = (self: SharedRLock): Effect.Effect<void, SharedError> =>
  withFiberId((fiber) => self.ops.release(fiber, 1))

/**
 * Tells whether some fiber, anywhere, holds the lock now.
 *
 * @category getters
 * @since 0.1.0
 */
export const isLocked = (self: SharedRLock): Effect.Effect<boolean, SharedError> => self.ops.isLocked

/**
 * Tells whether the current fiber holds the lock (Python's `RLock._is_owned`).
 *
 * @category getters
 * @since 0.1.0
 */
export const isHeld = (self: SharedRLock): Effect.Effect<boolean, SharedError> => withFiberId((fiber) => self.ops.isHeld(fiber))

/**
 * Runs an effect while holding the lock: takes it (interruptibly; at once if this fiber already holds
 * it), runs the effect, and gives the hold back whatever the effect does, interruption included.
 *
 * @category combinators
 * @since 0.1.0
 */
export const withLock: {
  (self: SharedRLock): <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | SharedError, R>
  <A, E, R>(effect: Effect.Effect<A, E, R>, self: SharedRLock): Effect.Effect<A, E | SharedError, R>
} = dual(2, <A, E, R>(effect: Effect.Effect<A, E, R>, self: SharedRLock): Effect.Effect<A, E | SharedError, R> =>
  Effect.withFiber((current) => {
    const fiber = fiberCell(current.id)
    return holding((restore) => self.ops.acquire(fiber, 1, undefined, restore), self.ops.release(fiber, 1), effect)
  }))
