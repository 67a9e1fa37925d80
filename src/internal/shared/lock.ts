/**
 * Lock and semaphore algorithms on shared memory, used directly by threads and by the parent on behalf of
 * process workers (the same code either way, so both backends behave alike).
 *
 * Both start with the common header (`wait.ts`: closed flag, wake sequence).
 *
 * Lock: one more cell, 0 when free, else the holder's owner token (its worker). Acquire is a
 * compare-and-swap; a waiter waits in its isolate's queue (`waitFor`); release stores 0 and wakes one
 * waiting isolate.
 *
 * Semaphore: the free permits, the bound (0 = unbounded), then the permits each owner's *running task*
 * holds (cells per owner token), so that a crash gives back exactly what the crashed task took and did not
 * release (R8), and nothing a finished task kept (its cell is zeroed when the task ends: `semaphoreRunEnded`).
 * A release by an owner that holds fewer permits than it releases (releasing for someone else is allowed,
 * as in Python) lowers only its own count, down to 0: no permit is ever counted as held twice. A crash
 * never gives back more than keeps a bounded semaphore within its bound.
 *
 * Every wait is interruptible at any point and leaks nothing: the state changes only in one atomic step
 * that either happened (and the caller holds the lock) or did not.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type { SharedError } from "../../SharedError.ts"
import { closedError, overReleaseError, timeoutError } from "./errors.ts"
import { HEADER_CELLS, isClosed, wake, waitFor } from "./wait.ts"

export { closedError, timeoutError }

export type Restore = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

const STATE = HEADER_CELLS
export const LOCK_CELLS = HEADER_CELLS + 1

const FREE = HEADER_CELLS
const BOUND = HEADER_CELLS + 1
const HELD = HEADER_CELLS + 2
export const SEMAPHORE_OWNERS = 254
export const SEMAPHORE_CELLS = HELD + SEMAPHORE_OWNERS


/** Fails with `Closed` once the object's scope has ended, else runs `f`. */
export const ifOpen = <A>(object: string, view: Int32Array, f: () => A): Effect.Effect<A, SharedError> =>
  Effect.suspend(() => (isClosed(view) ? Effect.fail(closedError(object)) : Effect.succeed(f())))

// --- lock --------------------------------------------------------------------------------------------------

export const lockAcquire = (view: Int32Array, key: number, owner: number, timeoutMillis?: number, restore?: Restore) =>
  waitFor({
    view,
    key,
    attempt: () => Atomics.compareExchange(view, STATE, 0, owner) === 0,
    timeoutMillis,
    closedError: () => closedError("SharedLock"),
    onTimeout: () => timeoutError("SharedLock", timeoutMillis ?? 0),
    restore
  })

export const lockAcquireIfAvailable = (view: Int32Array, owner: number) =>
  ifOpen("SharedLock", view, () => Atomics.compareExchange(view, STATE, 0, owner) === 0)

export const lockRelease = (view: Int32Array, owner: number): Effect.Effect<void, SharedError> =>
  Effect.suspend(() => {
    if (isClosed(view)) return Effect.fail(closedError("SharedLock"))
    if (Atomics.compareExchange(view, STATE, owner, 0) !== owner) {
      return Effect.fail(overReleaseError("SharedLock", "release of a SharedLock this worker does not hold"))
    }
    wake(view, 1)
    return Effect.void
  })

export const lockIsLocked = (view: Int32Array) => ifOpen("SharedLock", view, () => Atomics.load(view, STATE) !== 0)

/** R8: frees the lock if `owner` (a crashed worker) held it. */
export const lockOwnerCrashed = (view: Int32Array, owner: number): void => {
  if (Atomics.compareExchange(view, STATE, owner, 0) === owner) wake(view, 1)
}

/** Whether `owner` holds the lock (then its token must not go to another worker). */
export const lockHeldBy = (view: Int32Array, owner: number): boolean => Atomics.load(view, STATE) === owner

// --- semaphore ---------------------------------------------------------------------------------------------

