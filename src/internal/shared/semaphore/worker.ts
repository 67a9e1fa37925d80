/**
 * `SharedSemaphore`, as whoever holds a handle uses it: on the shared memory itself (threads, and the
 * parent), or through calls to the parent (process workers). A task that takes permits in a worker is
 * tracked until it ends: if its worker crashes first, what it holds comes back (R8); once it ends
 * normally, what it kept stays taken, whatever happens to its worker.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import type { SharedError } from "../../../SharedError.ts"
import { caller, type Handle } from "../object.ts"
import { atRunEnd, registry } from "../registry.ts"
import type { Restore } from "../wait.ts"
import {
  semaphoreAcquire,
  semaphoreAcquireIfAvailable,
  semaphoreAvailable,
  type SemaphoreOps,
  semaphoreRelease,
  semaphoreRunEnded
} from "./protocol.ts"

export interface SemaphoreView {
  /** Only the wait runs under `restore` (see `holding`). */
  readonly acquire: (n: number, timeoutMillis: number | undefined, restore?: Restore) => Effect.Effect<void, SharedError>
  readonly acquireIfAvailable: (n: number) => Effect.Effect<boolean, SharedError>
  readonly release: (n: number) => Effect.Effect<void, SharedError>
  readonly available: Effect.Effect<number, SharedError>
}

const tracked = <A, E>(track: () => void, effect: Effect.Effect<A, E>): Effect.Effect<A, E> => Effect.andThen(Effect.sync(track), effect)

export const semaphoreView = (handle: Handle): SemaphoreView => {
  const buffer = handle.buffer
  if (buffer !== undefined) {
    const view = new Int32Array(buffer)
    const track = () => atRunEnd(handle.id, () => semaphoreRunEnded(view, registry.owner))
    return {
      acquire: (n, timeout, restore) => semaphoreAcquire(view, handle.id, registry.owner, n, timeout, restore, track),
      acquireIfAvailable: (n) =>
        Effect.suspend(() => {
          track()
          return semaphoreAcquireIfAvailable(view, registry.owner, n)
        }),
      release: (n) => Effect.suspend(() => semaphoreRelease(view, registry.owner, n)),
      available: semaphoreAvailable(view)
    }
  }
  const call = caller<SemaphoreOps>(handle)
  const track = () => atRunEnd(handle.id, () => call.post({ _tag: "runEnded" }))
  return {
    acquire: (n, timeout, restore) =>
      tracked(track, (restore ?? identity)(call({ _tag: "acquire", n, timeout }, () => ({ _tag: "release", n })))),
    acquireIfAvailable: (n) => tracked(track, call({ _tag: "acquireIfAvailable", n }, (taken) => ({ _tag: "releaseIfTaken", n, taken }))),
    release: (n) => call({ _tag: "release", n }),
    available: call({ _tag: "available" })
  }
}
