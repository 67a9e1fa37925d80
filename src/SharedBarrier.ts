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
import * as Cause from "effect/Cause"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { timeoutMillis } from "./internal/shared/args.ts"
import { brokenError, closedError, invalidArgumentError, timeoutError } from "./internal/shared/errors.ts"
import { callHost, type Handle, HandleKey, handleSchema, isKind, unknownOp } from "./internal/shared/object.ts"
import { host } from "./internal/shared/registry.ts"
import { SharedError } from "./SharedError.ts"

const kind = "SharedBarrier"

/**
 * @category models
 * @since 0.1.0
 */
export interface SharedBarrier {
  readonly [HandleKey]: Handle
  /** How many parties must arrive for the barrier to trip. */
  readonly parties: number
}

const broken = (why: string) => brokenError(kind, `the barrier is broken: ${why}`)

const fromHandle = (handle: Handle): SharedBarrier => ({ [HandleKey]: handle, parties: Number(handle.detail) })

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

interface Party {
  readonly owner: number
  readonly resume: (outcome: Effect.Effect<number, SharedError>) => void
}


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
    const defaultMillis = yield* timeoutMillis(kind, options?.timeout)
    // the parties of the current generation, in arrival order; `brokenBy` is set while the barrier is broken
    let waiting: Array<Party> = []
    let brokenBy: string | undefined
    const breakWith = (why: string): void => {
      brokenBy ??= why
      const gone = waiting
      waiting = []
      for (const party of gone) party.resume(Effect.fail(broken(why)))
    }
    const arrive = (owner: number, millis: number | undefined): Effect.Effect<number, SharedError> =>
      Effect.suspend(() => {
        if (brokenBy !== undefined) return Effect.fail(broken(brokenBy))
        if (waiting.length + 1 === parties) {
          // the last party: the action runs (uninterruptibly: the others wait on it), then everyone goes
          const generation = waiting
          waiting = []
          return Effect.uninterruptible(Effect.matchCauseEffect(action, {
            onSuccess: () =>
              Effect.sync(() => {
                generation.forEach((party, index) => party.resume(Effect.succeed(index)))
                return parties - 1
              }),
            onFailure: (cause) => {
              const why = `its action failed: ${Cause.pretty(cause).split("\n")[0]}`
              waiting = generation.concat(waiting)
              breakWith(why)
              return Effect.fail(broken(why))
            }
          }))
        }
        return Effect.callback<number, SharedError>((resume) => {
          const party: Party = { owner, resume }
          waiting.push(party)
          const timer = millis === undefined ? undefined : setTimeout(() => {
            if (!waiting.includes(party)) return
            waiting.splice(waiting.indexOf(party), 1)
            breakWith(`a party waited longer than ${millis} ms`)
            resume(Effect.fail(timeoutError(kind, millis, "the other parties")))
          }, millis)
          return Effect.sync(() => {
            if (timer !== undefined) clearTimeout(timer)
            // interrupted (or its worker died) while still waiting: the others cannot trip without it
            if (waiting.includes(party)) {
              waiting.splice(waiting.indexOf(party), 1)
              breakWith("a waiting party was interrupted or its worker died")
            }
          })
        })
      })
    const hosted = yield* Effect.acquireRelease(
      Effect.sync(() =>
        host({
          kind,
          call: (owner, op, args) => {
            switch (op) {
              case "await":
                // no timeout given: the barrier's own
                return arrive(owner, (args[0] as number | undefined) ?? defaultMillis)
              case "abort":
                return Effect.sync(() => breakWith("it was aborted"))
              case "reset":
                return Effect.sync(() => {
                  breakWith("it was reset while parties waited")
                  brokenBy = undefined
                })
              case "isBroken":
                return Effect.sync(() => brokenBy !== undefined)
              case "waiting":
                return Effect.sync(() => waiting.length)
              default:
                return unknownOp(kind, op)
            }
          },
          ownerGone: (owner) => {
            if (waiting.some((party) => party.owner === owner)) breakWith("a waiting party's worker died")
          }
        })
      ),
      (h) =>
        Effect.sync(() => {
          // every party waiting now fails with Closed, at once
          h.remove()
          brokenBy ??= "its scope ended"
          const gone = waiting
          waiting = []
          for (const party of gone) party.resume(Effect.fail(closedError(kind)))
        })
    )
    return fromHandle({ kind, id: hosted.id, buffer: undefined, detail: String(parties) })
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
  Effect.flatMap(timeoutMillis(kind, options?.timeout), (ms) => callHost(self[HandleKey], "await", [ms]) as Effect.Effect<number, SharedError>)

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
export const abort = (self: SharedBarrier): Effect.Effect<void, SharedError> => Effect.asVoid(callHost(self[HandleKey], "abort", []))

/**
 * Returns the barrier to its initial state: not broken, nobody waiting. Parties waiting now fail with
 * reason `Broken`.
 *
 * @category combinators
 * @since 0.1.0
 */
export const reset = (self: SharedBarrier): Effect.Effect<void, SharedError> => Effect.asVoid(callHost(self[HandleKey], "reset", []))

/**
 * Tells whether the barrier is broken.
 *
 * @category getters
 * @since 0.1.0
 */
export const isBroken = (self: SharedBarrier): Effect.Effect<boolean, SharedError> =>
  callHost(self[HandleKey], "isBroken", []) as Effect.Effect<boolean, SharedError>

/**
 * The number of parties waiting at the barrier now.
 *
 * @category getters
 * @since 0.1.0
 */
export const waiting = (self: SharedBarrier): Effect.Effect<number, SharedError> =>
  callHost(self[HandleKey], "waiting", []) as Effect.Effect<number, SharedError>

/**
 * How many parties must arrive for the barrier to trip.
 *
 * @category getters
 * @since 0.1.0
 */
export const parties = (self: SharedBarrier): number => self.parties
