/**
 * `SharedEvent`: its operations, and the flag on shared memory that both sides use (a thread on the memory
 * it shares, the parent for a process worker). After the common header (`wait.ts`), one cell: 1 when set.
 * `set` wakes every waiting isolate; each serves all its waiters.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type { SharedError } from "../../../SharedError.ts"
import { closedError } from "../errors.ts"
import { HEADER_CELLS, ifOpen, waitForFlag, wake } from "../wait.ts"

export const kind = "SharedEvent"

export type EventOps = {
  readonly set: { readonly request: {}; readonly result: void }
  readonly clear: { readonly request: {}; readonly result: void }
  readonly isSet: { readonly request: {}; readonly result: boolean }
  readonly await: { readonly request: { readonly timeout: number | undefined }; readonly result: boolean }
}

export const EVENT_CELLS = 1
const FLAG = HEADER_CELLS

export interface EventView {
  readonly set: Effect.Effect<void, SharedError>
  readonly clear: Effect.Effect<void, SharedError>
  readonly isSet: Effect.Effect<boolean, SharedError>
  /** Whether the flag is set when the wait ends (`false` after the timeout). */
  readonly await: (timeoutMillis: number | undefined) => Effect.Effect<boolean, SharedError>
}

const closed = () => closedError(kind)

/** The event on its memory (`id`: the object's id, which names its waiters in this isolate). */
export const eventOnMemory = (view: Int32Array, id: number): EventView => ({
  set: ifOpen(view, closed, () => {
    Atomics.store(view, FLAG, 1)
    wake(view, Infinity)
  }),
  clear: ifOpen(view, closed, () => void Atomics.store(view, FLAG, 0)),
  isSet: ifOpen(view, closed, () => Atomics.load(view, FLAG) === 1),
  await: (timeout) => waitForFlag(view, id, FLAG, timeout, closed)
})
