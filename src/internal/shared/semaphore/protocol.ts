/**
 * `SharedSemaphore`: its operations, and the algorithm on shared memory that both sides run (a thread on
 * the memory it shares, the parent for a process worker, with that worker's owner token).
 *
 * After the common header (`wait.ts`): the free permits, the bound (0 = unbounded), then the permits each
 * owner's *running task* holds (a cell per owner token), so that a crash gives back exactly what the
 * crashed task took and did not release (R8), and nothing a finished task kept (its cell is zeroed when
 * the task ends: `semaphoreRunEnded`). A release by an owner that holds fewer permits than it releases
 * (releasing for someone else is allowed, as in Python) lowers only its own count, down to 0: no permit is
 * ever counted as held twice. A crash never gives back more than keeps a bounded semaphore within its
 * bound. A waiter waits in its isolate's queue (`waitFor`); a release of `n` wakes up to `n` waiting
 * isolates.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type { SharedError } from "../../../SharedError.ts"
import { closedError, overReleaseError, timeoutError } from "../errors.ts"
import { HEADER_CELLS, ifOpen, isClosed, type Restore, type WaitErrors, wake, waitFor } from "../wait.ts"

export const kind = "SharedSemaphore"

export type SemaphoreOps = {
  readonly acquire: { readonly request: { readonly n: number; readonly timeout: number | undefined }; readonly result: void }
  readonly acquireIfAvailable: { readonly request: { readonly n: number }; readonly result: boolean }
  readonly release: { readonly request: { readonly n: number }; readonly result: void }
  /** Compensation of an `acquireIfAvailable` whose caller gave up: undo it if it took the permits. */
  readonly releaseIfTaken: { readonly request: { readonly n: number; readonly taken: boolean }; readonly result: void }
  readonly available: { readonly request: {}; readonly result: number }
  /** The calling worker's task ended normally: what it holds stays taken (see `semaphoreRunEnded`). */
  readonly runEnded: { readonly request: {}; readonly result: void }
}

const closed = () => closedError(kind)
const errors: WaitErrors = { closed, timeout: (millis) => timeoutError(kind, millis) }

const FREE = HEADER_CELLS
const BOUND = HEADER_CELLS + 1
const HELD = HEADER_CELLS + 2
export const SEMAPHORE_OWNERS = 254
export const SEMAPHORE_CELLS = 2 + SEMAPHORE_OWNERS
const END = HELD + SEMAPHORE_OWNERS

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

/** Waits for `n` permits; `enter` runs first (a worker notes that its running task uses the semaphore). */
export const semaphoreAcquire = (
  view: Int32Array,
  key: number,
  owner: number,
  n: number,
  timeoutMillis: number | undefined,
  restore?: Restore,
  enter?: () => void
) => waitFor({ view, key, attempt: () => tryTake(view, owner, n), errors, enter }, timeoutMillis, restore)

export const semaphoreAcquireIfAvailable = (view: Int32Array, owner: number, n: number) =>
  ifOpen(view, closed, () => tryTake(view, owner, n))

export const semaphoreAvailable = (view: Int32Array) => ifOpen(view, closed, () => Atomics.load(view, FREE))

export const semaphoreRelease = (view: Int32Array, owner: number, n: number): Effect.Effect<void, SharedError> =>
  Effect.suspend(() => {
    if (isClosed(view)) return Effect.fail(closed())
    const bound = Atomics.load(view, BOUND)
    for (;;) {
      const free = Atomics.load(view, FREE)
      if (bound > 0 && free + n > bound) {
        return Effect.fail(overReleaseError(kind, `release of ${n} permit(s) would exceed the bound of ${bound} (${free} free)`))
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
      for (let c = HELD; c < END; c++) others += Atomics.load(view, c)
      back = Math.max(0, Math.min(held, bound - free - others))
    }
    if (back === 0) return
    if (Atomics.compareExchange(view, FREE, free, free + back) === free) return wake(view, back)
  }
}
