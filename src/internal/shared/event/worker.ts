/**
 * `SharedEvent`, as whoever holds a handle uses it: on the shared memory itself (threads, and the parent),
 * or through calls to the parent (process workers).
 *
 * @internal
 */
import { caller, type Handle } from "../object.ts"
import { eventOnMemory, type EventOps, type EventView } from "./protocol.ts"

export type { EventView }

export const eventView = (handle: Handle): EventView => {
  if (handle.buffer !== undefined) return eventOnMemory(new Int32Array(handle.buffer), handle.id)
  const call = caller<EventOps>(handle)
  return {
    set: call({ _tag: "set" }),
    clear: call({ _tag: "clear" }),
    isSet: call({ _tag: "isSet" }),
    await: (timeout) => call({ _tag: "await", timeout })
  }
}
