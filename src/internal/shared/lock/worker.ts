/**
 * `SharedLock`, as whoever holds a handle uses it: on the shared memory itself (threads, and the parent),
 * or through calls to the parent (process workers). An acquire whose answer crosses its caller's
 * cancellation is undone by a compensating call (R1).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import type { SharedError } from "../../../SharedError.ts"
import { caller, type Handle } from "../object.ts"
import { registry } from "../registry.ts"
import type { Restore } from "../wait.ts"
import { lockAcquire, lockAcquireIfAvailable, lockIsLocked, type LockOps, lockRelease, lockWaitable } from "./protocol.ts"

export interface LockView {
  /** Only the wait runs under `restore` (see `holding`). */
  readonly acquire: (timeoutMillis: number | undefined, restore?: Restore) => Effect.Effect<void, SharedError>
  readonly acquireIfAvailable: Effect.Effect<boolean, SharedError>
  readonly release: Effect.Effect<void, SharedError>
  readonly isLocked: Effect.Effect<boolean, SharedError>
}

export const lockView = (handle: Handle): LockView => {
  const buffer = handle.buffer
  if (buffer !== undefined) {
    const view = new Int32Array(buffer)
    const waitable = lockWaitable(view, handle.id, () => registry.owner)
    return {
      acquire: (timeout, restore) => lockAcquire(waitable, timeout, restore),
      acquireIfAvailable: Effect.suspend(() => lockAcquireIfAvailable(view, registry.owner)),
      release: Effect.suspend(() => lockRelease(view, registry.owner)),
      isLocked: lockIsLocked(view)
    }
  }
  const call = caller<LockOps>(handle)
  return {
    acquire: (timeout, restore) => (restore ?? identity)(call({ _tag: "acquire", timeout }, () => ({ _tag: "release" }))),
    // the compensation looks at the result: release only if the lock was in fact taken
    acquireIfAvailable: call({ _tag: "acquireIfAvailable" }, (taken) => ({ _tag: "releaseIfTaken", taken })),
    release: call({ _tag: "release" }),
    isLocked: call({ _tag: "isLocked" })
  }
}
