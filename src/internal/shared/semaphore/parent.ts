/**
 * `SharedSemaphore`, the parent's side: the memory, and the operations served for process workers (the
 * same algorithm on the same memory, with the calling worker's token). A crash gives back what the
 * crashed worker's running task held, within the bound; a normal exit gives nothing back (R8).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { type Handle, makeOnMemory } from "../object.ts"
import {
  kind,
  SEMAPHORE_CELLS,
  semaphoreAcquire,
  semaphoreAcquireIfAvailable,
  semaphoreAvailable,
  semaphoreInit,
  type SemaphoreOps,
  semaphoreOwnerGone,
  semaphoreRelease,
  semaphoreRunEnded
} from "./protocol.ts"

export const makeSemaphore = (permits: number, bounded: boolean): Effect.Effect<Handle, never, Scope.Scope> =>
  makeOnMemory<SemaphoreOps>({
    kind,
    cells: SEMAPHORE_CELLS,
    init: (view) => semaphoreInit(view, permits, bounded),
    handlers: (view, id) => ({
      acquire: (owner, { n, timeout }) => semaphoreAcquire(view, id, owner, n, timeout),
      acquireIfAvailable: (owner, { n }) => semaphoreAcquireIfAvailable(view, owner, n),
      release: (owner, { n }) => semaphoreRelease(view, owner, n),
      releaseIfTaken: (owner, { n, taken }) => (taken ? semaphoreRelease(view, owner, n) : Effect.void),
      available: () => semaphoreAvailable(view),
      runEnded: (owner) => Effect.sync(() => semaphoreRunEnded(view, owner))
    }),
    ownerGone: semaphoreOwnerGone
  })
