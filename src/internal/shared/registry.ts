/**
 * The shared objects this isolate knows, and how it reaches the ones it does not hold.
 *
 * A contract module, the same file on both sides, holding per-isolate state:
 * - in the parent: every live shared object by id (`hosted`), so that a worker's call can be served and
 *   a crashed worker's holdings given back (R8), and the owner tokens of workers;
 * - in a worker: the functions that send a call to the parent over the pool's channel (`host`, `post`),
 *   the worker's owner token, and the task run going on (what a run took is its own until it ends);
 * - everywhere: the encoding context, which tells a shared object's schema what the receiver of the value
 *   being encoded shares with this isolate (see `EncodingContext`).
 *
 * @internal
 */
import type * as Effect from "effect/Effect"

/** An object as the parent hosts it: how it serves a request, and what to do when a worker is gone. */
export interface HostedObject {
  readonly kind: string
  /** Serves one request (the object's typed operation, `{ _tag, ... }`) for `owner`; the effect may wait. */
  readonly call: (owner: number, request: unknown) => Effect.Effect<unknown, unknown>
  /**
   * `owner`'s worker is gone. After a crash (`crashed`), gives back what its running task held (a lock,
   * permits, a joinable queue's unfinished items) and breaks what it was part of (barriers, R8). After a
   * normal exit (retired, idled out, pool closed) gives nothing back: it only forgets the owner.
   */
  readonly ownerGone?: ((owner: number, crashed: boolean) => void) | undefined
  /** Whether `owner` still holds something here (a lock a finished task kept): its token is then not reused. */
  readonly holds?: ((owner: number) => boolean) | undefined
}

/**
 * What the receiver of a value being encoded shares with this isolate. A shared object's schema reads it
 * to decide what its handle carries: its `SharedArrayBuffer` only to a receiver that shares this memory
 * (a thread, the in-process backend), nothing at all to another machine (a shared object lives in the
 * process that made it, so it refuses to be encoded there).
 *
 * Schema transformations take no arguments and the pool's encoders are synchronous, so the pool installs
 * the context for exactly the duration of one encode (`withEncoding`); outside any, values are encoded for
 * this isolate's own memory.
 */
export interface EncodingContext {
  readonly sharesMemory: boolean
  readonly sameMachine: boolean
}

export const SAME_MEMORY: EncodingContext = { sharesMemory: true, sameMachine: true }
export const OTHER_PROCESS: EncodingContext = { sharesMemory: false, sameMachine: true }
export const OTHER_MACHINE: EncodingContext = { sharesMemory: false, sameMachine: false }

/** The parent's own owner token; workers get small tokens from 2 up, reused after a worker is gone. */
export const PARENT_OWNER = 1

/** Sends a request to the parent; `compensate` gives what undoes it if it completes after a cancel. */
export type HostFn = (
  object: number,
  request: unknown,
  compensate?: ((result: unknown) => unknown) | undefined
) => Effect.Effect<unknown, unknown>

interface State {
  nextId: number
  readonly hosted: Map<number, HostedObject>
  /** The context of the encode going on (see `EncodingContext`). */
  encoding: EncodingContext
  /** In a worker: sends a request to the parent. */
  host: HostFn | undefined
  /** In a worker: sends a request to the parent and ignores its answer (a task's end, to the objects it used). */
  post: ((object: number, request: unknown) => void) | undefined
  /** This isolate's owner token. */
  owner: number
  /** The task run going on in this isolate (a worker runs one at a time), counted from 1; 0 outside one. */
  run: number
  /** What to do when the current run ends normally, by object (each object registers once per run). */
  readonly runEnd: Map<number, () => void>
  /** In the parent: owner tokens free for new workers (small numbers, so per-owner tables stay small). */
  readonly freeOwners: Array<number>
  nextOwner: number
  /**
   * In a worker thread: the shared cells where it publishes its waits on shared memory (see `waitStarted`),
   * which the parent reads for deadlock detection. Undefined elsewhere: nothing is published.
   */
  waits: Int32Array | undefined
}

// One state per isolate, even if this module is loaded twice (source and built copies of one version).
const key = Symbol.for("effect-parallel/shared-registry/v2")
const state: State = ((globalThis as Record<symbol, unknown>)[key] ??= {
  nextId: 1,
  hosted: new Map(),
  encoding: SAME_MEMORY,
  host: undefined,
  post: undefined,
  owner: PARENT_OWNER,
  run: 0,
  runEnd: new Map(),
  freeOwners: [],
  nextOwner: PARENT_OWNER + 1,
  waits: undefined
}) as State