const heldCell = (owner: number): number | undefined => (owner < SEMAPHORE_OWNERS ? HELD + owner : undefined)

export const semaphoreInit = (view: Int32Array, permits: number, bounded: boolean): void => {
  view[FREE] = permits
  view[BOUND] = bounded ? permits : 0
}

/** Takes `n` permits if they are free now. The owner's count goes up first, so a concurrent crash of
 * another owner (which caps what it gives back by what others hold) never over-counts the free ones. */
const tryTake = (view: Int32Array, owner: number, n: number): boolean => {
  const cell = heldCell(owner)
  if (cell !== undefined) Atomics.add(view, cell, n)
  for (;;) {
    const free = Atomics.load(view, FREE)
    if (free < n) {
      if (cell !== undefined) Atomics.sub(view, cell, n)
      return false
    }
    if (Atomics.compareExchange(view, FREE, free, free - n) === free) return true
  }
}

export const semaphoreAcquire = (view: Int32Array, key: number, owner: number, n: number, timeoutMillis?: number, restore?: Restore) =>
  waitFor({
    view,
    key,
    attempt: () => tryTake(view, owner, n),
    timeoutMillis,
    closedError: () => closedError("SharedSemaphore"),
    onTimeout: () => timeoutError("SharedSemaphore", timeoutMillis ?? 0),
    restore
  })

export const semaphoreAcquireIfAvailable = (view: Int32Array, owner: number, n: number) =>
  ifOpen("SharedSemaphore", view, () => tryTake(view, owner, n))

export const semaphoreAvailable = (view: Int32Array) => ifOpen("SharedSemaphore", view, () => Atomics.load(view, FREE))

export const semaphoreRelease = (view: Int32Array, owner: number, n: number): Effect.Effect<void, SharedError> =>
  Effect.suspend(() => {
    if (isClosed(view)) return Effect.fail(closedError("SharedSemaphore"))
    const bound = Atomics.load(view, BOUND)
    for (;;) {
      const free = Atomics.load(view, FREE)
      if (bound > 0 && free + n > bound) {
        return Effect.fail(overReleaseError("SharedSemaphore", `release of ${n} permit(s) would exceed the bound of ${bound} (${free} free)`))
      }
      if (Atomics.compareExchange(view, FREE, free, free + n) === free) break
    }
    const cell = heldCell(owner)
    if (cell !== undefined) {
      // a release for someone else lowers only the releaser's own count, never below zero
      for (;;) {
        const held = Atomics.load(view, cell)
        if (held === 0 || Atomics.compareExchange(view, cell, held, Math.max(0, held - n)) === held) break
      }
    }
    wake(view, n)
    return Effect.void
  })

/** A task of `owner` ended normally: what it holds now stays taken, and is no longer its to give back. */
export const semaphoreRunEnded = (view: Int32Array, owner: number): void => {
  const cell = heldCell(owner)
  if (cell !== undefined) Atomics.store(view, cell, 0)
}

/**
 * `owner`'s worker is gone. After a crash (R8) the permits its running task held come back, but never more
 * than keeps a bounded semaphore within its bound once what the other owners hold is counted. After a
 * normal exit nothing comes back.
 */
export const semaphoreOwnerGone = (view: Int32Array, owner: number, crashed: boolean): void => {
  const cell = heldCell(owner)
  if (cell === undefined) return
  const held = Atomics.exchange(view, cell, 0)
  if (!crashed || held <= 0) return
  const bound = Atomics.load(view, BOUND)
  for (;;) {
    const free = Atomics.load(view, FREE)
    let back = held
    if (bound > 0) {
      let others = 0
      for (let c = HELD; c < SEMAPHORE_CELLS; c++) others += Atomics.load(view, c)
      back = Math.max(0, Math.min(held, bound - free - others))
    }
    if (back === 0) return
    if (Atomics.compareExchange(view, FREE, free, free + back) === free) return wake(view, back)
  }
}
