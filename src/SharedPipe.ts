/**
 * Connects two parties with a duplex channel, typed each way: one end sends `A`s and receives `B`s, the
 * other sends `B`s and receives `A`s (Python's `multiprocessing.Pipe(duplex=True)`).
 *
 * `make(aSchema, bSchema)` returns both ends, `left` and `right`; each goes to whoever uses it (a task, in
 * its payload through `schema`, or the parent). A pipe is two `SharedQueue`s, one each way, hosted by the
 * parent on every backend; messages are encoded with their schemas, so they keep their types. `receive`
 * waits (interruptibly, with an optional timeout); `close` ends both directions: the other end still
 * receives what was sent before, then its `receive` fails with reason `Ended`, and sending to a closed
 * pipe fails with reason `Ended`. Every message is received exactly once: a task that received it keeps
 * it, whatever happens to its worker afterwards (R8). After the pipe's scope ends, every operation fails
 * with reason `Closed`, and pending waits are woken with it.
 *
 * **Example** (A worker answers requests)
 *
 * ```ts
 * const { left, right } = yield* SharedPipe.make(Schema.String, Schema.Number)
 * // the task's payload: { pipe: SharedPipe.schema(Schema.Number, Schema.String) }: it sends numbers
 * const server = yield* Effect.forkChild(Lengths({ pipe: right }))
 * yield* SharedPipe.send(left, "hello")
 * const n = yield* SharedPipe.receive(left) // 5
 * yield* SharedPipe.close(left)
 * ```
 *
 * @since 0.1.0
 */
import "./internal/nodeVersion.ts"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as SchemaTransformation from "effect/SchemaTransformation"
import type * as Scope from "effect/Scope"
import { type Handle, HandleKey, isKind } from "./internal/shared/object.ts"
import type { SharedError } from "./SharedError.ts"
import * as SharedQueue from "./SharedQueue.ts"

const kind = "SharedPipe"

/**
 * One end of a pipe: sends `Send`s and receives `Receive`s.
 *
 * @category models
 * @since 0.1.0
 */
export interface SharedPipe<Send, Receive> {
  readonly [HandleKey]: Handle
  /** @internal */
  readonly outgoing: SharedQueue.SharedQueue<Send>
  /** @internal */
  readonly incoming: SharedQueue.SharedQueue<Receive>
}

const fromQueues = <Send, Receive>(
  outgoing: SharedQueue.SharedQueue<Send>,
  incoming: SharedQueue.SharedQueue<Receive>
): SharedPipe<Send, Receive> => ({
  [HandleKey]: { kind, id: outgoing[HandleKey].id, buffer: undefined },
  outgoing,
  incoming
})

/**
 * Tells whether a value is an end of a {@link SharedPipe}.
 *
 * @category guards
 * @since 0.1.0
 */
export const isSharedPipe: (u: unknown) => u is SharedPipe<unknown, unknown> = isKind<SharedPipe<unknown, unknown>>(kind)

/**
 * The schema of a pipe end that sends `send`s and receives `receive`s, to put it in a task's payload.
 *
 * @category schemas
 * @since 0.1.0
 */
export const schema = <S, SI, R, RI>(
  send: Schema.Codec<S, SI>,
  receive: Schema.Codec<R, RI>
): Schema.Codec<SharedPipe<S, R>, { readonly kind: string; readonly outgoing: unknown; readonly incoming: unknown }> =>
  Schema.Struct({
    kind: Schema.Literal(kind),
    outgoing: SharedQueue.schema(send),
    incoming: SharedQueue.schema(receive)
  }).pipe(
    Schema.decodeTo(
      Schema.declare(isSharedPipe as (u: unknown) => u is SharedPipe<S, R>),
      SchemaTransformation.transform({
        decode: (e) => fromQueues(e.outgoing, e.incoming),
        encode: (end) => ({ kind, outgoing: end.outgoing, incoming: end.incoming })
      })
    )
  ) as never

/**
 * Makes a pipe, alive as long as the current scope: `left` sends `A`s and receives `B`s, `right` sends
 * `B`s and receives `A`s. With `capacity`, a `send` waits while that many messages are unread.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = <A, AI, B, BI>(
  a: Schema.Codec<A, AI>,
  b: Schema.Codec<B, BI>,
  options?: { readonly capacity?: number | undefined }
): Effect.Effect<{ readonly left: SharedPipe<A, B>; readonly right: SharedPipe<B, A> }, SharedError, Scope.Scope> =>
  Effect.gen(function*() {
    const toRight = yield* SharedQueue.make(a, options)
    const toLeft = yield* SharedQueue.make(b, options)
    return { left: fromQueues(toRight, toLeft), right: fromQueues(toLeft, toRight) }
  })

/**
 * Sends a message to the other end; waits while the pipe holds `capacity` unread messages. Fails with
 * reason `Ended` once either end closed the pipe.
 *
 * @category combinators
 * @since 0.1.0
 */
export const send = <S, R>(
  self: SharedPipe<S, R>,
  message: S,
  options?: { readonly timeout?: Duration.Input | undefined }
): Effect.Effect<void, SharedError> => SharedQueue.offer(self.outgoing, message, options)

/**
 * Receives the next message from the other end, waiting until there is one. Fails with reason `Ended`
 * once the pipe is closed and every message sent before has been received, `Timeout` after `timeout`.
 *
 * @category combinators
 * @since 0.1.0
 */
export const receive = <S, R>(
  self: SharedPipe<S, R>,
  options?: { readonly timeout?: Duration.Input | undefined }
): Effect.Effect<R, SharedError> => SharedQueue.take(self.incoming, options)

/**
 * Receives the next message if there is one now (Python's `poll()` then `recv()`).
 *
 * @category combinators
 * @since 0.1.0
 */
export const receiveIfAvailable = <S, R>(self: SharedPipe<S, R>): Effect.Effect<Option.Option<R>, SharedError> =>
  SharedQueue.takeIfAvailable(self.incoming)

/**
 * Closes the pipe, both ways: nothing more can be sent by either end; each end still receives what was
 * sent to it before, then `receive` fails with reason `Ended`.
 *
 * @category combinators
 * @since 0.1.0
 */
export const close = <S, R>(self: SharedPipe<S, R>): Effect.Effect<void, SharedError> =>
  Effect.andThen(SharedQueue.end(self.outgoing), SharedQueue.end(self.incoming))
