/**
 * `SharedBarrier`, the parent's side (on every backend): the parties of the current generation in arrival
 * order, the action run once per trip, and every way the barrier breaks (a timeout, `abort`, `reset` while
 * waited on, an interrupted or dead party (R8), a failing action). The scope's end fails every waiting party
 * with `Closed`.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { SharedError } from "../../../SharedError.ts"
import { brokenError, closedError, timeoutError } from "../errors.ts"
import { type Handle, hostScoped } from "../object.ts"
import { type BarrierOps, kind } from "./protocol.ts"

interface Party {
  readonly owner: number
  readonly resume: (outcome: Effect.Effect<number, SharedError>) => void
}

const broken = (why: string) => brokenError(kind, `the barrier is broken: ${why}`)

export const makeBarrier = (
  parties: number,
  action: Effect.Effect<void, unknown>,
  defaultMillis: number | undefined
): Effect.Effect<Handle, never, Scope.Scope> =>
  Effect.suspend(() => {
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
    return Effect.map(
      hostScoped<BarrierOps>({
        kind,
        handlers: () => ({
          // no timeout given: the barrier's own
          await: (owner, { timeout }) => arrive(owner, timeout ?? defaultMillis),
          abort: () => Effect.sync(() => breakWith("it was aborted")),
          reset: () =>
            Effect.sync(() => {
              breakWith("it was reset while parties waited")
              brokenBy = undefined
            }),
          isBroken: () => Effect.sync(() => brokenBy !== undefined),
          waiting: () => Effect.sync(() => waiting.length)
        }),
        ownerGone: (owner) => {
          if (waiting.some((party) => party.owner === owner)) breakWith("a waiting party's worker died")
        },
        close: () => {
          // every party waiting now fails with Closed, at once
          brokenBy ??= "its scope ended"
          const gone = waiting
          waiting = []
          for (const party of gone) party.resume(Effect.fail(closedError(kind)))
        }
      }),
      (id): Handle => ({ kind, id, buffer: undefined, detail: String(parties) })
    )
  })
