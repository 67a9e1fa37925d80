/**
 * The re-entrant lock algorithm on shared memory, used directly by threads and by the parent on behalf of
 * process workers (the same code either way, so both backends behave alike).
 *
 * Three Int32 cells: 0 the holder's owner token (0 when free), 1 the holder's fiber id, 2 the hold count.
 * The owner is a fiber, not a worker: two fibers of one worker are two owners. Only cell 0 is contended:
 * acquiring is a compare-and-swap of cell 0 from 0 to the owner token, and the winner writes cells 1 and 2
 * afterwards. That is safe because no other isolate reads cells 1 and 2 unless cell 0 holds its own token,
 * and within one isolate the swap and the writes run in one synchronous step that no fiber can split.
 * Releasing writes cells 1 and 2 first and frees cell 0 last, for the same reason.
 *
 * Every wait is interruptible at any point and leaks nothing: the state changes only in one synchronous
 * step that either happened (and the caller holds the lock) or did not.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import { SharedError } from "../../SharedError.ts"
import { waitChange } from "./object.ts"

export const RLOCK_CELLS = 3

const OWNER = 0
const FIBER = 1
const COUNT = 2

const timeoutError = (millis: number) =>
  new SharedError({ object: "SharedRLock", reason: "Timeout", message: `gave up waiting for the SharedRLock after ${millis} ms` })

const notHeld = () =>
  new SharedError({ object: "SharedRLock", reason: "OverRelease", message: "release of a SharedRLock this fiber does not hold" })

/** Fiber ids are a per-isolate counter; the cell keeps their low 32 bits (unique with the owner token). */
export const fiberCell = (fiberId: number): number => fiberId | 0

/** Takes the lock `n` times, or adds `n` holds if `fiber` of `owner` holds it; else what cell 0 holds. */
const attempt = (view: Int32Array, owner: number, fiber: number, n: number): number | true => {
  const seen = Atomics.compareExchange(view, OWNER, 0, owner)
  if (seen === 0) {
    Atomics.store(view, FIBER, fiber)
    Atomics.store(view, COUNT, n)
    return true
  }
  if (seen === owner && Atomics.load(view, FIBER) === fiber) {
    Atomics.add(view, COUNT, n)
    return true
  }
  return seen
}

export const rlockAcquire = (
  view: Int32Array,
  owner: number,
  fiber: number,
  n: number,
  timeoutMillis: number | undefined
): Effect.Effect<void, SharedError> => {
  const deadline = timeoutMillis === undefined ? Infinity : performance.now() + timeoutMillis
  const loop: Effect.Effect<void, SharedError> = Effect.suspend(() => {
    const seen = attempt(view, owner, fiber, n)
    if (seen === true) return Effect.void
    const left = deadline - performance.now()
    if (left <= 0) return Effect.fail(timeoutError(timeoutMillis!))
    return Effect.andThen(waitChange(view, OWNER, seen, left), loop)
  })
  return loop
}

export const rlockAcquireIfAvailable = (view: Int32Array, owner: number, fiber: number): boolean =>
  attempt(view, owner, fiber, 1) === true

const holds = (view: Int32Array, owner: number, fiber: number): boolean =>
  Atomics.load(view, OWNER) === owner && Atomics.load(view, FIBER) === fiber

const free = (view: Int32Array, owner: number): void => {
  Atomics.store(view, FIBER, 0)
  Atomics.store(view, COUNT, 0)
  Atomics.compareExchange(view, OWNER, owner, 0)
  Atomics.notify(view, OWNER, 1)
}

/** Gives back `n` holds; the last one frees the lock. Fails with `OverRelease` if `fiber` holds fewer. */
export const rlockRelease = (view: Int32Array, owner: number, fiber: number, n: number): Effect.Effect<void, SharedError> =>
  Effect.suspend(() => {
    if (!holds(view, owner, fiber)) return Effect.fail(notHeld())
    const count = Atomics.load(view, COUNT)
    if (n > count) return Effect.fail(notHeld())
    if (n < count) Atomics.store(view, COUNT, count - n)
    else free(view, owner)
    return Effect.void
  })

/** Frees the lock whatever the count and returns the count (a condition's wait gives it back later). */
export const rlockReleaseAll = (view: Int32Array, owner: number, fiber: number): Effect.Effect<number, SharedError> =>
  Effect.suspend(() => {
    if (!holds(view, owner, fiber)) return Effect.fail(notHeld())
    const count = Atomics.load(view, COUNT)
    free(view, owner)
    return Effect.succeed(count)
  })

/** Whether `fiber` of `owner` holds the lock now. */
export const rlockIsHeldBy = (view: Int32Array, owner: number, fiber: number): boolean => holds(view, owner, fiber)

/** R8: frees the lock if `owner` (a dead worker) held it. Nobody else writes cells 1 and 2 meanwhile. */
export const rlockOwnerGone = (view: Int32Array, owner: number): void => {
  if (Atomics.load(view, OWNER) === owner) free(view, owner)
}
