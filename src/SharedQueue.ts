/**
 * A bounded, joinable queue of typed items between the parent and workers, or between workers (Python's
 * `multiprocessing.Queue` and `JoinableQueue`).
 *
 * The parent hosts the queue; workers reach it over the pool's channel, threads and processes alike. Items
 * are encoded with the queue's item schema, so they keep their type (a Date stays a Date, a class keeps
 * its class). `offer` waits while the queue is full, `take` while it is empty, both interruptibly and with
 * optional timeouts; the `IfAvailable` variants never wait. `end` lets consumers finish cleanly: once the
 * queue is ended and drained, `take` fails with reason `Ended`. Joinable: every `take` should be followed
 * by `taskDone`, and `awaitEmpty` waits until every item offered has been taken and marked done.
 *
 * Delivery (R8): an item is delivered exactly once. A task that ends keeps what it took, and a worker that
 * retires, idles out or closes with its pool gives nothing back. A `take` still waiting when its caller
 * gives up takes nothing; one that completed after its caller gave up puts the item back at the head. Only
 * a `joinable: true` queue gives items back after a crash: those that the crashed task took and had not
 * marked with `taskDone` go back to the head for another consumer (at-least-once under crashes). After
 * `end`, waiting offers fail with reason `Ended`; after the scope ends, every operation and every pending
 * wait fails with reason `Closed`. `waiting` counts the takers and offerers waiting now.
 *
 * **Example** (A producer and consumers)
 *
 * ```ts
 * const jobs = yield* SharedQueue.make(Schema.String, { capacity: 100 })
 * // tasks with payload { jobs: SharedQueue.schema(Schema.String) }
 * yield* Effect.forkChild(Producer({ jobs }))
 * yield* WorkerPool.map(Consumer, [1, 2, 3].map(() => ({ jobs })))
 * ```
 *
 * @since 0.1.0
 */
import "./internal/nodeVersion.ts"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { withTimeout } from "./internal/shared/args.ts"
import { invalidArgumentError } from "./internal/shared/errors.ts"
import { type Handle, HandleKey, handleSchema, isKind } from "./internal/shared/object.ts"
import { lazyImport } from "./internal/lazy.ts"
import { kind } from "./internal/shared/queue/protocol.ts"
import { type QueueView, queueView } from "./internal/shared/queue/worker.ts"
import type { SharedError } from "./SharedError.ts"

/** The parent side (making and hosting the object), imported on first use: see `internal/lazy.ts`. */
const parent = lazyImport(() => import("./internal/shared/queue/parent.ts"))

/**
 * @category models
 * @since 0.1.0
 */
export interface SharedQueue<A> {
  readonly [HandleKey]: Handle
  /** @internal */
  readonly item: Schema.Codec<A, any>
  /** @internal */
  readonly ops: QueueView<A>
}

/**
 * How many fibers wait on a queue now: `takers` for an item, `offerers` for room.
 *
 * @category models
 * @since 0.2.0
 */
export interface Waiting {
  readonly takers: number
  readonly offerers: number
}

const fromHandle = <A>(item: Schema.Codec<A, any>) => (handle: Handle): SharedQueue<A> => ({
  [HandleKey]: handle,
  item,
  ops: queueView(handle, item)
})

/**
 * Tells whether a value is a {@link SharedQueue}.
 *
 * @category guards
 * @since 0.1.0
 */
export const isSharedQueue: (u: unknown) => u is SharedQueue<unknown> = isKind<SharedQueue<unknown>>(kind)

/**
 * The schema of a queue of `item`s, to put it in a task's payload.
 *
 * @category schemas
 * @since 0.1.0
 */
export const schema = <A, I>(item: Schema.Codec<A, I>) =>
  handleSchema<SharedQueue<A>>(kind, isSharedQueue as (u: unknown) => u is SharedQueue<A>, fromHandle(item))

