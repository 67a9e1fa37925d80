/**
 * Lets workers wait, under a lock, until another worker says that some shared state has changed (Python's
 * `multiprocessing.Condition`).
 *
 * A condition pairs a lock with a list of waiters. A fiber that holds the lock calls `await`: the lock is
 * released, the fiber waits for a `notify`, and it takes the lock back before `await` returns, so it can
 * look at the state again. `awaitFor(predicate)` does that in a loop until the predicate holds. The lock
 * is the condition's own re-entrant lock (a `SharedRLock`, as in Python), or a `SharedLock` or
 * `SharedRLock` given to `make`, which can then guard other code too.
 *
 * The list of waiters is hosted by the parent on every backend (threads and processes alike: a wait is a
 * message to the parent and a reply); the lock lives in shared memory on threads, as it does on its own.
 *
 * **Rules**
 * - `await` takes the lock back before it returns, whatever happens: a notify, a timeout (then it fails
 *   with reason `Timeout`), or an interruption (then the fiber is interrupted holding the lock, and the
 *   `withLock` around it releases it). Taking the lock back cannot be interrupted.
 * - R1: a notify is never lost to a waiter that gave up: if a waiter is interrupted or times out after it
 *   was notified, the notify goes to the next waiter.
 * - After the condition's scope ends, every operation fails with reason `Closed`; a pending `await` is
 *   woken with it (it takes the lock back first if the lock is still open).
 * - R8: a worker that dies is removed from the waiters (a notify it had received goes on), and the lock
 *   it held is released.
 * - Waiters are woken in the order they started waiting. As with every condition variable, a woken
 *   waiter should check the state again (`awaitFor` does).
 *
 * **Example** (A consumer waits until there is something to take)
 *
 * ```ts
 * // in a consumer task, with { ready: SharedCondition.schema, stock: SharedArray.schema } in the payload
 * SharedCondition.withLock(ready)(
 *   Effect.gen(function*() {
 *     yield* SharedCondition.awaitFor(ready, Effect.map(SharedArray.get(stock, 0), (n) => n > 0))
 *     yield* SharedArray.add(stock, 0, -1)
 *   })
 * )
 * // in a producer task
 * SharedCondition.withLock(ready)(
 *   Effect.andThen(SharedArray.add(stock, 0, 1), SharedCondition.notify(ready))
 * )
 * ```
 *
 * @since 0.1.0
 */
import "./internal/nodeVersion.ts"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Schema from "effect/Schema"
import * as SchemaTransformation from "effect/SchemaTransformation"
import type * as Scope from "effect/Scope"
import { withTimeout } from "./internal/shared/args.ts"
import { lazyImport } from "./internal/lazy.ts"
import { kind } from "./internal/shared/condition/protocol.ts"
import { type ConditionView, conditionView, type WaitLock } from "./internal/shared/condition/worker.ts"
import { timeoutError } from "./internal/shared/errors.ts"
import { type Handle, HandleKey, isKind } from "./internal/shared/object.ts"
import { fiberCell } from "./internal/shared/rlock/protocol.ts"
import type { SharedError } from "./SharedError.ts"
import * as SharedLock from "./SharedLock.ts"
import * as SharedRLock from "./SharedRLock.ts"

/** The parent side (making and hosting the object), imported on first use: see `internal/lazy.ts`. */
const parent = lazyImport(() => import("./internal/shared/condition/parent.ts"))

/**
 * @category models
 * @since 0.1.0
 */
export interface SharedCondition {
  readonly [HandleKey]: Handle
  /** The lock that `await` releases and takes back. */
  readonly lock: SharedLock.SharedLock | SharedRLock.SharedRLock
  /** @internal */
  readonly ops: ConditionView
}

/**
 * The lock as `await` uses it, for one fiber: released completely (a re-entrant lock may be held several
 * times) and taken back as it was.
 */
const lockFor = (lock: SharedCondition["lock"], fiber: number): WaitLock =>
  SharedRLock.isSharedRLock(lock)
    ? {
      releaseSave: lock.ops.releaseAll(fiber),
      acquireRestore: (saved) => lock.ops.acquire(fiber, saved, undefined)
    }
    : {
      releaseSave: Effect.as(lock.ops.release, 1),
      acquireRestore: () => lock.ops.acquire(undefined)
    }

const fromParts = (id: number, lock: SharedCondition["lock"]): SharedCondition => {
  const handle: Handle = { kind, id, buffer: undefined }
  return { [HandleKey]: handle, lock, ops: conditionView(handle) }
}

/**
 * Tells whether a value is a {@link SharedCondition}.
 *
 * @category guards
 * @since 0.1.0
 */
export const isSharedCondition: (u: unknown) => u is SharedCondition = isKind<SharedCondition>(kind)

/**
 * The schema to put a condition in a task's payload (its lock travels with it).
 *
 * @category schemas
 * @since 0.1.0
 */
export const schema: Schema.Codec<
  SharedCondition,
  { readonly kind: string; readonly id: number; readonly lock: unknown }
> = Schema.Struct({
  kind: Schema.Literal(kind),
  id: Schema.Number,
  lock: Schema.Union([SharedLock.schema, SharedRLock.schema])
}).pipe(
  Schema.decodeTo(
    Schema.declare(isSharedCondition),
    SchemaTransformation.transform({
      decode: (e) => fromParts(e.id, e.lock),
      encode: (c) => ({ kind, id: c[HandleKey].id, lock: c.lock })
    })
  )
) as never

