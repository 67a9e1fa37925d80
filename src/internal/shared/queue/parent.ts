/**
 * `SharedQueue`, the parent's side (on every backend): its items (encoded), its waiting takers and
 * offerers, and what each worker's running task took from a joinable queue.
 *
 * Written by hand rather than on Effect's `Queue`: the queue must answer things that `Queue` does not
 * expose or does differently: how many takers and offerers wait (observability), an `end` that fails the
 * offers waiting on a full queue (Effect's lets them in later), a scope close that fails every waiter with
 * `Closed` (a shutdown interrupts them, and an interrupted call gets no answer in a worker), and an item
 * put back at the head (a take that completed after its caller gave up, a crashed task's items).
 *
 * Every operation is one synchronous step of the parent's single thread, so nothing can interleave inside
 * one. Waiters are served in arrival order.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { SharedError } from "../../../SharedError.ts"
import { Deque } from "../../parent/deque.ts"
import { closedError, endedError, overReleaseError, timeoutError } from "../errors.ts"
import { type Handle, hostScoped } from "../object.ts"
import { PARENT_OWNER } from "../registry.ts"
import { kind, type QueueOps } from "./protocol.ts"

/** Hosts a queue for the current scope; its handle says whether it is joinable. */
export const makeQueue = (capacity: number, joinable: boolean): Effect.Effect<Handle, never, Scope.Scope> =>
  Effect.suspend(() => {
    const q = queueState(capacity, joinable)
    return Effect.map(
      hostScoped<QueueOps>({
        kind,
        handlers: () => ({
          offer: (_owner, { item, timeout }) => q.offer(item, timeout),
          offerIfAvailable: (_owner, { item }) => q.offerIfAvailable(item),
          take: (owner, { run, timeout }) => q.take(owner, run, timeout),
          takeIfAvailable: (owner, { run }) => q.takeIfAvailable(owner, run),
          putBack: (owner, { item, run }) => q.putBack(owner, run, item),
          taskDone: (owner, { run }) => q.taskDone(owner, run),
          awaitEmpty: () => q.awaitEmpty,
          end: () => q.end,
          size: () => q.size,
          waiting: () => q.waiting,
          runEnded: (owner, { run }) => Effect.sync(() => q.runEnded(owner, run))
        }),
        ownerGone: q.ownerGone,
        close: q.close
      }),
      (id): Handle => ({ kind, id, buffer: undefined, detail: joinable ? "joinable" : undefined })
    )
  })

const ended = () => endedError(kind, "the queue was ended")

interface Taker {
  readonly owner: number
  readonly run: number
  readonly resume: (outcome: Effect.Effect<unknown, SharedError>) => void
}

interface Offerer {
  readonly item: unknown
  readonly resume: (outcome: Effect.Effect<void, SharedError>) => void
}

interface QueueState {
  readonly offer: (item: unknown, timeoutMillis: number | undefined) => Effect.Effect<void, SharedError>
  readonly offerIfAvailable: (item: unknown) => Effect.Effect<boolean, SharedError>
  readonly take: (owner: number, run: number, timeoutMillis: number | undefined) => Effect.Effect<unknown, SharedError>
  /** `[]` when empty, `[item]` otherwise (an item may be `undefined`). */
  readonly takeIfAvailable: (owner: number, run: number) => Effect.Effect<ReadonlyArray<unknown>, SharedError>
  /** Compensation of a take that completed after its caller gave up: the item goes back to the head. */
  readonly putBack: (owner: number, run: number, item: unknown) => Effect.Effect<void, SharedError>
  readonly taskDone: (owner: number, run: number) => Effect.Effect<void, SharedError>
  readonly awaitEmpty: Effect.Effect<void, SharedError>
  readonly end: Effect.Effect<void, SharedError>
  readonly size: Effect.Effect<number, SharedError>
  readonly waiting: Effect.Effect<{ readonly takers: number; readonly offerers: number }, SharedError>
  /** A task run of `owner` ended normally: what it took stays taken. */
  readonly runEnded: (owner: number, run: number) => void
  /** `owner`'s worker is gone: after a crash, a joinable queue's items its running task took go back. */
  readonly ownerGone: (owner: number, crashed: boolean) => void
  /** The scope ended: every waiter fails with `Closed`, and so does every later operation. */
  readonly close: () => void
}

