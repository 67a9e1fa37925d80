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
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { callHost, type Handle, HandleKey, handleSchema, isKind, unknownOp } from "./internal/shared/object.ts"
import { makeQueueHost } from "./internal/shared/queue.ts"
import { atRunEnd, host, registry } from "./internal/shared/registry.ts"
import { timeoutMillis } from "./internal/shared/args.ts"
import { invalidArgumentError, invalidValueError } from "./internal/shared/errors.ts"
import type { SharedError } from "./SharedError.ts"

const kind = "SharedQueue"

/**
 * @category models
 * @since 0.1.0
 */
export interface SharedQueue<A> {
  readonly [HandleKey]: Handle
  /** @internal */
  readonly item: Schema.Codec<A, any>
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


const fromHandle = <A>(item: Schema.Codec<A, any>) => (handle: Handle): SharedQueue<A> => ({ [HandleKey]: handle, item })

const isJoinable = (self: SharedQueue<unknown>): boolean => self[HandleKey].detail === "joinable"

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
 * every queue.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = <A, I>(
  item: Schema.Codec<A, I>,
  options?: { readonly capacity?: number | undefined; readonly joinable?: boolean | undefined }
): Effect.Effect<SharedQueue<A>, SharedError, Scope.Scope> =>
  Effect.gen(function*() {
    const capacity = options?.capacity ?? Number.MAX_SAFE_INTEGER
    if (!(Number.isInteger(capacity) && capacity > 0)) {
      return yield* Effect.fail(invalidArgumentError(kind, "capacity", `capacity must be a positive integer, got ${capacity}`))
    }
    const joinable = options?.joinable === true
    const q = makeQueueHost(capacity, joinable)
    const ops = (owner: number, op: string, args: ReadonlyArray<unknown>): Effect.Effect<unknown, SharedError> => {
      switch (op) {
        case "offer":
          return q.offer(args[0], args[1] as number | undefined)
        case "offerIfAvailable":
          return q.offerIfAvailable(args[0])
        case "take":
          return q.take(owner, args[1] as number, args[0] as number | undefined)
        case "takeIfAvailable":
          return q.takeIfAvailable(owner, args[0] as number)
        case "putBack":
          // a take that completed after its caller gave up: the item goes back
          return q.putBack(owner, args[0] as number, args[args.length - 1])
        case "taskDone":
          return q.taskDone(owner, args[0] as number)
        case "awaitEmpty":
          return q.awaitEmpty
        case "end":
          return q.end
        case "size":
          return q.size
        case "waiting":
          return q.waiting
        case "runEnded":
          return Effect.sync(() => q.runEnded(owner, args[0] as number))
        default:
          return unknownOp(kind, op) as never
      }
    }
    const hosted = yield* Effect.acquireRelease(
      Effect.sync(() => host({ kind, call: ops, ownerGone: q.ownerGone })),
      (h) =>
        Effect.sync(() => {
          h.remove()
          q.close()
        })
    )
    return fromHandle(item)({ kind, id: hosted.id, buffer: undefined, detail: joinable ? "joinable" : undefined })
  })

/**
 * A take in a worker from a joinable queue: the parent remembers the item for the running task until it
 * ends (then the item is simply taken) or its worker crashes (then the item goes back).
 */
const trackRun = <A>(self: SharedQueue<A>): Effect.Effect<number> =>
  Effect.sync(() => {
    const run = registry.run
    if (isJoinable(self)) {
      const id = self[HandleKey].id
      atRunEnd(id, () => registry.post?.(id, "runEnded", [run]))
    }
    return run
  })

const encoder = <A>(self: SharedQueue<A>) => Schema.encodeUnknownEffect(self.item)
const decoder = <A>(self: SharedQueue<A>) => Schema.decodeUnknownEffect(self.item)

// a value that does not match the item schema is the caller's error, typed, with the schema's issue
const badItem = (e: unknown) =>
  Effect.fail(invalidValueError(kind, `an item does not match the queue's schema: ${e instanceof Error ? e.message : String(e)}`))

/**
 * Adds an item, waiting while the queue is full. Fails with reason `Ended` after `end`, `Timeout` after
 * `timeout`.
 *
 * @category combinators
 * @since 0.1.0
 */
export const offer = <A>(
  self: SharedQueue<A>,
  item: A,
  options?: { readonly timeout?: Duration.Input | undefined }
): Effect.Effect<void, SharedError> =>
  Effect.flatMap(Effect.zip(timeoutMillis(kind, options?.timeout), Effect.catch(encoder(self)(item), badItem)), ([ms, encoded]) =>
    Effect.asVoid(callHost(self[HandleKey], "offer", [encoded, ms])))

/**
 * Adds an item if there is room now; tells whether it did.
 *
 * @category combinators
 * @since 0.1.0
 */
export const offerIfAvailable = <A>(self: SharedQueue<A>, item: A): Effect.Effect<boolean, SharedError> =>
  Effect.flatMap(Effect.catch(encoder(self)(item), badItem), (encoded) =>
    callHost(self[HandleKey], "offerIfAvailable", [encoded]) as Effect.Effect<boolean, SharedError>)

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
): Effect.Effect<A, SharedError> =>
  Effect.flatMap(Effect.zip(timeoutMillis(kind, options?.timeout), trackRun(self)), ([ms, run]) =>
    Effect.flatMap(
      callHost(self[HandleKey], "take", [ms, run], { op: "putBack", args: [run], withResult: true }),
      (encoded) => Effect.catch(decoder(self)(encoded), badItem)
    ))

