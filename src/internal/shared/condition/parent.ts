/**
 * `SharedCondition`, the parent's side: the list of waiters in arrival order, on every backend. A notify
 * wakes the longest waiting; a waiter that gives up after being notified passes the notify on; a worker
 * that is gone leaves the list (its notify passes on, R8); the scope's end fails every wait with `Closed`.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import type { SharedError } from "../../../SharedError.ts"
import { closedError, timeoutError } from "../errors.ts"
import { hostScoped } from "../object.ts"
import { type ConditionOps, kind } from "./protocol.ts"

interface Waiter {
  readonly owner: number
  notified: boolean
  wake: (() => void) | undefined
}

/** Hosts the waiters' list for the current scope; returns the condition's id. */
export const makeConditionWaiters: Effect.Effect<number, never, Scope.Scope> = Effect.suspend(() => {
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
        : Effect.flatMap(
          Effect.timeoutOption(waiting, millis),
          (o) => Option.isSome(o) ? Effect.void : Effect.fail(timeoutError(kind, millis, "a notify"))
        )
      return Effect.onExit(timed, (exit) => Effect.sync(() => leave(ticket, Exit.isSuccess(exit))))
    })
  return hostScoped<ConditionOps>({
    kind,
    handlers: () => ({
      register: (owner) =>
        Effect.sync(() => {
          const ticket = nextTicket++
          const waiter: Waiter = { owner, notified: false, wake: undefined }
          tickets.set(ticket, waiter)
          queue.set(ticket, waiter)
          return ticket
        }),
      unregister: (_owner, { ticket }) => Effect.sync(() => leave(ticket, false)),
      wait: (_owner, { ticket, timeout }) => wait(ticket, timeout),
      notify: (_owner, { n }) => Effect.sync(() => notify(n)),
      notifyAll: () => Effect.sync(() => notify(queue.size)),
      waiting: () => Effect.sync(() => queue.size)
    }),
    ownerGone: (owner) => {
      for (const [ticket, waiter] of tickets) if (waiter.owner === owner) leave(ticket, false)
    },
    close: () => {
      // every wait pending now fails with Closed, at once
      closed = true
      for (const waiter of tickets.values()) waiter.wake?.()
    }
  })
})
