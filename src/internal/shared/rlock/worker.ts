/**
 * `SharedRLock`, as whoever holds a handle uses it: on the shared memory itself (threads, and the parent),
 * or through calls to the parent (process workers), each operation for one fiber (its id as the lock knows
 * it). A call that completes after its caller gave up is undone by its compensation (R1).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import type { SharedError } from "../../../SharedError.ts"
import { caller, type Handle } from "../object.ts"
import { registry } from "../registry.ts"
import type { Restore } from "../wait.ts"
import {
  rlockAcquire,
  rlockAcquireIfAvailable,
  rlockIsHeldBy,
  rlockIsLocked,
  type RLockOps,
  rlockRelease,
  rlockReleaseAll
} from "./protocol.ts"

/** The operations, each for one fiber (its id in the lock's cell). */
export interface RLockView {
  /** Only the wait runs under `restore` (see `holding`). */
  readonly acquire: (fiber: number, n: number, timeoutMillis: number | undefined, restore?: Restore) => Effect.Effect<void, SharedError>
  readonly acquireIfAvailable: (fiber: number) => Effect.Effect<boolean, SharedError>
  readonly release: (fiber: number, n: number) => Effect.Effect<void, SharedError>
  /** Frees the lock whatever the count; returns the count (for a condition's wait). */
  readonly releaseAll: (fiber: number) => Effect.Effect<number, SharedError>
  readonly isLocked: Effect.Effect<boolean, SharedError>
  readonly isHeld: (fiber: number) => Effect.Effect<boolean, SharedError>
}

export const rlockView = (handle: Handle): RLockView => {
  const buffer = handle.buffer
  if (buffer !== undefined) {
    const view = new Int32Array(buffer)
    return {
      acquire: (fiber, n, timeout, restore) => rlockAcquire(view, handle.id, registry.owner, fiber, n, timeout, restore),
      acquireIfAvailable: (fiber) => Effect.suspend(() => rlockAcquireIfAvailable(view, registry.owner, fiber)),
      release: (fiber, n) => Effect.suspend(() => rlockRelease(view, registry.owner, fiber, n)),
      releaseAll: (fiber) => Effect.suspend(() => rlockReleaseAll(view, registry.owner, fiber)),
      isLocked: rlockIsLocked(view),
      isHeld: (fiber) => Effect.suspend(() => rlockIsHeldBy(view, registry.owner, fiber))
    }
  }
  const call = caller<RLockOps>(handle)
  return {
    acquire: (fiber, n, timeout, restore) =>
      (restore ?? identity)(call({ _tag: "acquire", fiber, n, timeout }, () => ({ _tag: "release", fiber, n }))),
    acquireIfAvailable: (fiber) => call({ _tag: "acquireIfAvailable", fiber }, (taken) => ({ _tag: "releaseIfTaken", fiber, taken })),
    release: (fiber, n) => call({ _tag: "release", fiber, n }),
    releaseAll: (fiber) => call({ _tag: "releaseAll", fiber }, (n) => ({ _tag: "acquireBack", fiber, n })),
    isLocked: call({ _tag: "isLocked" }),
    isHeld: (fiber) => call({ _tag: "isHeld", fiber })
  }
}
