/**
 * Makes a fixed number of parties wait for each other: each `await` returns once `parties` of them have
 * arrived (Python's `multiprocessing.Barrier`).
 *
 * A barrier is made in the parent within a Scope for `parties` parties, with an optional `action` (an
 * effect that runs in the parent, once, when the last party arrives and before any party is released)
 * and an optional default `timeout`. It can be used again and again: once it trips, the next `parties`
 * arrivals make the next generation. The parent hosts the barrier on every backend; workers reach it
 * over the pool's channel.
 *
 * A barrier that cannot trip any more is **broken**, and every party waiting on it, and every later
 * `await`, fails with a `SharedError` of reason `Broken` until `reset`. It breaks when:
 * - a party's wait times out (that party fails with reason `Timeout`, the others with `Broken`);
 * - `abort` is called;
 * - `reset` is called while parties wait (they fail with `Broken`; the barrier is then fresh);
 * - a waiting party is interrupted, as in Python: the others would wait for an arrival that will not come;
 * - R8: a waiting party's worker dies;
 * - the `action` fails (or dies).
 *
 * After the barrier's scope ends, every operation fails with reason `Closed`, and so do the parties waiting
 * then.
 *
 * **Example** (Three workers finish step 1 before any starts step 2)
 *
 * ```ts
 * const barrier = yield* SharedBarrier.make(3, { action: Effect.log("step done") })
 * yield* WorkerPool.map(Steps, [0, 1, 2].map((k) => ({ k, barrier })), { concurrency: 3 })
 * // in the task: yield* stepOne(k); yield* SharedBarrier.await(barrier); yield* stepTwo(k)
 * ```
 *
 * @since 0.1.0
 */
import "./internal/nodeVersion.ts"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { parseTimeout, withTimeout } from "./internal/shared/args.ts"
import { lazyImport } from "./internal/lazy.ts"
import { kind } from "./internal/shared/barrier/protocol.ts"
import { type BarrierView, barrierView } from "./internal/shared/barrier/worker.ts"
import { invalidArgumentError } from "./internal/shared/errors.ts"
import { type Handle, HandleKey, handleSchema, isKind } from "./internal/shared/object.ts"
import { SharedError } from "./SharedError.ts"

/** The parent side (making and hosting the object), imported on first use: see `internal/lazy.ts`. */
const parent = lazyImport(() => import("./internal/shared/barrier/parent.ts"))

/**
 * @category models
 * @since 0.1.0
 */
export interface SharedBarrier {
  readonly [HandleKey]: Handle
  /** How many parties must arrive for the barrier to trip. */
  readonly parties: number
  /** @internal */
  readonly ops: BarrierView
}

const fromHandle = (handle: Handle): SharedBarrier => ({ [HandleKey]: handle, parties: Number(handle.detail), ops: barrierView(handle) })

/**
 * Tells whether a value is a {@link SharedBarrier}.
 *
 * @category guards
 * @since 0.1.0
 */
export const isSharedBarrier: (u: unknown) => u is SharedBarrier = isKind<SharedBarrier>(kind)

/**
 * The schema to put a barrier in a task's payload.
 *
 * @category schemas
 * @since 0.1.0
 */
export const schema = handleSchema<SharedBarrier>(kind, isSharedBarrier, fromHandle)

/**
 * Makes a barrier for `parties` parties, alive as long as the current scope. `action` runs in the parent
 * each time the barrier trips, before the parties are released; if it fails, the barrier breaks.
 * `timeout` is the default for every `await` that gives none.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  parties: number,
  options?: {
    readonly action?: Effect.Effect<void, unknown> | undefined
    readonly timeout?: Duration.Input | undefined
  }
): Effect.Effect<SharedBarrier, SharedError, Scope.Scope> =>
  Effect.gen(function*() {
    if (!(Number.isInteger(parties) && parties > 0)) {
      return yield* Effect.fail(invalidArgumentError(kind, "parties", `parties must be a positive integer, got ${parties}`))
    }
    const action = options?.action ?? Effect.void
    const defaultMillis = parseTimeout(kind, options?.timeout)
    if (defaultMillis instanceof SharedError) return yield* Effect.fail(defaultMillis)
    const { makeBarrier } = yield* parent
    return fromHandle(yield* makeBarrier(parties, action, defaultMillis))
  })

/**
 * Arrives at the barrier and waits for the other parties; returns this party's arrival index, 0 for the
 * first to arrive to `parties - 1` for the last (the one that trips it). Fails with reason `Broken` if
 * the barrier is or becomes broken, `Timeout` after `timeout` (default: the barrier's own), which breaks
 * it for the others.
 *
 * @category combinators
 * @since 0.1.0
 */
export const await_ = (
  self: SharedBarrier,
  options?: { readonly timeout?: Duration.Input | undefined }
): Effect.Effect<number, SharedError> =>
  withTimeout(kind, options?.timeout, self.ops.await)

export {
  /**
   * Waits for the other parties (see `await_`); `SharedBarrier.await` in user code.
   *
   * @category combinators
   * @since 0.1.0
   */
  await_ as await
}

/**
 * Breaks the barrier: every party waiting fails with reason `Broken`, and so does every later `await`
 * until `reset`. Useful to stop the others when one party cannot go on.
 *
 * @category combinators
 * @since 0.1.0
 */
export const abort = (self: SharedBarrier): Effect.Effect<void, SharedError> => self.ops.abort

/**
 * Returns the barrier to its initial state: not broken, nobody waiting. Parties waiting now fail with
 * reason `Broken`.
 *
 * @category combinators
 * @since 0.1.0
 */
export const reset = (self: SharedBarrier): Effect.Effect<void, SharedError> => self.ops.reset

/**
 * Tells whether the barrier is broken.
 *
 * @category getters
 * @since 0.1.0
 */
export const isBroken = (self: SharedBarrier): Effect.Effect<boolean, SharedError> => self.ops.isBroken

/**
 * The number of parties waiting at the barrier now.
 *
 * @category getters
 * @since 0.1.0
 */
export const waiting = (self: SharedBarrier): Effect.Effect<number, SharedError> => self.ops.waiting

/**
 * How many parties must arrive for the barrier to trip.
 *
 * @category getters
 * @since 0.1.0
 */
export const parties = (self: SharedBarrier): number => self.parties
