/**
 * `SharedCondition`, as whoever holds a handle uses it: calls on the waiters' list (hosted by the parent),
 * and the wait itself, which registers, releases the lock completely, waits, and takes the lock back.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type { SharedError } from "../../../SharedError.ts"
import { hasReason } from "../errors.ts"
import { caller, type Handle } from "../object.ts"
import type { ConditionOps } from "./protocol.ts"

/** The condition's lock as a wait uses it, for the current fiber. */
export interface WaitLock {
  /** Releases the lock completely (a re-entrant one may be held several times); returns how many holds. */
  readonly releaseSave: Effect.Effect<number, SharedError>
  /** Takes the lock back as it was. */
  readonly acquireRestore: (saved: number) => Effect.Effect<void, SharedError>
}

export interface ConditionView {
  /** Waits for a notify under the lock, taking it back before returning (see `SharedCondition.await`). */
  readonly await: (lock: WaitLock, timeoutMillis: number | undefined) => Effect.Effect<void, SharedError>
  readonly notify: (n: number) => Effect.Effect<void, SharedError>
  readonly notifyAll: Effect.Effect<void, SharedError>
  readonly waiting: Effect.Effect<number, SharedError>
}

export const conditionView = (handle: Handle): ConditionView => {
  const call = caller<ConditionOps>(handle)
  const notify = (n: number) => call({ _tag: "notify", n })
  const unregister = (ticket: number) => Effect.ignore(call({ _tag: "unregister", ticket }))
  return {
    await: (lock, timeout) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function*() {
          // register before releasing the lock: a notify sent once the lock is free must find this waiter
          const ticket = yield* restore(call({ _tag: "register" }, (ticket) => ({ _tag: "unregister", ticket })))
          const saved = yield* Effect.catch(lock.releaseSave, (e) => Effect.andThen(unregister(ticket), Effect.fail(e)))
          // a wait that completes after its caller gave up received a notify it will not use: pass it on
          const waited = yield* Effect.exit(restore(call({ _tag: "wait", ticket, timeout }, () => ({ _tag: "notify", n: 1 }))))
          // interrupted before the wait was even sent: the ticket is still registered; drop it (a no-op if
          // the wait did run and already left)
          if (Exit.isFailure(waited)) yield* unregister(ticket)
          // the lock is taken back whatever happened; only a closed lock (its scope ended) cannot be
          const restored = yield* Effect.exit(lock.acquireRestore(saved))
          if (Exit.isFailure(waited)) return yield* waited
          if (Exit.isFailure(restored)) {
            const closedLock = Cause.findErrorOption(restored.cause)
            if (Option.isSome(closedLock) && hasReason(closedLock.value, "Closed")) return yield* Effect.fail(closedLock.value)
            return yield* Effect.die(Cause.squash(restored.cause))
          }
          // interrupted while taking the lock back after a notify: it will not act on it, the next waiter may
          return yield* Effect.onInterrupt(restore(Effect.void), () => Effect.ignore(notify(1)))
        })
      ),
    notify,
    notifyAll: call({ _tag: "notifyAll" }),
    waiting: call({ _tag: "waiting" })
  }
}