const queueState = (capacity: number, joinable: boolean): QueueState => {
  let items = new Deque<unknown>()
  const takers = new Set<Taker>()
  const offerers = new Set<Offerer>()
  const emptyWaiters = new Set<(outcome: Effect.Effect<void, SharedError>) => void>()
  let state: "open" | "ended" | "closed" = "open"
  // offered and not yet marked done (joinable: awaitEmpty waits for 0)
  let unfinished = 0
  // joinable only: the items each worker's running task took and has not marked done, by owner and run
  const taken = new Map<number, Map<number, Array<unknown>>>()

  const track = (owner: number, run: number, item: unknown): void => {
    if (!joinable || owner === PARENT_OWNER) return
    let runs = taken.get(owner)
    if (runs === undefined) taken.set(owner, runs = new Map())
    const list = runs.get(run)
    if (list === undefined) runs.set(run, [item])
    else list.push(item)
  }
  /** Forgets one item `owner` took (in `run` if it took one there, else in any of its runs). */
  const untrack = (owner: number, run: number): void => {
    const runs = taken.get(owner)
    if (runs === undefined) return
    const r = runs.has(run) ? run : runs.keys().next().value!
    const list = runs.get(r)!
    list.shift()
    if (list.length === 0) runs.delete(r)
    if (runs.size === 0) taken.delete(owner)
  }

  /** Hands `item` to the first waiting taker, or keeps it (at the head when it comes back). */
  const deliver = (item: unknown, atHead: boolean): void => {
    for (const taker of takers) {
      takers.delete(taker)
      track(taker.owner, taker.run, item)
      return taker.resume(Effect.succeed(item))
    }
    if (atHead) items.unshift(item)
    else items.push(item)
  }

  /** Room was made: the first waiting offerer goes in. */
  const admit = (): void => {
    for (const offerer of offerers) {
      if (items.length >= capacity) return
      offerers.delete(offerer)
      unfinished++
      deliver(offerer.item, false)
      offerer.resume(Effect.void)
    }
  }

  const failAll = (error: () => SharedError, which: { takers: boolean; offerers: boolean; empty: boolean }): void => {
    if (which.offerers) {
      const all = [...offerers]
      offerers.clear()
      for (const o of all) o.resume(Effect.fail(error()))
    }
    if (which.takers) {
      const all = [...takers]
      takers.clear()
      for (const t of all) t.resume(Effect.fail(error()))
    }
    if (which.empty) {
      const all = [...emptyWaiters]
      emptyWaiters.clear()
      for (const resume of all) resume(Effect.fail(error()))
    }
  }

  /** A wait registered in `set`, with an optional timeout; leaving (timeout, interruption) removes it. */
  const waitIn = <A, W>(
    set: Set<W>,
    make: (resume: (outcome: Effect.Effect<A, SharedError>) => void) => W,
    timeoutMillis: number | undefined
  ): Effect.Effect<A, SharedError> =>
    Effect.callback<A, SharedError>((resume) => {
      let timer: ReturnType<typeof setTimeout> | undefined
      const waiter = make((outcome) => {
        if (timer !== undefined) clearTimeout(timer)
        resume(outcome)
      })
      set.add(waiter)
      if (timeoutMillis !== undefined) {
        timer = setTimeout(() => {
          if (set.delete(waiter)) resume(Effect.fail(timeoutError(kind, timeoutMillis)))
        }, timeoutMillis)
      }
      return Effect.sync(() => {
        if (timer !== undefined) clearTimeout(timer)
        set.delete(waiter)
      })
    })

  const open = <A>(f: () => Effect.Effect<A, SharedError>): Effect.Effect<A, SharedError> =>
    Effect.suspend(() => (state === "closed" ? Effect.fail(closedError(kind)) : f()))

  const offerNow = (item: unknown): boolean => {
    if (items.length >= capacity && takers.size === 0) return false
    unfinished++
    deliver(item, false)
    return true
  }

  const finished = (): void => {
    if (--unfinished > 0) return
    const all = [...emptyWaiters]
    emptyWaiters.clear()
    for (const resume of all) resume(Effect.void)
  }

  const takeNow = (owner: number, run: number): ReadonlyArray<unknown> => {
    if (items.length === 0) return []
    const item = items.shift()
    track(owner, run, item)
    admit()
    return [item]
  }

  return {
    offer: (item, timeoutMillis) =>
      open(() => {
        if (state === "ended") return Effect.fail(ended())
        if (offerNow(item)) return Effect.void
        if (timeoutMillis !== undefined && timeoutMillis <= 0) return Effect.fail(timeoutError(kind, timeoutMillis))
        return waitIn<void, Offerer>(offerers, (resume) => ({ item, resume }), timeoutMillis)
      }),
    offerIfAvailable: (item) =>
      open(() => {
        if (state === "ended") return Effect.fail(ended())
        return Effect.succeed(offerNow(item))
      }),
    take: (owner, run, timeoutMillis) =>
      open(() => {
        const now = takeNow(owner, run)
        if (now.length > 0) return Effect.succeed(now[0])
        if (state === "ended") return Effect.fail(ended())
        if (timeoutMillis !== undefined && timeoutMillis <= 0) return Effect.fail(timeoutError(kind, timeoutMillis))
        return waitIn<unknown, Taker>(takers, (resume) => ({ owner, run, resume }), timeoutMillis)
      }),
    takeIfAvailable: (owner, run) => open(() => Effect.succeed(takeNow(owner, run))),
    putBack: (owner, run, item) =>
      Effect.sync(() => {
        if (state === "closed") return
        untrack(owner, run)
        deliver(item, true)
      }),
    taskDone: (owner, run) =>
      open(() => {
        if (unfinished === 0) {
          return Effect.fail(overReleaseError(kind, "taskDone called more times than there were items"))
        }
        untrack(owner, run)
        finished()
        return Effect.void
      }),
    awaitEmpty: open(() =>
      unfinished === 0
        ? Effect.void
        : Effect.callback<void, SharedError>((resume) => {
          emptyWaiters.add(resume)
          return Effect.sync(() => void emptyWaiters.delete(resume))
        })
    ),
    end: open(() =>
      Effect.sync(() => {
        if (state !== "open") return
        state = "ended"
        // offers waiting on a full queue never go in; takers wait only while there is nothing left
        failAll(ended, { takers: items.length === 0, offerers: true, empty: false })
      })
    ),
    size: open(() => Effect.sync(() => items.length)),
    waiting: open(() => Effect.sync(() => ({ takers: takers.size, offerers: offerers.size }))),
    runEnded: (owner, run) => {
      const runs = taken.get(owner)
      if (runs === undefined) return
      runs.delete(run)
      if (runs.size === 0) taken.delete(owner)
    },
    ownerGone: (owner, crashed) => {
      const runs = taken.get(owner)
      taken.delete(owner)
      if (!crashed || runs === undefined || state === "closed") return
      // a joinable queue's items that a crashed task took and had not marked done go back, in their order,
      // ahead of the others (at-least-once under crashes); they are still counted as unfinished
      const back = [...runs.values()].flat()
      for (let i = back.length - 1; i >= 0; i--) deliver(back[i], true)
    },
    close: () => {
      if (state === "closed") return
      state = "closed"
      items = new Deque()
      taken.clear()
      failAll(() => closedError(kind), { takers: true, offerers: true, empty: true })
    }
  }
}
