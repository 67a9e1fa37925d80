/**
 * `SharedRLock`, the parent's side: the memory, and the operations served for process workers (the same
 * algorithm on the same memory, with the calling worker's token and the fiber id it sends). A crash
 * releases the lock whatever its count (R8); a worker that exits normally holding it keeps its token out
 * of reuse.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { type Handle, makeOnMemory } from "../object.ts"
import {
  kind,
  RLOCK_CELLS,
  rlockAcquire,
  rlockAcquireIfAvailable,
  rlockHeldBy,
  rlockIsHeldBy,
  rlockIsLocked,
  type RLockOps,
  rlockOwnerCrashed,
  rlockRelease,
  rlockReleaseAll
} from "./protocol.ts"

export const makeRLock: Effect.Effect<Handle, never, Scope.Scope> = makeOnMemory<RLockOps>({
  kind,
  cells: RLOCK_CELLS,
  handlers: (view, id) => ({
    acquire: (owner, { fiber, n, timeout }) => rlockAcquire(view, id, owner, fiber, n, timeout),
    acquireIfAvailable: (owner, { fiber }) => rlockAcquireIfAvailable(view, owner, fiber),
    release: (owner, { fiber, n }) => rlockRelease(view, owner, fiber, n),
    releaseIfTaken: (owner, { fiber, taken }) => (taken ? rlockRelease(view, owner, fiber, 1) : Effect.void),
    releaseAll: (owner, { fiber }) => rlockReleaseAll(view, owner, fiber),
    acquireBack: (owner, { fiber, n }) => rlockAcquire(view, id, owner, fiber, n, undefined),
    isLocked: () => rlockIsLocked(view),
    isHeld: (owner, { fiber }) => rlockIsHeldBy(view, owner, fiber)
  }),
  ownerGone: (view, owner, crashed) => {
    if (crashed) rlockOwnerCrashed(view, owner)
  },
  holds: rlockHeldBy
})
