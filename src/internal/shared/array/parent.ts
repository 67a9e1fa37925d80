/**
 * `SharedArray`, the parent's side: the memory, and the operations served for process workers. When the
 * scope ends, the closed flag is raised in the memory: every operation, everywhere, fails with `Closed`.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { ElementType } from "../../../SharedArray.ts"
import { type Handle, hostScoped } from "../object.ts"
import { close } from "../wait.ts"
import { arrayOnMemory, type ArrayOps, constructors, detailOf, HEADER_BYTES, headerOf, kind } from "./protocol.ts"

export const makeArray = (elementType: ElementType, length: number): Effect.Effect<Handle, never, Scope.Scope> =>
  Effect.suspend(() => {
    const buffer = new SharedArrayBuffer(HEADER_BYTES + length * constructors[elementType].BYTES_PER_ELEMENT)
    const array = arrayOnMemory(elementType, buffer, length)
    return Effect.map(
      hostScoped<ArrayOps>({
        kind,
        handlers: () => ({
          get: (_owner, { index }) => array.get(index),
          set: (_owner, { index, value }) => array.set(index, value),
          add: (_owner, { index, value }) => array.add(index, value),
          compareExchange: (_owner, { expected, index, replacement }) => array.compareExchange(index, expected, replacement),
          toArray: () => array.toArray
        }),
        close: () => close(headerOf(buffer))
      }),
      (id): Handle => ({ kind, id, buffer, detail: detailOf(elementType, length) })
    )
  })
