/**
 * Serves workers' calls on parent-hosted shared objects: runs each call as a fiber for the calling
 * worker's owner token, answers with its result, abandons it when the caller is interrupted, and when a
 * worker is gone interrupts its pending calls; after a crash every object then gives back what that
 * worker's running task held (R8), after a normal exit nothing.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Schema from "effect/Schema"
import { SharedError } from "../../SharedError.ts"
import type { FromWorker, ToWorker } from "../protocol.ts"
import { toWireDefect } from "../protocol.ts"
import { closedError } from "../shared/errors.ts"
import { registry, workerGone } from "../shared/registry.ts"

type Call = Extract<FromWorker, { readonly _tag: "Call" }>

const encodeError = Schema.encodeSync(SharedError)

/** A call being served: its fiber and the object it is on. */
interface Pending {
  readonly fiber: Fiber.Fiber<unknown, unknown>
  readonly object: number
}

export class HostCalls {
  private readonly pending = new Map<number, Map<number, Pending>>()

  onCall(workerId: number, owner: number, call: Call, reply: (message: ToWorker) => void): void {
    const object = registry.hosted.get(call.object)
    if (object === undefined) {
      return reply({
        _tag: "Return",
        id: call.id,
        ok: false,
        value: { error: encodeError(closedError("shared object")) }
      })
    }
    let calls = this.pending.get(workerId)
    if (calls === undefined) this.pending.set(workerId, calls = new Map())
    const fiber = Effect.runFork(object.call(owner, call.request))
    calls.set(call.id, { fiber, object: call.object })
    fiber.addObserver((exit) => {
      if (calls.get(call.id)?.fiber !== fiber) return
      calls.delete(call.id)
      if (Exit.isSuccess(exit)) return reply({ _tag: "Return", id: call.id, ok: true, value: exit.value })
      const fail = exit.cause.reasons.find(Cause.isFailReason)
      if (fail !== undefined && fail.error instanceof SharedError) {
        return reply({ _tag: "Return", id: call.id, ok: false, value: { error: encodeError(fail.error) } })
      }
      if (Cause.hasInterruptsOnly(exit.cause)) return
      reply({ _tag: "Return", id: call.id, ok: false, value: { defect: toWireDefect(Cause.squash(exit.cause)) } })
    })
  }

  onCancel(workerId: number, id: number): void {
    const calls = this.pending.get(workerId)
    const pending = calls?.get(id)
    if (pending === undefined) return
    calls!.delete(id)
    pending.fiber.interruptUnsafe()
  }

  /**
   * The calls of a worker still being served, by call id and object: a worker whose task waits on a
   * parent-hosted object (a queue's take, a barrier, any wait of a process worker) has one pending.
   */
  pendingOf(workerId: number): ReadonlyArray<{ readonly id: number; readonly object: number }> {
    const calls = this.pending.get(workerId)
    if (calls === undefined || calls.size === 0) return []
    return Array.from(calls, ([id, p]) => ({ id, object: p.object }))
  }

  /**
   * The worker is gone: its calls stop waiting. `crashed`: it died while running a task (or was killed
   * because it would not stop), as opposed to retiring, idling out or closing with the pool.
   */
  workerGone(workerId: number, owner: number, crashed: boolean): void {
    const calls = this.pending.get(workerId)
    this.pending.delete(workerId)
    if (calls !== undefined) for (const p of calls.values()) p.fiber.interruptUnsafe()
    workerGone(owner, crashed)
  }
}
