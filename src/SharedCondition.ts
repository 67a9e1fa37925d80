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
import * as Cause from "effect/Cause"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { dual } from "effect/Function"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as SchemaTransformation from "effect/SchemaTransformation"
import type * as Scope from "effect/Scope"
import { timeoutMillis } from "./internal/shared/args.ts"
import { closedError, hasReason, timeoutError } from "./internal/shared/errors.ts"
import { callHost, type Handle, HandleKey, isKind, unknownOp } from "./internal/shared/object.ts"
import { host } from "./internal/shared/registry.ts"
import { fiberCell } from "./internal/shared/rlock.ts"
import { SharedError } from "./SharedError.ts"
import * as SharedLock from "./SharedLock.ts"
import * as SharedRLock from "./SharedRLock.ts"

const kind = "SharedCondition"

/**
 * @category models
 * @since 0.1.0
 */
export interface SharedCondition {
  readonly [HandleKey]: Handle
  /** The lock that `await` releases and takes back. */
  readonly lock: SharedLock.SharedLock | SharedRLock.SharedRLock
}

const timedOut = (millis: number) =>
  timeoutError(kind, millis, "a notify")

/**
 * The lock as `await` uses it, for one fiber: released completely (a re-entrant lock may be held several
 * times) and taken back as it was.
 */
const lockFor = (lock: SharedCondition["lock"], fiber: number) =>
  SharedRLock.isSharedRLock(lock)
    ? {
      releaseSave: lock.ops.releaseAll(fiber),
      acquireRestore: (saved: number) => lock.ops.acquire(fiber, saved, undefined)
    }
    : {
      releaseSave: Effect.as(lock.ops.release, 1),
      acquireRestore: (_saved: number) => lock.ops.acquire(undefined)
    }

const fromParts = (id: number, lock: SharedCondition["lock"]): SharedCondition => ({
  [HandleKey]: { kind, id, buffer: undefined },
  lock
})

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

