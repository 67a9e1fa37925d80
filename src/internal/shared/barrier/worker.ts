/**
 * `SharedBarrier`, as whoever holds a handle uses it: calls to the parent, which hosts every barrier.
 *
 * @internal
 */
import type * as Effect from "effect/Effect"
import type { SharedError } from "../../../SharedError.ts"
import { caller, type Handle } from "../object.ts"
import type { BarrierOps } from "./protocol.ts"

export interface BarrierView {
  readonly await: (timeoutMillis: number | undefined) => Effect.Effect<number, SharedError>
  readonly abort: Effect.Effect<void, SharedError>
  readonly reset: Effect.Effect<void, SharedError>
  readonly isBroken: Effect.Effect<boolean, SharedError>
  readonly waiting: Effect.Effect<number, SharedError>
}

export const barrierView = (handle: Handle): BarrierView => {
  const call = caller<BarrierOps>(handle)
  return {
    await: (timeout) => call({ _tag: "await", timeout }),
    abort: call({ _tag: "abort" }),
    reset: call({ _tag: "reset" }),
    isBroken: call({ _tag: "isBroken" }),
    waiting: call({ _tag: "waiting" })
  }
}
