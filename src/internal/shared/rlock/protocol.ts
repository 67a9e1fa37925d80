/**
 * `SharedRLock`: its operations, and the re-entrant lock algorithm on shared memory that both sides run (a
 * thread on the memory it shares, the parent for a process worker, with that worker's owner token and the
 * fiber id it sends along).
 *
 After the common header (`wait.ts`), three Int32 cells: the holder's owner token (0 when free), the
 * holder's fiber id, the hold count. The owner is a fiber, not a worker: two fibers of one worker are two
 * owners. Only the owner cell is contended: acquiring is a compare-and-swap of it from 0 to the owner token,
 * and the winner writes the other two afterwards. That is safe because no other isolate reads them unless
 * the owner cell holds its own token, and within one isolate the swap and the writes run in one
 * synchronous step that no fiber can split. Releasing writes them first and frees the owner cell last, for
 * the same reason.
 *
 * Every wait is interruptible at any point and leaks nothing: the state changes only in one synchronous
 * step that either happened (and the caller holds the lock) or did not.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type { SharedError } from "../../../SharedError.ts"
import { closedError, overReleaseError, timeoutError } from "../errors.ts"
import { HEADER_CELLS, ifOpen as ifOpenOn, isClosed, type Restore, type WaitErrors, wake, waitFor } from "../wait.ts"

export const kind = "SharedRLock"

/** Every request names the calling fiber (`fiber`): the holder is a fiber, not a worker. */
export type RLockOps = {
  readonly acquire: { readonly request: { readonly fiber: number; readonly n: number; readonly timeout: number | undefined }; readonly result: void }
  readonly acquireIfAvailable: { readonly request: { readonly fiber: number }; readonly result: boolean }
  readonly release: { readonly request: { readonly fiber: number; readonly n: number }; readonly result: void }
  /** Compensation of an `acquireIfAvailable` whose caller gave up: undo it only if it took the lock. */
  readonly releaseIfTaken: { readonly request: { readonly fiber: number; readonly taken: boolean }; readonly result: void }
  /** Frees the lock whatever the count; returns the count (a condition's wait gives it back later). */
  readonly releaseAll: { readonly request: { readonly fiber: number }; readonly result: number }
  /** Compensation of a `releaseAll` whose caller gave up: it still believes it holds the lock. */
  readonly acquireBack: { readonly request: { readonly fiber: number; readonly n: number }; readonly result: void }
  readonly isLocked: { readonly request: {}; readonly result: boolean }
  readonly isHeld: { readonly request: { readonly fiber: number }; readonly result: boolean }
}

const closed = () => closedError(kind)
const errors: WaitErrors = { closed, timeout: (millis) => timeoutError(kind, millis) }
const ifOpen = <A>(view: Int32Array, f: () => A) => ifOpenOn(view, closed, f)

const OWNER = HEADER_CELLS
const FIBER = HEADER_CELLS + 1
const COUNT = HEADER_CELLS + 2
export const RLOCK_CELLS = 3

const notHeld = () =>
  overReleaseError(kind, "release of a SharedRLock this fiber does not hold")

/** Fiber ids are a per-isolate counter; the cell keeps their low 32 bits (unique with the owner token). */
export const fiberCell = (fiberId: number): number => fiberId | 0

/** Takes the lock `n` times, or adds `n` holds if `fiber` of `owner` holds it. */
const attempt = (view: Int32Array, owner: number, fiber: number, n: number): boolean => {
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
  return false
}

export const rlockAcquire = (
  view: Int32Array,
  key: number,
  owner: number,
  fiber: number,
  n: number,
  timeoutMillis: number | undefined,
  restore?: Restore
): Effect.Effect<void, SharedError> =>
  waitFor(
    { view, key, attempt: () => attempt(view, owner, fiber, n), errors, holds: () => holds(view, owner, fiber) },
    timeoutMillis,
    restore
  )

export const rlockAcquireIfAvailable = (view: Int32Array, owner: number, fiber: number) =>
  ifOpen(view, () => attempt(view, owner, fiber, 1))

const holds = (view: Int32Array, owner: number, fiber: number): boolean =>
  Atomics.load(view, OWNER) === owner && Atomics.load(view, FIBER) === fiber

const free = (view: Int32Array, owner: number): void => {
  Atomics.store(view, FIBER, 0)
  Atomics.store(view, COUNT, 0)
  Atomics.compareExchange(view, OWNER, owner, 0)
  wake(view, 1)
}

/** Gives back `n` holds; the last one frees the lock. Fails with `OverRelease` if `fiber` holds fewer. */
export const rlockRelease = (view: Int32Array, owner: number, fiber: number, n: number): Effect.Effect<void, SharedError> =>
  Effect.suspend(() => {
    if (isClosed(view)) return Effect.fail(closed())
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
    if (isClosed(view)) return Effect.fail(closed())
    if (!holds(view, owner, fiber)) return Effect.fail(notHeld())
    const count = Atomics.load(view, COUNT)
    free(view, owner)
    return Effect.succeed(count)
  })

/** Whether `fiber` of `owner` holds the lock now. */
export const rlockIsHeldBy = (view: Int32Array, owner: number, fiber: number) => ifOpen(view, () => holds(view, owner, fiber))

/** Whether some fiber holds the lock now. */
export const rlockIsLocked = (view: Int32Array) => ifOpen(view, () => Atomics.load(view, OWNER) !== 0)

/** R8: frees the lock if `owner` (a crashed worker) held it. Nobody else writes the other cells meanwhile. */
export const rlockOwnerCrashed = (view: Int32Array, owner: number): void => {
  if (Atomics.load(view, OWNER) === owner) free(view, owner)
}

/** Whether a fiber of `owner` holds the lock (then its token must not go to another worker). */
export const rlockHeldBy = (view: Int32Array, owner: number): boolean => Atomics.load(view, OWNER) === owner