/**
 * Takes the next item if there is one now.
 *
 * @category combinators
 * @since 0.1.0
 */
export const takeIfAvailable = <A>(self: SharedQueue<A>): Effect.Effect<Option.Option<A>, SharedError> =>
  Effect.flatMap(Effect.flatMap(trackRun(self), (run) => callHost(self[HandleKey], "takeIfAvailable", [run])), (got) => {
    const items = got as ReadonlyArray<unknown>
    return items.length === 0 ? Effect.succeedNone : Effect.map(Effect.catch(decoder(self)(items[0]), badItem), Option.some)
  })

/**
 * Marks one taken item as processed (joinable queues).
 *
 * @category combinators
 * @since 0.1.0
 */
export const taskDone = <A>(self: SharedQueue<A>): Effect.Effect<void, SharedError> =>
  Effect.suspend(() => Effect.asVoid(callHost(self[HandleKey], "taskDone", [registry.run])))

/**
 * Waits until every item offered has been taken and marked done with `taskDone` (Python's
 * `JoinableQueue.join`).
 *
 * @category combinators
 * @since 0.1.0
 */
export const awaitEmpty = <A>(self: SharedQueue<A>): Effect.Effect<void, SharedError> =>
  Effect.asVoid(callHost(self[HandleKey], "awaitEmpty", []))

/**
 * Ends the queue: no more offers (offers waiting for room fail with reason `Ended` at once, their items
 * never go in); consumers take what is left, then `take` fails with reason `Ended` (takes waiting on an
 * empty queue fail at once).
 *
 * @category combinators
 * @since 0.1.0
 */
export const end = <A>(self: SharedQueue<A>): Effect.Effect<void, SharedError> =>
  Effect.asVoid(callHost(self[HandleKey], "end", []))

/**
 * The number of items in the queue now.
 *
 * @category getters
 * @since 0.1.0
 */
export const size = <A>(self: SharedQueue<A>): Effect.Effect<number, SharedError> =>
  callHost(self[HandleKey], "size", []) as Effect.Effect<number, SharedError>

/**
 * How many fibers wait on the queue now, anywhere: `takers` waiting for an item, `offerers` waiting for
 * room. For programs and tests that wait on the queue's state instead of sleeping.
 *
 * @category getters
 * @since 0.2.0
 */
export const waiting = <A>(self: SharedQueue<A>): Effect.Effect<Waiting, SharedError> =>
  callHost(self[HandleKey], "waiting", []) as Effect.Effect<Waiting, SharedError>
