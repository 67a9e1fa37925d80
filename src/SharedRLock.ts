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
 * - R1: waiting to acquire is interruptible at any point and never leaves the lock taken.
 * - R8: a lock held by a worker that dies is released, whatever its count.
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
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { dual, identity } from "effect/Function"
import type * as Scope from "effect/Scope"
import { timeoutMillis } from "./internal/shared/args.ts"
import { callHost, type Handle, HandleKey, handleSchema, holding, isKind, makeHosted, unknownOp } from "./internal/shared/object.ts"
import { registry } from "./internal/shared/registry.ts"
import type { Restore } from "./internal/shared/lock.ts"
import {
  fiberCell,
  RLOCK_CELLS,
  rlockAcquire,
  rlockAcquireIfAvailable,
  rlockHeldBy,
  rlockIsHeldBy,
  rlockIsLocked,
  rlockOwnerCrashed,
  rlockRelease,
  rlockReleaseAll
} from "./internal/shared/rlock.ts"
import type { SharedError } from "./SharedError.ts"

const kind = "SharedRLock"

/**
 * @category models
 * @since 0.1.0
 */
export interface SharedRLock {
  readonly [HandleKey]: Handle
  /** @internal */
  readonly ops: RLockOps
}

/** The operations for one fiber (its id in the lock's cell). */
interface RLockOps {
  /** Only the wait runs under `restore` (see `holding`). */
  readonly acquire: (fiber: number, n: number, timeoutMillis: number | undefined, restore?: Restore) => Effect.Effect<void, SharedError>
  readonly acquireIfAvailable: (fiber: number) => Effect.Effect<boolean, SharedError>
  readonly release: (fiber: number, n: number) => Effect.Effect<void, SharedError>
  /** Frees the lock whatever the count; returns the count (for a condition's wait). */
  readonly releaseAll: (fiber: number) => Effect.Effect<number, SharedError>
  readonly isLocked: Effect.Effect<boolean, SharedError>
  readonly isHeld: (fiber: number) => Effect.Effect<boolean, SharedError>
}

const fromHandle = (handle: Handle): SharedRLock => {
  const buffer = handle.buffer
  if (buffer !== undefined) {
    const view = new Int32Array(buffer)
    return {
      [HandleKey]: handle,
      ops: {
        acquire: (fiber, n, timeout, restore) => rlockAcquire(view, handle.id, registry.owner, fiber, n, timeout, restore),
        acquireIfAvailable: (fiber) => Effect.suspend(() => rlockAcquireIfAvailable(view, registry.owner, fiber)),
        release: (fiber, n) => rlockRelease(view, registry.owner, fiber, n),
        releaseAll: (fiber) => rlockReleaseAll(view, registry.owner, fiber),
        isLocked: rlockIsLocked(view),
        isHeld: (fiber) => Effect.suspend(() => rlockIsHeldBy(view, registry.owner, fiber))
      }
    }
  }
  // Processes: the parent runs the same algorithm with the worker's token and the fiber id sent along. A
  // call that completes after its caller gave up is undone by its compensation (R1).
  return {
    [HandleKey]: handle,
    ops: {
      acquire: (fiber, n, timeout, restore) =>
        (restore ?? identity)(Effect.asVoid(callHost(handle, "acquire", [fiber, n, timeout], { op: "release", args: [fiber, n] }))),
      acquireIfAvailable: (fiber) =>
        callHost(handle, "acquireIfAvailable", [fiber], { op: "releaseIf", args: [fiber], withResult: true }) as Effect.Effect<
          boolean,
          SharedError
        >,
      release: (fiber, n) => Effect.asVoid(callHost(handle, "release", [fiber, n])),
      releaseAll: (fiber) =>
        callHost(handle, "releaseAll", [fiber], { op: "acquireBack", args: [fiber], withResult: true }) as Effect.Effect<
          number,
          SharedError
        >,
      isLocked: callHost(handle, "isLocked", []) as Effect.Effect<boolean, SharedError>,
      isHeld: (fiber) => callHost(handle, "isHeld", [fiber]) as Effect.Effect<boolean, SharedError>
    }
  }
}

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
export const make: Effect.Effect<SharedRLock, never, Scope.Scope> = makeHosted({
  kind,
  cells: RLOCK_CELLS,
  build: fromHandle,
  call: (view, id) => (owner, op, args) => {
    const fiber = args[0] as number
    switch (op) {
      case "acquire":
        return rlockAcquire(view, id, owner, fiber, args[1] as number, args[2] as number | undefined)
      case "acquireIfAvailable":
        return rlockAcquireIfAvailable(view, owner, fiber)
      case "release":
        return rlockRelease(view, owner, fiber, args[1] as number)
      case "releaseIf":
        // compensation of an acquireIfAvailable whose caller gave up: undo it only if it took the lock
        return args[1] === true ? rlockRelease(view, owner, fiber, 1) : Effect.void
      case "releaseAll":
        return rlockReleaseAll(view, owner, fiber)
      case "acquireBack":
        // compensation of a releaseAll whose caller gave up: it still believes it holds the lock
        return rlockAcquire(view, id, owner, fiber, args[1] as number, undefined)
      case "isLocked":
        return rlockIsLocked(view)
      case "isHeld":
        return rlockIsHeldBy(view, owner, fiber)
      default:
        return unknownOp(kind, op)
    }
  },
  ownerGone: (view, owner, crashed) => {
    if (crashed) rlockOwnerCrashed(view, owner)
  },
  holds: rlockHeldBy
})


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
  Effect.flatMap(timeoutMillis(kind, options?.timeout), (ms) => withFiberId((fiber) => self.ops.acquire(fiber, 1, ms)))

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
