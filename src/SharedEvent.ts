/**
 * A flag that workers wait for: one side sets it, every waiter wakes (Python's `multiprocessing.Event`).
 *
 * Made in the parent within a Scope, passed to tasks in their payload (`schema`). `await` is interruptible
 * and takes an optional timeout. After the event's scope ends, every operation fails with reason
 * `Closed`, and pending waits are woken with it.
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
import "./internal/nodeVersion.ts"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { withTimeout } from "./internal/shared/args.ts"
import { lazyImport } from "./internal/lazy.ts"
import { kind } from "./internal/shared/event/protocol.ts"
import { type EventView, eventView } from "./internal/shared/event/worker.ts"
import { type Handle, HandleKey, handleSchema, isKind } from "./internal/shared/object.ts"
import type { SharedError } from "./SharedError.ts"

/** The parent side (making and hosting the object), imported on first use: see `internal/lazy.ts`. */
const parent = lazyImport(() => import("./internal/shared/event/parent.ts"))

/**
 * @category models
 * @since 0.1.0
 */
export interface SharedEvent {
  readonly [HandleKey]: Handle
  /** @internal */
  readonly ops: EventView
}

const fromHandle = (handle: Handle): SharedEvent => ({ [HandleKey]: handle, ops: eventView(handle) })

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
export const make: Effect.Effect<SharedEvent, never, Scope.Scope> = Effect.map(Effect.flatMap(parent, (p) => p.makeEvent), fromHandle)

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
  withTimeout(kind, options?.timeout, self.ops.await)

export {
  /**
   * Waits until the flag is set (see `await_`); `SharedEvent.await` in user code.
   *
   * @category combinators
   * @since 0.1.0
   */
  await_ as await
}
