/**
 * Limits how many workers use a resource at once: a counter of permits shared by every worker (Python's
 * `multiprocessing.Semaphore`, and `BoundedSemaphore` with `bounded: true`).
 *
 * Made in the parent within a Scope, passed to tasks in their payload (`schema`). Threads count in
 * shared memory with `Atomics`; processes ask the parent. Many waiters are served one release at a time,
 * in arrival order within a worker: a release of one permit wakes one waiter, never all of them.
 *
 * **Rules**
 * - R1: a wait for permits is interruptible at any point and never loses one; an interrupted waiter never
 *   keeps a wake-up meant for another.
 * - R8: permits a task takes and does not release stay taken when it ends (`withPermits` is the scoped
 *   way), also when its worker retires; only a crash gives back what the crashed task held, never beyond
 *   the bound of a bounded semaphore. Releasing permits taken by another owner is allowed (as in Python)
 *   and is never counted twice.
 * - After the semaphore's scope ends, every operation fails with reason `Closed`, and pending waits are
 *   woken with it.
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
import "./internal/nodeVersion.ts"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { parsePermits, withTimeout } from "./internal/shared/args.ts"
import { invalidArgumentError } from "./internal/shared/errors.ts"
import { type Handle, HandleKey, handleSchema, holding, isKind } from "./internal/shared/object.ts"
import { lazyImport } from "./internal/lazy.ts"
import { kind } from "./internal/shared/semaphore/protocol.ts"
import { type SemaphoreView, semaphoreView } from "./internal/shared/semaphore/worker.ts"
import type { Restore } from "./internal/shared/wait.ts"
import { SharedError } from "./SharedError.ts"

/** The parent side (making and hosting the object), imported on first use: see `internal/lazy.ts`. */
const parent = lazyImport(() => import("./internal/shared/semaphore/parent.ts"))

/**
 * @category models
 * @since 0.1.0
 */
export interface SharedSemaphore {
  readonly [HandleKey]: Handle
  /** @internal */
  readonly ops: SemaphoreView
}

const fromHandle = (handle: Handle): SharedSemaphore => ({ [HandleKey]: handle, ops: semaphoreView(handle) })

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
    return Effect.map(Effect.flatMap(parent, (p) => p.makeSemaphore(permits, options?.bounded === true)), fromHandle)
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

const acquireWith = (self: SharedSemaphore, n: number | undefined, timeout: Duration.Input | undefined, restore?: Restore) => {
  const k = parsePermits(kind, n)
  return k instanceof SharedError ? Effect.fail(k) : withTimeout(kind, timeout, (ms) => self.ops.acquire(k, ms, restore))
}

/**
 * Takes `n` permits (default 1) if they are free now; tells whether it did.
 *
 * @category combinators
 * @since 0.1.0
 */
export const acquireIfAvailable = (self: SharedSemaphore, n?: number): Effect.Effect<boolean, SharedError> => {
  const k = parsePermits(kind, n)
  return k instanceof SharedError ? Effect.fail(k) : self.ops.acquireIfAvailable(k)
}

/**
 * Gives back `n` permits (default 1).
 *
 * @category combinators
 * @since 0.1.0
 */
export const release = (self: SharedSemaphore, n?: number): Effect.Effect<void, SharedError> => {
  const k = parsePermits(kind, n)
  return k instanceof SharedError ? Effect.fail(k) : self.ops.release(k)
}

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
