/**
 * A flag that workers wait for: one side sets it, every waiter wakes (Python's `multiprocessing.Event`).
 *
 * Made in the parent within a Scope, passed to tasks in their payload (`schema`). `await` is interruptible
 * and takes an optional timeout.
 *
 * **Example** (Workers start together)
 *
 * ```ts
 * const go = yield* SharedEvent.make
 * const runners = yield* Effect.forkChild(WorkerPool.map(Runner, ids.map((id) => ({ id, go }))))
 * yield* SharedEvent.set(go)
 * ```
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { timeoutMillis } from "./internal/shared/args.ts"
import { closedError } from "./internal/shared/errors.ts"
import { ifOpen } from "./internal/shared/lock.ts"
import { callHost, type Handle, HandleKey, handleSchema, isKind, makeHosted, unknownOp } from "./internal/shared/object.ts"
import { HEADER_CELLS, waitForFlag, wake } from "./internal/shared/wait.ts"
import type { SharedError } from "./SharedError.ts"

const kind = "SharedEvent"

/**
 * @category models
 * @since 0.1.0
 */
export interface SharedEvent {
  readonly [HandleKey]: Handle
  /** @internal */
  readonly ops: {
    readonly set: Effect.Effect<void, SharedError>
    readonly clear: Effect.Effect<void, SharedError>
    readonly isSet: Effect.Effect<boolean, SharedError>
    readonly await: (timeoutMillis: number | undefined) => Effect.Effect<boolean, SharedError>
  }
}

const FLAG = HEADER_CELLS

const local = (view: Int32Array, id: number): SharedEvent["ops"] => ({
  set: ifOpen(kind, view, () => {
    Atomics.store(view, FLAG, 1)
    wake(view, Infinity)
  }),
  clear: ifOpen(kind, view, () => void Atomics.store(view, FLAG, 0)),
  isSet: ifOpen(kind, view, () => Atomics.load(view, FLAG) === 1),
  await: (timeout) => waitForFlag(view, id, FLAG, timeout, () => closedError(kind))
})

const fromHandle = (handle: Handle): SharedEvent => {
  if (handle.buffer !== undefined) return { [HandleKey]: handle, ops: local(new Int32Array(handle.buffer), handle.id) }
  return {
    [HandleKey]: handle,
    ops: {
      set: Effect.asVoid(callHost(handle, "set", [])),
      clear: Effect.asVoid(callHost(handle, "clear", [])),
      isSet: callHost(handle, "isSet", []) as Effect.Effect<boolean, SharedError>,
      await: (timeout) => callHost(handle, "await", [timeout]) as Effect.Effect<boolean, SharedError>
    }
  }
}

/**
 * Tells whether a value is a {@link SharedEvent}.
 *
 * @category guards
 * @since 0.1.0
 */
export const isSharedEvent: (u: unknown) => u is SharedEvent = isKind<SharedEvent>(kind)

/**
 * The schema to put an event in a task's payload.
 *
 * @category schemas
 * @since 0.1.0
 */
export const schema = handleSchema<SharedEvent>(kind, isSharedEvent, fromHandle)

/**
 * Makes an event, not set, alive as long as the current scope.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make: Effect.Effect<SharedEvent, never, Scope.Scope> = makeHosted({
  kind,
  cells: 1,
  build: fromHandle,
  call: (view, id) => {
    const ops = local(view, id)
    return (_owner, op, args) => {
      switch (op) {
        case "set":
          return ops.set
        case "clear":
          return ops.clear
        case "isSet":
          return ops.isSet
        case "await":
          return ops.await(args[0] as number | undefined)
        default:
          return unknownOp(kind, op)
      }
    }
  }
})

/**
 * Sets the flag and wakes every waiter.
 *
 * @category combinators
 * @since 0.1.0
 */
export const set = (self: SharedEvent): Effect.Effect<void, SharedError> => self.ops.set

/**
 * Clears the flag.
 *
 * @category combinators
 * @since 0.1.0
 */
export const clear = (self: SharedEvent): Effect.Effect<void, SharedError> => self.ops.clear

/**
 * Tells whether the flag is set.
 *
 * @category getters
 * @since 0.1.0
 */
export const isSet = (self: SharedEvent): Effect.Effect<boolean, SharedError> => self.ops.isSet

/**
 * Waits until the flag is set; with `timeout`, for at most that long. Returns whether the flag is set (so
 * `false` means the timeout passed), as Python's `Event.wait` does.
 *
 * @category combinators
 * @since 0.1.0
 */
export const await_ = (
  self: SharedEvent,
  options?: { readonly timeout?: Duration.Input | undefined }
): Effect.Effect<boolean, SharedError> =>
  Effect.flatMap(timeoutMillis(kind, options?.timeout), self.ops.await)

export {
  /**
   * Waits until the flag is set (see `await_`); `SharedEvent.await` in user code.
   *
   * @category combinators
   * @since 0.1.0
   */
  await_ as await
}
