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

/** An object as the parent hosts it: its operations by name, and what to do when a worker dies. */
export interface HostedObject {
  readonly kind: string
  /** Runs an operation for `owner` (the calling worker's token); the effect may wait. */
  readonly call: (owner: number, op: string, args: ReadonlyArray<unknown>) => Effect.Effect<unknown, unknown>
  /** Releases whatever `owner` held (locks, permits) and breaks what it was part of (barriers). */
  readonly ownerGone?: ((owner: number) => void) | undefined
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
  /** This isolate's owner token. */
  owner: number
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
  owner: PARENT_OWNER,
  freeOwners: [],
  nextOwner: PARENT_OWNER + 1
}) as State

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
 * Called by the parent's engine when a worker is gone, whatever the reason: every object releases what
 * the worker's token held (R8), then the token is free for another worker.
 */
export const workerGone = (owner: number): void => {
  for (const object of state.hosted.values()) object.ownerGone?.(owner)
  state.freeOwners.push(owner)
}
