/**
 * Waiting on shared memory: how the fibers of one isolate wait for a shared-memory object (lock,
 * re-entrant lock, semaphore, event) that other isolates change, without blocking the event loop, without
 * a thundering herd and without losing a wake-up.
 *
 * Every such object starts with a two-cell header: `CLOSED` (1 once its scope has ended) and `SEQ`, a
 * counter bumped by every change that may let a waiter in (a release, a set, the close). Whoever makes such
 * a change bumps `SEQ` and wakes as many waiting isolates as the change can serve (`wake(view, n)`: one for
 * a lock's release, `n` for `n` permits, all for an event or the close).
 *
 * Within one isolate, all fibers waiting on one object share ONE `Atomics.waitAsync` on `SEQ` (an
 * "agent"), and are served in arrival order from an in-isolate queue: a wake-up tries the head, then the
 * next, and stops at the first that cannot proceed (Effect's own Semaphore hands off the same way). So
 * 2,000 fibers waiting on a semaphore cost one registration, and a release of one permit resumes one
 * fiber, not 2,000.
 *
 * No wake-up is lost:
 * - an agent reads `SEQ` before it tries its waiters and registers its wait for that value, so a change
 *   between the try and the registration makes the registration return at once (the futex protocol);
 * - a fiber that gives up (interruption, timeout) only leaves the in-isolate queue: it never owned the
 *   registration. Leaving re-runs the queue, since the new head may be able to proceed;
 * - an agent woken by a notify that it cannot use (its waiters all left, or its head needs more permits
 *   than are free) passes the wake-up on to the next waiting isolate, once per value of `SEQ`, so two
 *   agents that both cannot proceed do not wake each other forever.
 *
 * An `Atomics.waitAsync` cannot be cancelled: an agent whose fibers all left keeps its registration until
 * the next notify (which it passes on) or the close. No re-check timer runs on any path.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type { SharedError } from "../../SharedError.ts"
import { waitEnded, waitStarted } from "./registry.ts"

/** What an acquire runs its wait under (see `holding` in object.ts): only the wait is interruptible there. */
export type Restore = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

/** Header cells of every shared-memory object. */
export const CLOSED = 0
export const SEQ = 1
export const HEADER_CELLS = 2

export const isClosed = (view: Int32Array): boolean => Atomics.load(view, CLOSED) !== 0

/** Fails with `closedError()` once the object's scope has ended, else runs `f`. */
export const ifOpen = <A>(view: Int32Array, closedError: () => SharedError, f: () => A): Effect.Effect<A, SharedError> =>
  Effect.suspend(() => (isClosed(view) ? Effect.fail(closedError()) : Effect.succeed(f())))

/** After a change that can let `n` waiters in: bump the sequence and wake up to `n` waiting isolates. */
export const wake = (view: Int32Array, n: number): void => {
  Atomics.add(view, SEQ, 1)
  Atomics.notify(view, SEQ, n)
}

/** Marks the object closed and wakes every waiter, in every isolate (they fail with `Closed`). */
export const close = (view: Int32Array): void => {
  Atomics.store(view, CLOSED, 1)
  wake(view, Infinity)
}

interface Waiter {
  /** Set while the waiter's fiber is suspended; calling it lets the fiber try again. */
  resume: (() => void) | undefined
  timedOut: boolean
}

/** Counters for tests and benchmarks: registrations made, wake-ups received, wake-ups passed on. */
export const waitStats = { registrations: 0, wakeups: 0, passedOn: 0 }

/**
 * The waiters of one object in one isolate. Only the head of the queue tries; it tries in its own fiber
 * (never on its behalf), so a fiber interrupted after being woken took nothing: it just leaves, and the
 * next one is woken (as in Effect's Semaphore, a wake-up reserves nothing).
 */
class Agent {
  readonly waiters = new Set<Waiter>()
  /** An `Atomics.waitAsync` of this agent is outstanding. */
  armed = false
  /** The last registration returned because of a notify that no waiter has used yet. */
  consumed = false
  /** The value of SEQ at which this agent last passed a wake-up on. */
  passedAt = -1

  readonly view: Int32Array
  readonly key: number

  constructor(view: Int32Array, key: number) {
    this.view = view
    this.key = key
  }

  head(): Waiter | undefined {
    for (const w of this.waiters) return w
    return undefined
  }

  /** Lets the head try, unless a registration will do it later; forgets the agent once unused. */
  drain(): void {
    if (isClosed(this.view)) {
      for (const w of this.waiters) w.resume?.()
      return
    }
    const head = this.head()
    if (head === undefined) {
      // woken for nobody: the notify was meant for some other isolate's waiter
      if (this.consumed) this.passOn(Atomics.load(this.view, SEQ))
      if (!this.armed) agents.delete(this.key)
      return
    }
    if (!this.armed) head.resume?.()
  }

