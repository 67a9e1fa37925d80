/**
 * Limits how many workers use a resource at once: a counter of permits shared by every worker (Python's
 * `multiprocessing.Semaphore`, and `BoundedSemaphore` with `bounded: true`).
 *
 * Made in the parent within a Scope, passed to tasks in their payload (`schema`). Threads count in
 * shared memory with `Atomics`; processes ask the parent. The permits a worker holds when it dies come
 * back (R8); a wait for permits is interruptible at any point and never loses one (R1).
 *
 * **Example** (At most 3 workers download at once)
 *
 * ```ts
 * const slots = yield* SharedSemaphore.make(3)
 * yield* WorkerPool.map(Download, urls.map((url) => ({ url, slots })))
 * // in the task: SharedSemaphore.withPermits(slots, 1)(fetchIt(url))
 * ```
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { identity } from "effect/Function"
import {
  type Restore,
  SEMAPHORE_CELLS,
  semaphoreAcquire,
  semaphoreAcquireIfAvailable,
  semaphoreAvailable,
  semaphoreInit,
  semaphoreOwnerGone,
  semaphoreRelease,
  semaphoreRunEnded
} from "./internal/shared/lock.ts"
import { permitCount, timeoutMillis } from "./internal/shared/args.ts"
import { invalidArgumentError } from "./internal/shared/errors.ts"
import { callHost, type Handle, HandleKey, handleSchema, holding, isKind, makeHosted, unknownOp } from "./internal/shared/object.ts"
import { atRunEnd, registry } from "./internal/shared/registry.ts"
import type { SharedError } from "./SharedError.ts"

const kind = "SharedSemaphore"

/**
 * @category models
 * @since 0.1.0
 */
export interface SharedSemaphore {
  readonly [HandleKey]: Handle
  /** @internal */
  readonly ops: {
    /** Only the wait runs under `restore` (see `holding`). */
    readonly acquire: (n: number, timeoutMillis: number | undefined, restore?: Restore) => Effect.Effect<void, SharedError>
    readonly acquireIfAvailable: (n: number) => Effect.Effect<boolean, SharedError>
    readonly release: (n: number) => Effect.Effect<void, SharedError>
    readonly available: Effect.Effect<number, SharedError>
  }
}

/**
 * A task that takes permits in a worker is tracked until it ends: if its worker crashes first, what it
 * holds comes back (R8); once it ends normally, what it kept stays taken, whatever happens to its worker.
 */
