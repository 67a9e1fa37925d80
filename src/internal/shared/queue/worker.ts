/**
 * `SharedQueue`, as whoever holds a handle uses it: calls to the parent, which hosts every queue (from the
 * parent itself: direct calls). Items are encoded with the item schema on the way in and decoded on the
 * way out; one that does not match fails with reason `InvalidValue`.
 *
 * A take in a worker from a joinable queue is remembered by the parent for the running task until it ends
 * (then the item is simply taken: the worker tells the queue) or its worker crashes (then it goes back).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { SharedError } from "../../../SharedError.ts"
import { invalidValueError } from "../errors.ts"
import { caller, type Handle } from "../object.ts"
import { atRunEnd, registry } from "../registry.ts"
import { kind, type QueueOps, type Waiting } from "./protocol.ts"

export interface QueueView<A> {
  readonly offer: (item: A, timeoutMillis: number | undefined) => Effect.Effect<void, SharedError>
  readonly offerIfAvailable: (item: A) => Effect.Effect<boolean, SharedError>
  readonly take: (timeoutMillis: number | undefined) => Effect.Effect<A, SharedError>
  readonly takeIfAvailable: Effect.Effect<Option.Option<A>, SharedError>
  readonly taskDone: Effect.Effect<void, SharedError>
  readonly awaitEmpty: Effect.Effect<void, SharedError>
  readonly end: Effect.Effect<void, SharedError>
  readonly size: Effect.Effect<number, SharedError>
  readonly waiting: Effect.Effect<Waiting, SharedError>
}

// a value that does not match the item schema is the caller's error, typed, with the schema's issue
const badItem = (e: unknown) =>
  Effect.fail(invalidValueError(kind, `an item does not match the queue's schema: ${e instanceof Error ? e.message : String(e)}`))

export const queueView = <A>(handle: Handle, item: Schema.Codec<A, any>): QueueView<A> => {
  const call = caller<QueueOps>(handle)
  const encode = Schema.encodeUnknownEffect(item)
  const decode = Schema.decodeUnknownEffect(item)
  const encoded = (a: A) => Effect.catch(encode(a), badItem)
  const decoded = (u: unknown): Effect.Effect<A, SharedError> => Effect.catch(decode(u), badItem)
  const joinable = handle.detail === "joinable"
  // the current task run; a joinable queue is told when it ends
  const run = Effect.sync(() => {
    const current = registry.run
    if (joinable) atRunEnd(handle.id, () => call.post({ _tag: "runEnded", run: current }))
    return current
  })
  return {
    offer: (a, timeout) => Effect.flatMap(encoded(a), (e) => call({ _tag: "offer", item: e, timeout })),
    offerIfAvailable: (a) => Effect.flatMap(encoded(a), (e) => call({ _tag: "offerIfAvailable", item: e })),
    take: (timeout) =>
      Effect.flatMap(run, (r) =>
        Effect.flatMap(
          // a take that completed after its caller gave up puts the item back
          call({ _tag: "take", run: r, timeout }, (got) => ({ _tag: "putBack", run: r, item: got })),
          decoded
        )),
    takeIfAvailable: Effect.flatMap(
      Effect.flatMap(run, (r) => call({ _tag: "takeIfAvailable", run: r })),
      (got) => (got.length === 0 ? Effect.succeedNone : Effect.map(decoded(got[0]), Option.some))
    ),
    taskDone: Effect.suspend(() => call({ _tag: "taskDone", run: registry.run })),
    awaitEmpty: call({ _tag: "awaitEmpty" }),
    end: call({ _tag: "end" }),
    size: call({ _tag: "size" }),
    waiting: call({ _tag: "waiting" })
  }
}