  /** The head tried at `seq` and could not proceed: pass on a wake-up it could not use, then wait. */
  headFailed(seq: number): void {
    if (this.consumed) this.passOn(seq)
    if (this.armed) return
    const r = Atomics.waitAsync(this.view, SEQ, seq)
    if (!r.async) return // SEQ moved since the try: the head tries again at once (drain sees no registration)
    this.armed = true
    waitStats.registrations++
    void r.value.then((result) => {
      this.armed = false
      waitStats.wakeups++
      if (result === "ok") this.consumed = true
      this.drain()
    })
  }

  passOn(seq: number): void {
    this.consumed = false
    if (this.passedAt === seq) return
    this.passedAt = seq
    waitStats.passedOn++
    Atomics.notify(this.view, SEQ, 1)
  }
}

// One agent per object per isolate, while it has waiters or an outstanding registration.
const agents = new Map<number, Agent>()

/** The errors a wait on one kind of object fails with. */
export interface WaitErrors {
  readonly closed: () => SharedError
  readonly timeout: (millis: number) => SharedError
}

/**
 * What a fiber waits for: the object (its memory and its id, which names it within this isolate) and the
 * attempt to make (take the lock, the permits, see the flag). Built once per object and caller where it can
 * be: the uncontended path then allocates nothing but the effect.
 */
export interface Waitable {
  readonly view: Int32Array
  readonly key: number
  /** Tries to proceed; true when done. */
  readonly attempt: () => boolean
  readonly errors: WaitErrors
  /** The caller already holds the object (a re-entrant lock): it tries at once, ahead of any queue. */
  readonly holds?: (() => boolean) | undefined
  /** Runs first, each time (a semaphore notes that the running task uses it). */
  readonly enter?: (() => void) | undefined
}

/**
 * Waits until `attempt` succeeds (tried at once, then after each change of the object), the object closes
 * (`Closed`), or `timeoutMillis` pass (`Timeout`). Only the wait itself is run under `restore`, so a caller
 * inside `uninterruptibleMask` cannot be interrupted between a successful attempt and what follows
 * (`withLock` relies on it). An interrupted or timed-out waiter leaves the queue and nothing else changes.
 */
export const waitFor = (w: Waitable, timeoutMillis: number | undefined, restore?: Restore): Effect.Effect<void, SharedError> =>
  Effect.suspend(() => {
    const { attempt, errors, key, view } = w
    w.enter?.()
    if (isClosed(view)) return Effect.fail(errors.closed())
    let agent = agents.get(key)
    // nobody of this isolate waits before us (no queue to respect), or we hold it already: try at once
    if ((agent === undefined || agent.waiters.size === 0 || w.holds?.() === true) && attempt()) return Effect.void
    if (timeoutMillis !== undefined && timeoutMillis <= 0) return Effect.fail(errors.timeout(timeoutMillis))
    if (agent === undefined) agents.set(key, agent = new Agent(view, key))
    const a = agent
    const waiter: Waiter = { resume: undefined, timedOut: false }
    a.waiters.add(waiter)
    // a worker thread tells its parent that it waits (deadlock detection); the parent sees other waits itself
    waitStarted(key)
    const timer = timeoutMillis === undefined ? undefined : setTimeout(() => {
      waiter.timedOut = true
      waiter.resume?.()
    }, timeoutMillis)
    const wait = Effect.callback<void>((resume) => {
      waiter.resume = () => {
        waiter.resume = undefined
        resume(Effect.void)
      }
      if (waiter.timedOut) return waiter.resume()
      a.drain()
      return Effect.sync(() => {
        waiter.resume = undefined
      })
    })
    const restored = restore === undefined ? wait : restore(wait)
    const loop: Effect.Effect<void, SharedError> = Effect.flatMap(restored, () => {
      if (isClosed(view)) return Effect.fail(errors.closed())
      if (waiter.timedOut) return Effect.fail(errors.timeout(timeoutMillis!))
      const seq = Atomics.load(view, SEQ)
      if (attempt()) {
        a.waiters.delete(waiter)
        a.consumed = false
        a.drain()
        return Effect.void
      }
      a.headFailed(seq)
      return loop
    })
    return Effect.onExit(loop, () =>
      Effect.sync(() => {
        waitEnded()
        if (timer !== undefined) clearTimeout(timer)
        // leaving may let the next one in (it may need fewer permits than we did)
        if (a.waiters.delete(waiter)) a.drain()
      }))
  })

/**
 * Waits until the flag at `view[index]` is non-zero, the object closes, or `timeoutMillis` pass; returns
 * whether the flag is set (an event's `await`).
 */
export const waitForFlag = (
  view: Int32Array,
  key: number,
  index: number,
  timeoutMillis: number | undefined,
  closedError: () => SharedError
): Effect.Effect<boolean, SharedError> => {
  const timedOut = new Error("timed out") as unknown as SharedError
  return waitFor(
    { view, key, attempt: () => Atomics.load(view, index) !== 0, errors: { closed: closedError, timeout: () => timedOut } },
    timeoutMillis
  ).pipe(
    Effect.as(true),
    Effect.catchIf((e) => e === timedOut, () => Effect.succeed(false))
  )
}
