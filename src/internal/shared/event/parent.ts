/**
 * `SharedEvent`, the parent's side: the memory, and the operations served for process workers.
 *
 * @internal
 */
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { type Handle, makeOnMemory } from "../object.ts"
import { EVENT_CELLS, eventOnMemory, type EventOps, kind } from "./protocol.ts"

export const makeEvent: Effect.Effect<Handle, never, Scope.Scope> = makeOnMemory<EventOps>({
  kind,
  cells: EVENT_CELLS,
  handlers: (view, id) => {
    const event = eventOnMemory(view, id)
    return {
      set: () => event.set,
      clear: () => event.clear,
      isSet: () => event.isSet,
      await: (_owner, { timeout }) => event.await(timeout)
    }
  }
})
