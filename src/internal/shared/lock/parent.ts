/**
 * `SharedLock`, the parent's side: the memory, and the operations served for process workers (the same
 * algorithm on the same memory, with the calling worker's token). A crash releases the lock its worker
 * held (R8); a worker that exits normally holding it keeps its token out of reuse.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { makeOnMemory, type Handle } from "../object.ts"
import {
  kind,
  LOCK_CELLS,
  lockAcquire,
  lockAcquireIfAvailable,
  lockHeldBy,
  lockIsLocked,
  lockOwnerCrashed,
  type LockOps,
  lockRelease,
  lockWaitable
} from "./protocol.ts"

export const makeLock: Effect.Effect<Handle, never, Scope.Scope> = makeOnMemory<LockOps>({
  kind,
  cells: LOCK_CELLS,
  handlers: (view, id) => ({
    acquire: (owner, { timeout }) => lockAcquire(lockWaitable(view, id, () => owner), timeout),
    acquireIfAvailable: (owner) => lockAcquireIfAvailable(view, owner),
    release: (owner) => lockRelease(view, owner),
    releaseIfTaken: (owner, { taken }) => (taken ? lockRelease(view, owner) : Effect.void),
    isLocked: () => lockIsLocked(view)
  }),
  ownerGone: (view, owner, crashed) => {
    if (crashed) lockOwnerCrashed(view, owner)
  },
  holds: lockHeldBy
})