/**
 * Makes a condition that lives as long as the current scope, with its own `SharedRLock` or with `lock`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  options?: { readonly lock?: SharedLock.SharedLock | SharedRLock.SharedRLock | undefined }
): Effect.Effect<SharedCondition, never, Scope.Scope> =>
  Effect.gen(function*() {
    const lock = options?.lock ?? (yield* SharedRLock.make)
    const { makeConditionWaiters } = yield* parent
    return fromParts(yield* makeConditionWaiters, lock)
  })

/**
 * Waits until the condition's lock is free and takes it (see `SharedLock.acquire`, `SharedRLock.acquire`).
 *
 * @category combinators
 * @since 0.1.0
 */
export const acquire = (
  self: SharedCondition,
  options?: { readonly timeout?: Duration.Input | undefined }
): Effect.Effect<void, SharedError> =>
  SharedRLock.isSharedRLock(self.lock) ? SharedRLock.acquire(self.lock, options) : SharedLock.acquire(self.lock, options)

/**
 * Releases the condition's lock.
 *
 * @category combinators
 * @since 0.1.0
 */
export const release = (self: SharedCondition): Effect.Effect<void, SharedError> =>
  SharedRLock.isSharedRLock(self.lock) ? SharedRLock.release(self.lock) : SharedLock.release(self.lock)

/**
 * Runs an effect while holding the condition's lock, and releases it whatever the effect does.
 *
 * @category combinators
 * @since 0.1.0
 */
export const withLock: {
  (self: SharedCondition): <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | SharedError, R>
  <A, E, R>(effect: Effect.Effect<A, E, R>, self: SharedCondition): Effect.Effect<A, E | SharedError, R>
} = dual(
  2,
  <A, E, R>(effect: Effect.Effect<A, E, R>, self: SharedCondition): Effect.Effect<A, E | SharedError, R> =>
    SharedRLock.isSharedRLock(self.lock) ? SharedRLock.withLock(effect, self.lock) : SharedLock.withLock(effect, self.lock)
)

const awaitMillis = (self: SharedCondition, millis: number | undefined): Effect.Effect<void, SharedError> =>
  Effect.withFiber((current) => self.ops.await(lockFor(self.lock, fiberCell(current.id)), millis))

/**
 * Releases the lock (which this fiber must hold: else fails with reason `OverRelease`), waits for a
 * `notify`, and takes the lock back before returning, also when the wait times out (reason `Timeout`) or
 * is interrupted. A re-entrant lock held several times is released completely and taken back as many
 * times. As with every condition variable, check the state again after it returns (or use `awaitFor`).
 *
 * @category combinators
 * @since 0.1.0
 */
export const await_ = (
  self: SharedCondition,
  options?: { readonly timeout?: Duration.Input | undefined }
): Effect.Effect<void, SharedError> => withTimeout(kind, options?.timeout, (ms) => awaitMillis(self, ms))

export {
  /**
   * Waits for a notify, under the lock (see `await_`); `SharedCondition.await` in user code.
   *
   * @category combinators
   * @since 0.1.0
   */
  await_ as await
}

/**
 * Waits, holding the lock, until `predicate` holds: evaluates it, and while it is false waits for a
 * notify and evaluates it again (Python's `Condition.wait_for`). With `timeout` (for the whole wait),
 * fails with reason `Timeout` if the predicate is still false by then. The predicate runs in the
 * caller, under the lock.
 *
 * @category combinators
 * @since 0.1.0
 */
export const awaitFor = <E, R>(
  self: SharedCondition,
  predicate: Effect.Effect<boolean, E, R>,
  options?: { readonly timeout?: Duration.Input | undefined }
): Effect.Effect<void, E | SharedError, R> =>
  withTimeout(kind, options?.timeout, (total) => Effect.suspend(() => {
    const deadline = total === undefined ? Infinity : performance.now() + total
    const loop: Effect.Effect<void, E | SharedError, R> = Effect.flatMap(predicate, (ok) => {
      if (ok) return Effect.void
      const left = deadline - performance.now()
      if (left <= 0) return Effect.fail(timeoutError(kind, total!, "a notify"))
      return Effect.andThen(
        // after a timeout, one last look: the state may have changed without a notify reaching us
        Effect.catchIf(awaitMillis(self, left === Infinity ? undefined : Math.max(1, Math.ceil(left))), (e) => e.reason._tag === "Timeout", () =>
          Effect.flatMap(predicate, (last) => (last ? Effect.void : Effect.fail(timeoutError(kind, total!, "a notify"))))),
        loop
      )
    })
    return loop
  }))

/**
 * Wakes up to `n` waiters (default 1), the longest waiting first. Does not need the lock, but changing
 * the state and notifying under the lock is what keeps a waiter from missing the change.
 *
 * @category combinators
 * @since 0.1.0
 */
export const notify = (self: SharedCondition, n = 1): Effect.Effect<void, SharedError> => self.ops.notify(n)

/**
 * Wakes every waiter.
 *
 * @category combinators
 * @since 0.1.0
 */
export const notifyAll = (self: SharedCondition): Effect.Effect<void, SharedError> => self.ops.notifyAll

/**
 * The number of fibers waiting for a notify now.
 *
 * @category getters
 * @since 0.1.0
 */
export const waiting = (self: SharedCondition): Effect.Effect<number, SharedError> => self.ops.waiting
