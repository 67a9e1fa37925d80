/**
 * `SharedArray`, as whoever holds a handle uses it: the memory itself (threads, and the parent; `view` is
 * the live typed array), or calls to the parent (process workers: `view` fails with `Unsupported`).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import { unsupportedError } from "../errors.ts"
import { caller, type Handle } from "../object.ts"
import { arrayOnMemory, type ArrayOps, type ArrayView, kind, parseDetail } from "./protocol.ts"

export type { ArrayView }

export const arrayView = (handle: Handle): ArrayView => {
  const { elementType, length } = parseDetail(handle.detail)
  if (handle.buffer !== undefined) return arrayOnMemory(elementType, handle.buffer, length)
  const call = caller<ArrayOps>(handle)
  return {
    view: Effect.fail(unsupportedError(kind, "a process worker cannot view shared memory; use get, set, add or toArray")),
    get: (index) => call({ _tag: "get", index }),
    set: (index, value) => call({ _tag: "set", index, value }),
    add: (index, value) => call({ _tag: "add", index, value }),
    compareExchange: (index, expected, replacement) => call({ _tag: "compareExchange", index, expected, replacement }),
    toArray: call({ _tag: "toArray" })
  }
}