interface Waiter {
  readonly owner: number
  notified: boolean
  wake: (() => void) | undefined
}

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
    // every registered waiter by ticket, and those not yet notified, both in arrival order
    let nextTicket = 1
    const tickets = new Map<number, Waiter>()
    const queue = new Map<number, Waiter>()
    let closed = false
    const notify = (n: number): void => {
      for (const [ticket, waiter] of queue) {
        if (n <= 0) break
        queue.delete(ticket)
        waiter.notified = true
        waiter.wake?.()
        n--
      }
    }
    // A waiter leaves: one that was notified but will not act on it passes the notify on.
    const leave = (ticket: number, consumed: boolean): void => {
      const waiter = tickets.get(ticket)
      if (waiter === undefined) return
      tickets.delete(ticket)
      queue.delete(ticket)
      if (waiter.notified && !consumed) notify(1)
    }
    const wait = (ticket: number, millis: number | undefined): Effect.Effect<void, SharedError> =>
      Effect.suspend(() => {
        const waiter = tickets.get(ticket)
        // unknown ticket: its worker was declared gone; a spurious wake-up is allowed
        if (waiter === undefined) return Effect.void
        const waiting = Effect.callback<void, SharedError>((resume) => {
          if (closed) return resume(Effect.fail(closedError(kind)))
          if (waiter.notified) return resume(Effect.void)
          waiter.wake = () => resume(closed ? Effect.fail(closedError(kind)) : Effect.void)
          return Effect.sync(() => {
            waiter.wake = undefined
          })
        })
        const timed = millis === undefined
          ? waiting
          : Effect.flatMap(Effect.timeoutOption(waiting, millis), (o) => Option.isSome(o) ? Effect.void : Effect.fail(timedOut(millis)))
        return Effect.onExit(timed, (exit) => Effect.sync(() => leave(ticket, Exit.isSuccess(exit))))
      })
    const hosted = yield* Effect.acquireRelease(
      Effect.sync(() =>
        host({
          kind,
          call: (owner, op, args) => {
            switch (op) {
              case "register":
                return Effect.sync(() => {
                  const ticket = nextTicket++
                  const waiter: Waiter = { owner, notified: false, wake: undefined }
                  tickets.set(ticket, waiter)
                  queue.set(ticket, waiter)
                  return ticket
                })
              case "unregister":
                return Effect.sync(() => leave(args[args.length - 1] as number, false))
              case "wait":
                return wait(args[0] as number, args[1] as number | undefined)
              case "notify":
                return Effect.sync(() => notify(args[0] as number))
              case "notifyAll":
                return Effect.sync(() => notify(queue.size))
              case "waiting":
                return Effect.sync(() => queue.size)
              default:
                return unknownOp(kind, op)
            }
          },
          ownerGone: (owner) => {
            for (const [ticket, waiter] of tickets) if (waiter.owner === owner) leave(ticket, false)
          }
        })
      ),
      (h) =>
        Effect.sync(() => {
          // every wait pending now fails with Closed, at once
          h.remove()
          closed = true
          for (const waiter of tickets.values()) waiter.wake?.()
        })
    )
    return fromParts(hosted.id, lock)
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
  Effect.withFiber((current) => {
    const lock = lockFor(self.lock, fiberCell(current.id))
    const handle = self[HandleKey]
    return Effect.uninterruptibleMask((restore) =>
      Effect.gen(function*() {
        // register before releasing the lock: a notify sent once the lock is free must find this waiter
        const ticket = (yield* restore(
          callHost(handle, "register", [], { op: "unregister", args: [], withResult: true })
        )) as number
        const saved = yield* Effect.catch(
          lock.releaseSave,
          (e) => Effect.andThen(Effect.ignore(callHost(handle, "unregister", [ticket])), Effect.fail(e))
        )
        // a wait that completes after its caller gave up received a notify it will not use: pass it on
        const waited = yield* Effect.exit(restore(callHost(handle, "wait", [ticket, millis], { op: "notify", args: [1] })))
        // interrupted before the wait was even sent: the ticket is still registered; drop it (a no-op if
        // the wait did run and already left)
        if (Exit.isFailure(waited)) yield* Effect.ignore(callHost(handle, "unregister", [ticket]))
        // the lock is taken back whatever happened; only a closed lock (its scope ended) cannot be
        const restored = yield* Effect.exit(lock.acquireRestore(saved))
        if (Exit.isFailure(waited)) return yield* waited
        if (Exit.isFailure(restored)) {
          const closedLock = Cause.findErrorOption(restored.cause)
          if (Option.isSome(closedLock) && hasReason(closedLock.value, "Closed")) return yield* Effect.fail(closedLock.value)
          return yield* Effect.die(Cause.squash(restored.cause))
        }
        // interrupted while taking the lock back after a notify: it will not act on it, the next waiter may
        return yield* Effect.onInterrupt(restore(Effect.void), () => Effect.ignore(notify(self, 1)))
      })
    )
  })

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
): Effect.Effect<void, SharedError> => Effect.flatMap(timeoutMillis(kind, options?.timeout), (ms) => awaitMillis(self, ms))

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
  Effect.flatMap(timeoutMillis(kind, options?.timeout), (total) => {
    const deadline = total === undefined ? Infinity : performance.now() + total
    const loop: Effect.Effect<void, E | SharedError, R> = Effect.flatMap(predicate, (ok) => {
      if (ok) return Effect.void
      const left = deadline - performance.now()
      if (left <= 0) return Effect.fail(timedOut(total!))
      return Effect.andThen(
        // after a timeout, one last look: the state may have changed without a notify reaching us
        Effect.catchIf(awaitMillis(self, left === Infinity ? undefined : Math.max(1, Math.ceil(left))), (e) => e.reason._tag === "Timeout", () =>
          Effect.flatMap(predicate, (last) => (last ? Effect.void : Effect.fail(timedOut(total!))))),
        loop
      )
    })
    return loop
  })

/**
 * Wakes up to `n` waiters (default 1), the longest waiting first. Does not need the lock, but changing
 * the state and notifying under the lock is what keeps a waiter from missing the change.
 *
 * @category combinators
 * @since 0.1.0
 */
export const notify = (self: SharedCondition, n = 1): Effect.Effect<void, SharedError> =>
  Effect.asVoid(callHost(self[HandleKey], "notify", [n]))

/**
 * Wakes every waiter.
 *
 * @category combinators
 * @since 0.1.0
 */
export const notifyAll = (self: SharedCondition): Effect.Effect<void, SharedError> =>
  Effect.asVoid(callHost(self[HandleKey], "notifyAll", []))

/**
 * The number of fibers waiting for a notify now.
 *
 * @category getters
 * @since 0.1.0
 */
export const waiting = (self: SharedCondition): Effect.Effect<number, SharedError> =>
  callHost(self[HandleKey], "waiting", []) as Effect.Effect<number, SharedError>
