/**
 * The shared objects this isolate knows, and how it reaches the ones it does not hold.
 *
 * A contract module, the same file on both sides, holding per-isolate state:
 * - in the parent: every live shared object by id (`hosted`), so that a worker's call can be served and
 *   a dead worker's locks and permits released (R8);
 * - in a worker: the `host` function that sends a call to the parent over the pool's channel, and the
 *   worker's owner token.
 *
 * An object travels in a payload as `{ kind, id }` plus, when the receiver shares memory with the sender
 * (threads, in-process), its `SharedArrayBuffer`. The pool says which while it encodes a payload
 * (`encodingTarget`): encoding is synchronous, so a module-level setting around the call is exact.
 *
 * @internal
 */
import type * as Effect from "effect/Effect"

/** An object as the parent hosts it: its operations by name, and what to do when a worker is gone. */
export interface HostedObject {
  readonly kind: string
  /** Runs an operation for `owner` (the calling worker's token); the effect may wait. */
  readonly call: (owner: number, op: string, args: ReadonlyArray<unknown>) => Effect.Effect<unknown, unknown>
  /**
   * `owner`'s worker is gone. After a crash (`crashed`), gives back what its running task held (a lock,
   * permits, a joinable queue's unfinished items) and breaks what it was part of (barriers, R8). After a
   * normal exit (retired, idled out, pool closed) gives nothing back: it only forgets the owner.
   */
  readonly ownerGone?: ((owner: number, crashed: boolean) => void) | undefined
  /** Whether `owner` still holds something here (a lock a finished task kept): its token is then not reused. */
  readonly holds?: ((owner: number) => boolean) | undefined
}

/** The parent's own owner token; workers get small tokens from 2 up, reused after a worker is gone. */
export const PARENT_OWNER = 1

interface State {
  nextId: number
  readonly hosted: Map<number, HostedObject>
  /** Set while the pool encodes a payload: does the receiver share this isolate's memory? */
  sharedMemory: boolean
  /** Set while the cluster client encodes a payload: the receiver is another machine (optional: states made
   * by an older copy of this module lack it). */
  otherMachine?: boolean | undefined
  /** In a worker: sends a call to the parent; `compensate` undoes it if it completes after a cancel. */
  host:
    | ((
      object: number,
      op: string,
      args: ReadonlyArray<unknown>,
      compensate?: { readonly op: string; readonly args: ReadonlyArray<unknown>; readonly withResult?: boolean | undefined }
    ) => Effect.Effect<unknown, unknown>)
    | undefined
  /** In a worker: sends a call to the parent and ignores its answer (a task's end, to the objects it used). */
  post: ((object: number, op: string, args: ReadonlyArray<unknown>) => void) | undefined
  /** This isolate's owner token. */
  owner: number
  /** The task run going on in this isolate (a worker runs one at a time), counted from 1; 0 outside one. */
  run: number
  /** What to do when the current run ends normally, by object (each object registers once per run). */
  readonly runEnd: Map<number, () => void>
  /** In the parent: owner tokens free for new workers (small numbers, so per-owner tables stay small). */
  readonly freeOwners: Array<number>
  nextOwner: number
}

// One state per isolate, even if this module is loaded twice (source and built copies, or two versions).
const key = Symbol.for("effect-parallel/shared-registry")
const state: State = ((globalThis as Record<symbol, unknown>)[key] ??= {
  nextId: 1,
  hosted: new Map(),
  sharedMemory: true,
  host: undefined,
  post: undefined,
  owner: PARENT_OWNER,
  run: 0,
  runEnd: new Map(),
  freeOwners: [],
  nextOwner: PARENT_OWNER + 1
}) as State
// a state made by an older copy of this module lacks the newer fields
;(state as { runEnd?: Map<number, () => void> }).runEnd ??= new Map()
state.run ??= 0

export const registry = state

/** Registers an object hosted by this (parent) isolate; returns its id and the function that removes it. */
export const host = (object: HostedObject): { readonly id: number; readonly remove: () => void } => {
  const id = state.nextId++
  state.hosted.set(id, object)
  return { id, remove: () => void state.hosted.delete(id) }
}

/** Runs `f` with one of the encoding flags set, restoring it afterwards (encodings may nest). */
const withFlag = <K extends "sharedMemory" | "otherMachine", A>(key: K, value: State[K], f: () => A): A => {
  const previous = state[key]
  state[key] = value
  try {
    return f()
  } finally {
    state[key] = previous
  }
}

/** Runs `f` with the encoding target set (the pool, around payload encoding). */
export const encodingFor = <A>(sharedMemory: boolean, f: () => A): A => withFlag("sharedMemory", sharedMemory, f)

/**
 * Runs `f` while encoding for another machine (the cluster backend): a shared object's handle refuses to be
 * encoded there, since the object lives in this process.
 */
export const encodingForOtherMachine = <A>(f: () => A): A => withFlag("otherMachine", true, f)

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