/**
 * Makes a queue of at most `capacity` items (default: unbounded), alive as long as the current scope.
 *
 * With `joinable: true` it is Python's `JoinableQueue` under crashes too: an item is its taker's until
 * `taskDone`, and if the taker's worker crashes while the task that took it still runs, the item goes back
 * to the head of the queue for another consumer (at-least-once, like a message queue's visibility
 * timeout). Without it (the default) every item is delivered exactly once: an item taken is never offered
 * again, whatever happens to its taker. Either way, a task that ends keeps what it took, with or without
 * `taskDone`, and a worker that retires or closes gives nothing back. `taskDone` and `awaitEmpty` count on
 * every queue. A `capacity` that is not a positive integer fails with reason `InvalidArgument`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = <A, I>(
  item: Schema.Codec<A, I>,
  options?: { readonly capacity?: number | undefined; readonly joinable?: boolean | undefined }
): Effect.Effect<SharedQueue<A>, SharedError, Scope.Scope> =>
  Effect.suspend(() => {
    const capacity = options?.capacity ?? Number.MAX_SAFE_INTEGER
    if (!(Number.isInteger(capacity) && capacity > 0)) {
      return Effect.fail(invalidArgumentError(kind, "capacity", `capacity must be a positive integer, got ${capacity}`))
    }
    return Effect.map(Effect.flatMap(parent, (p) => p.makeQueue(capacity, options?.joinable === true)), fromHandle(item))
  })

/**
 * Adds an item, waiting while the queue is full. Fails with reason `Ended` after `end` (also when it was
 * waiting for room then), `Timeout` after `timeout`, `InvalidValue` when the item does not match the
 * queue's schema.
 *
 * @category combinators
 * @since 0.1.0
 */
export const offer = <A>(
  self: SharedQueue<A>,
  item: A,
  options?: { readonly timeout?: Duration.Input | undefined }
): Effect.Effect<void, SharedError> => withTimeout(kind, options?.timeout, (ms) => self.ops.offer(item, ms))

/**
 * Adds an item if there is room now; tells whether it did.
 *
 * @category combinators
 * @since 0.1.0
 */
export const offerIfAvailable = <A>(self: SharedQueue<A>, item: A): Effect.Effect<boolean, SharedError> => self.ops.offerIfAvailable(item)

/**
 * Takes the next item, waiting while the queue is empty. Fails with reason `Ended` once the queue is
 * ended and drained (consumers stop there), `Timeout` after `timeout`.
 *
 * @category combinators
 * @since 0.1.0
 */
export const take = <A>(
  self: SharedQueue<A>,
  options?: { readonly timeout?: Duration.Input | undefined }
): Effect.Effect<A, SharedError> => withTimeout(kind, options?.timeout, self.ops.take)

/**
 * Takes the next item if there is one now.
 *
 * @category combinators
 * @since 0.1.0
 */
export const takeIfAvailable = <A>(self: SharedQueue<A>): Effect.Effect<Option.Option<A>, SharedError> => self.ops.takeIfAvailable

/**
 * Marks one taken item as processed (joinable queues: an item marked done no longer goes back if its
 * taker crashes).
 *
 * @category combinators
 * @since 0.1.0
 */
export const taskDone = <A>(self: SharedQueue<A>): Effect.Effect<void, SharedError> => self.ops.taskDone

/**
 * Waits until every item offered has been taken and marked done with `taskDone` (Python's
 * `JoinableQueue.join`).
 *
 * @category combinators
 * @since 0.1.0
 */
export const awaitEmpty = <A>(self: SharedQueue<A>): Effect.Effect<void, SharedError> => self.ops.awaitEmpty

/**
 * Ends the queue: no more offers (offers waiting for room fail with reason `Ended` at once, their items
 * never go in); consumers take what is left, then `take` fails with reason `Ended` (takes waiting on an
 * empty queue fail at once).
 *
 * @category combinators
 * @since 0.1.0
 */
export const end = <A>(self: SharedQueue<A>): Effect.Effect<void, SharedError> => self.ops.end

/**
 * The number of items in the queue now.
 *
 * @category getters
 * @since 0.1.0
 */
export const size = <A>(self: SharedQueue<A>): Effect.Effect<number, SharedError> => self.ops.size

/**
 * How many fibers wait on the queue now, anywhere: `takers` waiting for an item, `offerers` waiting for
 * room. For programs and tests that wait on the queue's state instead of sleeping.
 *
 * @category getters
 * @since 0.2.0
 */
export const waiting = <A>(self: SharedQueue<A>): Effect.Effect<Waiting, SharedError> => self.ops.waiting
