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
 * A consumer that dies loses no item: a `take` that was still waiting is abandoned, one that completed
 * after its caller gave up puts the item back, and the items a dead consumer took but had not marked done
 * with `taskDone` go back to the queue for another consumer (at-least-once under crashes).
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
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Latch from "effect/Latch"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { callHost, type Handle, HandleKey, handleSchema, isKind, unknownOp } from "./internal/shared/object.ts"
import { host } from "./internal/shared/registry.ts"
import { SharedError } from "./SharedError.ts"

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

const ended = () => new SharedError({ object: kind, reason: "Ended", message: "the queue was ended" })
const timedOut = (millis: number) =>
  new SharedError({ object: kind, reason: "Timeout", message: `gave up waiting on the queue after ${millis} ms` })

const millisOf = (timeout: Duration.Input | undefined): number =>
  timeout === undefined ? -1 : Duration.toMillis(Duration.fromInputUnsafe(timeout))

const withTimeout = <A>(effect: Effect.Effect<A, SharedError>, millis: number): Effect.Effect<A, SharedError> =>
  millis < 0
    ? effect
    : Effect.flatMap(Effect.timeoutOption(effect, millis), (o) => (Option.isSome(o) ? Effect.succeed(o.value) : Effect.fail(timedOut(millis))))

const fromHandle = <A>(item: Schema.Codec<A, any>) => (handle: Handle): SharedQueue<A> => ({ [HandleKey]: handle, item })

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
 * @category constructors
 * @since 0.1.0
 */
export const make = <A, I>(
  item: Schema.Codec<A, I>,
  options?: { readonly capacity?: number | undefined }
): Effect.Effect<SharedQueue<A>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const capacity = options?.capacity ?? Number.MAX_SAFE_INTEGER
    if (!(Number.isInteger(capacity) && capacity > 0)) {
      return yield* Effect.die(new RangeError(`SharedQueue.make: capacity must be a positive integer, got ${capacity}`))
    }
    const queue = yield* Queue.bounded<unknown, Cause.Done>(capacity)
    // joinable: items offered and not yet marked done; the latch is open when there are none
    let unfinished = 0
    let isEnded = false
    // items each owner took and has not marked done: given back if that worker dies before taskDone
    const taken = new Map<number, Array<unknown>>()
    const empty = yield* Latch.make(true)
    const added = Effect.sync(() => {
      if (unfinished++ === 0) empty.closeUnsafe()
    })
    const ops = (owner: number, op: string, args: ReadonlyArray<unknown>): Effect.Effect<unknown, SharedError> => {
      switch (op) {
        case "offer":
          return withTimeout(
            Effect.suspend(() => isEnded ? Effect.fail(ended()) : Effect.andThen(Queue.offer(queue, args[0]), added)),
            args[1] as number
          )
        case "offerIfAvailable":
          return Effect.suspend(() => {
            if (isEnded) return Effect.fail(ended())
            return Queue.offerUnsafe(queue, args[0]) ? Effect.as(added, true) : Effect.succeed(false)
          })
        case "take":
          return withTimeout(
            Effect.tap(Effect.catch(Queue.take(queue), () => Effect.fail(ended())), (item) => Effect.sync(() => track(owner, item))),
            args[0] as number
          )
        case "takeIfAvailable":
          return Effect.map(Queue.poll(queue), (o) => {
            if (Option.isNone(o)) return []
            track(owner, o.value)
            return [o.value]
          })
        case "putBack":
          // a take that completed after its caller gave up: the item goes back
          return Effect.suspend(() => {
            untrack(owner)
            return Effect.asVoid(Queue.offer(queue, args[args.length - 1]))
          })
        case "taskDone":
          return Effect.suspend(() => {
            if (unfinished === 0) {
              return Effect.fail(new SharedError({ object: kind, reason: "OverRelease", message: "taskDone called more times than there were items" }))
            }
            untrack(owner)
            if (--unfinished === 0) empty.openUnsafe()
            return Effect.void
          })
        case "awaitEmpty":
          return empty.await
        case "end":
          return Effect.suspend(() => {
            isEnded = true
            return Effect.asVoid(Queue.end(queue))
          })
        case "size":
          return Queue.size(queue)
        default:
          return unknownOp(kind, op) as never
      }
    }
    const track = (owner: number, item: unknown) => {
      let items = taken.get(owner)
      if (items === undefined) taken.set(owner, items = [])
      items.push(item)
    }
    const untrack = (owner: number) => {
      const items = taken.get(owner)
      items?.shift()
      if (items !== undefined && items.length === 0) taken.delete(owner)
    }
    // A consumer that dies between take and taskDone did not process its items: they go back to the
    // queue (still counted as unfinished), so no item is lost and awaitEmpty does not wait forever.
    const ownerGone = (owner: number) => {
      const items = taken.get(owner)
      if (items === undefined) return
      taken.delete(owner)
      for (const item of items) Effect.runFork(Queue.offer(queue, item))
    }
    const hosted = yield* Effect.acquireRelease(
      Effect.sync(() => host({ kind, call: ops, ownerGone })),
      (h) => Effect.andThen(Effect.sync(h.remove), Queue.shutdown(queue))
    )
    return fromHandle(item)({ kind, id: hosted.id, buffer: undefined })
  })

const encoder = <A>(self: SharedQueue<A>) => Schema.encodeUnknownEffect(self.item)
const decoder = <A>(self: SharedQueue<A>) => Schema.decodeUnknownEffect(self.item)

const badItem = (e: unknown) =>
  Effect.die(new TypeError(`SharedQueue: an item does not match the queue's schema: ${e instanceof Error ? e.message : String(e)}`))

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
  Effect.flatMap(Effect.catch(encoder(self)(item), badItem), (encoded) =>
    Effect.asVoid(callHost(self[HandleKey], "offer", [encoded, millisOf(options?.timeout)])))

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
  Effect.flatMap(
    callHost(self[HandleKey], "take", [millisOf(options?.timeout)], { op: "putBack", args: [], withResult: true }),
    (encoded) => Effect.catch(decoder(self)(encoded), badItem)
  )

/**
 * Takes the next item if there is one now.
 *
 * @category combinators
 * @since 0.1.0
 */
export const takeIfAvailable = <A>(self: SharedQueue<A>): Effect.Effect<Option.Option<A>, SharedError> =>
  Effect.flatMap(callHost(self[HandleKey], "takeIfAvailable", []), (got) => {
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
  Effect.asVoid(callHost(self[HandleKey], "taskDone", []))

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
 * Ends the queue: no more offers; consumers take what is left, then `take` fails with reason `Ended`.
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