export const registry = state

/** Registers an object hosted by this (parent) isolate; returns its id and the function that removes it. */
export const host = (object: HostedObject): { readonly id: number; readonly remove: () => void } => {
  const id = state.nextId++
  state.hosted.set(id, object)
  return { id, remove: () => void state.hosted.delete(id) }
}

/** Runs `f` (a synchronous encode) with `context` installed, restoring the previous one (encodes may nest). */
export const withEncoding = <A>(context: EncodingContext, f: () => A): A => {
  const previous = state.encoding
  state.encoding = context
  try {
    return f()
  } finally {
    state.encoding = previous
  }
}

/** Runs `f` encoding for a worker that shares this memory (threads) or not (processes). */
export const encodingFor = <A>(sharedMemory: boolean, f: () => A): A => withEncoding(sharedMemory ? SAME_MEMORY : OTHER_PROCESS, f)

/**
 * Runs `f` while encoding for another machine (the cluster backend): a shared object's handle refuses to be
 * encoded there, since the object lives in this process.
 */
export const encodingForOtherMachine = <A>(f: () => A): A => withEncoding(OTHER_MACHINE, f)

/**
 * Gives a new worker its owner token: the smallest one free, so that a pool which replaced thousands of
 * workers still uses tokens no larger than its peak number of live workers + 1.
 */
export const allocateOwner = (): number => {
  if (state.freeOwners.length > 0) {
    state.freeOwners.sort((a, b) => a - b)
    return state.freeOwners.shift()!
  }
  return state.nextOwner++
}

/**
 * Called by the parent's engine when a worker is gone: after a crash every object gives back what the
 * worker's running task held (R8); after a normal exit nothing comes back. The token is then free for
 * another worker, unless an object still names it (a lock a finished task kept: the next worker with that
 * token must not find itself holding it).
 */
export const workerGone = (owner: number, crashed: boolean): void => {
  let held = false
  for (const object of state.hosted.values()) {
    object.ownerGone?.(owner, crashed)
    if (object.holds?.(owner) === true) held = true
  }
  if (!held) state.freeOwners.push(owner)
}

// --- task runs (worker side) ---------------------------------------------------------------------------------

/**
 * A task run starts in this isolate (the worker runtime, before each item). A previous run whose end was
 * not seen (its fiber was interrupted) ended too: the worker is alive.
 */
export const startRun = (): void => {
  endRun()
  state.run++
}

/** The current task run ended without its worker dying: every object it used keeps what it took. */
export const endRun = (): void => {
  if (state.runEnd.size === 0) return
  const ends = [...state.runEnd.values()]
  state.runEnd.clear()
  for (const end of ends) end()
}

/**
 * Registers what object `id` does when the current run ends normally. Only worker isolates track runs: in
 * the parent (and in-process) nothing can crash, so nothing needs to be given back.
 */
export const atRunEnd = (id: number, end: () => void): void => {
  if (state.owner !== PARENT_OWNER && state.run > 0 && !state.runEnd.has(id)) state.runEnd.set(id, end)
}

// --- waits a parent can see (worker threads) -----------------------------------------------------------------

/**
 * The cells of a worker thread's probe (an `Int32Array` on shared memory the parent made, `WorkerBoot.cursor`):
 * [job id, item] that the runtime writes before each item, then how many fibers of the worker wait on a
 * shared-memory object now, the id of the object last waited on, and a count of waits started and ended
 * (it changes whenever a wait starts or ends, so the parent can tell one long wait from many short ones).
 * Waits on parent-hosted objects (queues, pipes, conditions, barriers; every object on processes) need no
 * cell: the parent serves them, and sees them pending.
 */
export const PROBE_WAITING = 2
export const PROBE_OBJECT = 3
export const PROBE_SEQ = 4
export const PROBE_CELLS = 5

/**
 * A fiber of this isolate starts waiting on shared-memory object `object` (it could not proceed at once).
 * Only the waiting path calls it: a lock taken uncontended publishes nothing.
 */
export const waitStarted = (object: number): void => {
  const cells = state.waits
  if (cells === undefined) return
  Atomics.store(cells, PROBE_OBJECT, object)
  Atomics.add(cells, PROBE_WAITING, 1)
  Atomics.add(cells, PROBE_SEQ, 1)
}

/** That fiber's wait ended (it proceeded, timed out, was interrupted, or the object closed). */
export const waitEnded = (): void => {
  const cells = state.waits
  if (cells === undefined) return
  Atomics.sub(cells, PROBE_WAITING, 1)
  Atomics.add(cells, PROBE_SEQ, 1)
}