const tracked = <A, E>(track: () => void, effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
  Effect.andThen(Effect.sync(track), effect)

const fromHandle = (handle: Handle): SharedSemaphore => {
  const buffer = handle.buffer
  if (buffer !== undefined) {
    const view = new Int32Array(buffer)
    const track = () => atRunEnd(handle.id, () => semaphoreRunEnded(view, registry.owner))
    return {
      [HandleKey]: handle,
      ops: {
        acquire: (n, timeout, restore) => tracked(track, semaphoreAcquire(view, handle.id, registry.owner, n, timeout, restore)),
        acquireIfAvailable: (n) => tracked(track, Effect.suspend(() => semaphoreAcquireIfAvailable(view, registry.owner, n))),
        release: (n) => Effect.suspend(() => semaphoreRelease(view, registry.owner, n)),
        available: semaphoreAvailable(view)
      }
    }
  }
  const track = () => atRunEnd(handle.id, () => registry.post?.(handle.id, "runEnded", []))
  return {
    [HandleKey]: handle,
    ops: {
      acquire: (n, timeout, restore) =>
        tracked(track, (restore ?? identity)(Effect.asVoid(callHost(handle, "acquire", [n, timeout], { op: "release", args: [n] })))),
      acquireIfAvailable: (n) =>
        tracked(
          track,
          callHost(handle, "acquireIfAvailable", [n], { op: "releaseIfTaken", args: [n], withResult: true }) as Effect.Effect<
            boolean,
            SharedError
          >
        ),
      release: (n) => Effect.asVoid(callHost(handle, "release", [n])),
      available: callHost(handle, "available", []) as Effect.Effect<number, SharedError>
    }
  }
}

/**
 * Tells whether a value is a {@link SharedSemaphore}.
 *
 * @category guards
 * @since 0.1.0
 */
export const isSharedSemaphore: (u: unknown) => u is SharedSemaphore = isKind<SharedSemaphore>(kind)

/**
 * The schema to put a semaphore in a task's payload.
 *
 * @category schemas
 * @since 0.1.0
 */
export const schema = handleSchema<SharedSemaphore>(kind, isSharedSemaphore, fromHandle)

/**
 * Makes a semaphore with `permits` free permits, alive as long as the current scope. With
 * `bounded: true`, releasing more than were acquired fails with reason `OverRelease` (Python's
 * `BoundedSemaphore`).
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  permits: number,
  options?: { readonly bounded?: boolean | undefined }
): Effect.Effect<SharedSemaphore, SharedError, Scope.Scope> =>
  Effect.suspend(() => {
    if (!(Number.isInteger(permits) && permits >= 0)) {
      return Effect.fail(invalidArgumentError(kind, "permits", `permits must be a non-negative integer, got ${permits}`))
    }
    return makeHosted({
      kind,
      cells: SEMAPHORE_CELLS,
      init: (view) => semaphoreInit(view, permits, options?.bounded === true),
      build: fromHandle,
      call: (view, id) => (owner, op, args) => {
        const n = args[0] as number
        switch (op) {
          case "acquire":
            return semaphoreAcquire(view, id, owner, n, args[1] as number | undefined)
          case "acquireIfAvailable":
            return semaphoreAcquireIfAvailable(view, owner, n)
          case "release":
            return semaphoreRelease(view, owner, n)
          case "releaseIfTaken":
            return args[args.length - 1] === true ? semaphoreRelease(view, owner, n) : Effect.void
          case "available":
            return semaphoreAvailable(view)
          case "runEnded":
            return Effect.sync(() => semaphoreRunEnded(view, owner))
          default:
            return unknownOp(kind, op)
        }
      },
      ownerGone: semaphoreOwnerGone
    })
  })


/**
 * Waits until `n` permits (default 1) are free and takes them. With `timeout`, gives up with reason
 * `Timeout`, taking nothing.
 *
 * @category combinators
 * @since 0.1.0
 */
export const acquire = (
  self: SharedSemaphore,
  n?: number,
  options?: { readonly timeout?: Duration.Input | undefined }
): Effect.Effect<void, SharedError> => acquireWith(self, n, options?.timeout)

const acquireWith = (self: SharedSemaphore, n: number | undefined, timeout: Duration.Input | undefined, restore?: Restore) =>
  Effect.flatMap(
    Effect.zip(permitCount(kind, n), timeoutMillis(kind, timeout)),
    ([k, ms]) => self.ops.acquire(k, ms, restore)
  )

/**
 * Takes `n` permits (default 1) if they are free now; tells whether it did.
 *
 * @category combinators
 * @since 0.1.0
 */
export const acquireIfAvailable = (self: SharedSemaphore, n?: number): Effect.Effect<boolean, SharedError> =>
  Effect.flatMap(permitCount(kind, n), self.ops.acquireIfAvailable)

/**
 * Gives back `n` permits (default 1).
 *
 * @category combinators
 * @since 0.1.0
 */
export const release = (self: SharedSemaphore, n?: number): Effect.Effect<void, SharedError> =>
  Effect.flatMap(permitCount(kind, n), self.ops.release)

/**
 * The number of free permits now.
 *
 * @category getters
 * @since 0.1.0
 */
export const available = (self: SharedSemaphore): Effect.Effect<number, SharedError> => self.ops.available

/**
 * Runs an effect holding `n` permits: waits for them (interruptibly), runs the effect, gives them back
 * whatever happens.
 *
 * @category combinators
 * @since 0.1.0
 */
export const withPermits = (self: SharedSemaphore, n?: number) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | SharedError, R> =>
  holding((restore) => acquireWith(self, n, undefined, restore), release(self, n), effect)
