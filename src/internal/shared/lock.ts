/**
 * Lock and semaphore algorithms on shared memory, used directly by threads and by the parent on behalf of
 * process workers (the same code either way, so both backends behave alike).
 *
 * Lock: one Int32 cell, 0 when free, else the holder's owner token; acquire is a compare-and-swap loop that
 * waits with `Atomics.waitAsync` between tries; release stores 0 and wakes one waiter.
 *
 * Semaphore: cell 0 holds the free permits, cell 1 the bound (0 = unbounded), cells 2.. the permits each
 * owner holds (so a dead worker's permits come back, R8).
 *
 * Every wait is interruptible at any point and leaks nothing: the state changes only in one atomic
 * operation that either happened (and the caller has the lock) or did not.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import { SharedError } from "../../SharedError.ts"
import { waitChange } from "./object.ts"

export const LOCK_CELLS = 1
export const SEMAPHORE_OWNERS = 254
export const SEMAPHORE_CELLS = 2 + SEMAPHORE_OWNERS

const timeoutError = (object: string, millis: number) =>
  new SharedError({ object, reason: "Timeout", message: `gave up waiting for the ${object} after ${millis} ms` })

/** Loops `attempt` until it succeeds, waiting for `view[index]` to change in between; optional deadline. */
const acquireLoop = (
  object: string,
  view: Int32Array,
  index: number,
  attempt: () => number | true,
  timeoutMillis: number | undefined
): Effect.Effect<void, SharedError> => {
  const deadline = timeoutMillis === undefined ? Infinity : performance.now() + timeoutMillis
  const loop: Effect.Effect<void, SharedError> = Effect.suspend(() => {
    const seen = attempt()
    if (seen === true) return Effect.void
    const left = deadline - performance.now()
    if (left <= 0) return Effect.fail(timeoutError(object, timeoutMillis!))
    return Effect.andThen(waitChange(view, index, seen, left), loop)
  })
  return loop
}

export const lockAcquire = (view: Int32Array, owner: number, timeoutMillis?: number) =>
  acquireLoop("SharedLock", view, 0, () => {
    const seen = Atomics.compareExchange(view, 0, 0, owner)
    return seen === 0 ? true : seen
  }, timeoutMillis)

export const lockAcquireIfAvailable = (view: Int32Array, owner: number): boolean =>
  Atomics.compareExchange(view, 0, 0, owner) === 0

export const lockRelease = (view: Int32Array, owner: number): Effect.Effect<void, SharedError> =>
  Effect.suspend(() => {
    if (Atomics.compareExchange(view, 0, owner, 0) !== owner) {
      return Effect.fail(new SharedError({ object: "SharedLock", reason: "OverRelease", message: "release of a SharedLock this worker does not hold" }))
    }
    Atomics.notify(view, 0, 1)
    return Effect.void
  })

/** R8: frees the lock if `owner` (a dead worker) held it. */
export const lockOwnerGone = (view: Int32Array, owner: number): void => {
  if (Atomics.compareExchange(view, 0, owner, 0) === owner) Atomics.notify(view, 0, 1)
}

const heldCell = (owner: number): number | undefined => (owner < SEMAPHORE_OWNERS ? 2 + owner : undefined)

export const semaphoreAcquire = (view: Int32Array, owner: number, n: number, timeoutMillis?: number) =>
  acquireLoop("SharedSemaphore", view, 0, () => {
    const free = Atomics.load(view, 0)
    if (free >= n && Atomics.compareExchange(view, 0, free, free - n) === free) {
      const cell = heldCell(owner)
      if (cell !== undefined) Atomics.add(view, cell, n)
      return true
    }
    return free
  }, timeoutMillis)

export const semaphoreAcquireIfAvailable = (view: Int32Array, owner: number, n: number): boolean => {
  for (;;) {
    const free = Atomics.load(view, 0)
    if (free < n) return false
    if (Atomics.compareExchange(view, 0, free, free - n) === free) {
      const cell = heldCell(owner)
      if (cell !== undefined) Atomics.add(view, cell, n)
      return true
    }
  }
}

export const semaphoreRelease = (view: Int32Array, owner: number, n: number): Effect.Effect<void, SharedError> =>
  Effect.suspend(() => {
    const bound = Atomics.load(view, 1)
    for (;;) {
      const free = Atomics.load(view, 0)
      if (bound > 0 && free + n > bound) {
        return Effect.fail(new SharedError({
          object: "SharedSemaphore",
          reason: "OverRelease",
          message: `release of ${n} permit(s) would exceed the bound of ${bound} (${free} free)`
        }))
      }
      if (Atomics.compareExchange(view, 0, free, free + n) === free) break
    }
    const cell = heldCell(owner)
    if (cell !== undefined) {
      // never below zero: a permit released by another owner than its taker is allowed (as in Python)
      for (;;) {
        const held = Atomics.load(view, cell)
        const next = Math.max(0, held - n)
        if (Atomics.compareExchange(view, cell, held, next) === held) break
      }
    }
    Atomics.notify(view, 0)
    return Effect.void
  })

/** R8: gives back the permits a dead worker held. */
export const semaphoreOwnerGone = (view: Int32Array, owner: number): void => {
  const cell = heldCell(owner)
  if (cell === undefined) return
  const held = Atomics.exchange(view, cell, 0)
  if (held > 0) {
    Atomics.add(view, 0, held)
    Atomics.notify(view, 0)
  }
}
