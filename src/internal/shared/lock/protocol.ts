/**
 * `SharedLock`: its operations, and the algorithm on shared memory that both sides run (a thread on the
 * memory it shares, the parent for a process worker, with that worker's owner token).
 *
 * After the common header (`wait.ts`), one cell: 0 when free, else the holder's owner token (its worker).
 * Acquire is a compare-and-swap; a waiter waits in its isolate's queue (`waitFor`); release stores 0 and
 * wakes one waiting isolate. The state changes in one atomic step that either happened (the caller holds
 * the lock) or did not, so a wait is interruptible at any point and leaks nothing.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type { SharedError } from "../../../SharedError.ts"
import { closedError, overReleaseError, timeoutError } from "../errors.ts"
import { HEADER_CELLS, ifOpen, isClosed, type Restore, type Waitable, type WaitErrors, wake, waitFor } from "../wait.ts"

export const kind = "SharedLock"

export type LockOps = {
  readonly acquire: { readonly request: { readonly timeout: number | undefined }; readonly result: void }
  readonly acquireIfAvailable: { readonly request: {}; readonly result: boolean }
  readonly release: { readonly request: {}; readonly result: void }
  /** Compensation of an `acquireIfAvailable` whose caller gave up: undo it if it took the lock. */
  readonly releaseIfTaken: { readonly request: { readonly taken: boolean }; readonly result: void }
  readonly isLocked: { readonly request: {}; readonly result: boolean }
}

const STATE = HEADER_CELLS
export const LOCK_CELLS = 1

const closed = () => closedError(kind)
const errors: WaitErrors = { closed, timeout: (millis) => timeoutError(kind, millis) }

/** What an acquire by `owner()` waits for (built once per handle on threads: `owner` is read at each try). */
export const lockWaitable = (view: Int32Array, key: number, owner: () => number): Waitable => ({
  view,
  key,
  attempt: () => Atomics.compareExchange(view, STATE, 0, owner()) === 0,
  errors
})

export const lockAcquire = (waitable: Waitable, timeoutMillis: number | undefined, restore?: Restore) =>
  waitFor(waitable, timeoutMillis, restore)

export const lockAcquireIfAvailable = (view: Int32Array, owner: number) =>
  ifOpen(view, closed, () => Atomics.compareExchange(view, STATE, 0, owner) === 0)

export const lockRelease = (view: Int32Array, owner: number): Effect.Effect<void, SharedError> =>
  Effect.suspend(() => {
    if (isClosed(view)) return Effect.fail(closed())
    if (Atomics.compareExchange(view, STATE, owner, 0) !== owner) {
      return Effect.fail(overReleaseError(kind, "release of a SharedLock this worker does not hold"))
    }
    wake(view, 1)
    return Effect.void
  })

export const lockIsLocked = (view: Int32Array) => ifOpen(view, closed, () => Atomics.load(view, STATE) !== 0)

/** R8: frees the lock if `owner` (a crashed worker) held it. */
export const lockOwnerCrashed = (view: Int32Array, owner: number): void => {
  if (Atomics.compareExchange(view, STATE, owner, 0) === owner) wake(view, 1)
}

/** Whether `owner` holds the lock (then its token must not go to another worker). */
export const lockHeldBy = (view: Int32Array, owner: number): boolean => Atomics.load(view, STATE) === owner
