/**
 * `Progress.makeStream`, imported on first use (it needs `effect/Stream` and `effect/Queue`, which the
 * package does not load at import: see `lazy.ts`).
 *
 * @internal
 */
import type * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { ProgressEvent, Reporter } from "../../Progress.ts"

export const makeStream = (
  capacity: number
): Effect.Effect<{ readonly reporter: Reporter; readonly events: Stream.Stream<ProgressEvent> }, never, Scope.Scope> =>
  Effect.gen(function*() {
    const queue = yield* Queue.sliding<ProgressEvent, Cause.Done>(capacity)
    yield* Effect.addFinalizer(() => Queue.end(queue))
    const reporter: Reporter = {
      report: (event) => {
        Queue.offerUnsafe(queue, event)
      }
    }
    return { reporter, events: Stream.fromQueue(queue) }
  })
