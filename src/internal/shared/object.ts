/**
 * What every shared object has in common: a handle that travels in payloads, a schema for it, waiting on
 * shared memory without blocking the event loop, and calls to the parent where memory is not shared.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as SchemaTransformation from "effect/SchemaTransformation"
import { SharedError } from "../../SharedError.ts"
import { fromWireDefect, type WireDefect } from "../protocol.ts"
import { closedError, hasReason } from "./errors.ts"
import { host as hostObject, registry } from "./registry.ts"
import { close, HEADER_CELLS } from "./wait.ts"

/** How an object travels: its kind, its id in the parent, and its memory when the receiver shares it. */
export interface Handle {
  readonly kind: string
  readonly id: number
  readonly buffer: SharedArrayBuffer | undefined
  /** What else the receiver needs to rebuild the object (element type and length of an array, …). */
  readonly detail?: string | undefined
}

/** Every shared object carries its handle under this key. */
export const HandleKey = "~effect-parallel/SharedHandle" as const

export interface HasHandle {
  readonly [HandleKey]: Handle
}

const decodeSharedError = Schema.decodeUnknownSync(SharedError)

/**
 * Calls an operation on the parent-hosted object: over the pool's channel from a worker, directly in the
 * parent (and in-process). `compensate` undoes the operation if it completes after the caller gave up.
 */
export const callHost = (
  handle: Handle,
  op: string,
  args: ReadonlyArray<unknown>,
  compensate?: { readonly op: string; readonly args: ReadonlyArray<unknown>; readonly withResult?: boolean | undefined }
): Effect.Effect<unknown, SharedError> => {
  const remote = registry.host
  if (remote === undefined) {
    const object = registry.hosted.get(handle.id)
    if (object === undefined) return Effect.fail(closed(handle.kind))
    return object.call(registry.owner, op, args) as Effect.Effect<unknown, SharedError>
  }
  return Effect.catch(remote(handle.id, op, args, compensate), (failure) => {
    const f = failure as { readonly error?: unknown; readonly defect?: WireDefect }
    if (f.defect !== undefined) return Effect.die(fromWireDefect(f.defect))
    return Effect.fail(decodeSharedError(f.error))
  })
}

export const closed = closedError

/**
 * The schema of a shared object: encoded as `{ kind, id, buffer? }` (the buffer only when the receiver
 * shares memory: threads, in-process), decoded into a live object with the same API on the other side.
 */
export const handleSchema = <A extends HasHandle>(
  kind: string,
  is: (u: unknown) => u is A,
  fromHandle: (handle: Handle) => A
): Schema.Codec<A, { readonly kind: string; readonly id: number; readonly buffer?: SharedArrayBuffer | undefined }> =>
  Schema.Struct({
    kind: Schema.Literal(kind),
    id: Schema.Number,
    buffer: Schema.optional(Schema.instanceOf(SharedArrayBuffer)),
    detail: Schema.optional(Schema.String)
  }).pipe(
    Schema.decodeTo(
      Schema.declare(is),
      SchemaTransformation.transform({
        decode: (e) => fromHandle({ kind: e.kind, id: e.id, buffer: e.buffer, detail: e.detail }),
        encode: (a) => {
          if (registry.otherMachine === true) {
            throw new Error(
              `a shared object (${kind}) cannot be sent to another machine: it lives in the process that made it (use it with threads or processes, not the cluster backend)`
            )
          }
          const h = a[HandleKey]
          return {
            kind,
            id: h.id,
            ...(registry.sharedMemory && h.buffer !== undefined ? { buffer: h.buffer } : {}),
            ...(h.detail === undefined ? {} : { detail: h.detail })
          }
        }
      })
    )
  ) as never

/** Builds a guard for objects of one kind. */
export const isKind = <A extends HasHandle>(kind: string) => (u: unknown): u is A =>
  typeof u === "object" && u !== null && (u as Partial<HasHandle>)[HandleKey]?.kind === kind

/**
 * Makes an object in the parent, within the current scope: its shared memory (the common header, then
 * `cells` of its own), its registration (so workers on processes can call it and a crashed worker's
 * holdings come back), and its close when the scope ends: the closed flag is raised in the shared memory
 * and every waiter, in every isolate, is woken (it fails with `Closed`).
 */
export const makeHosted = <A>(options: {
  readonly kind: string
  readonly cells: number
  readonly init?: ((view: Int32Array) => void) | undefined
  readonly build: (handle: Handle) => A
  readonly call: (view: Int32Array, id: number) => (owner: number, op: string, args: ReadonlyArray<unknown>) => Effect.Effect<unknown, unknown>
  readonly ownerGone?: ((view: Int32Array, owner: number, crashed: boolean) => void) | undefined
  readonly holds?: ((view: Int32Array, owner: number) => boolean) | undefined
}): Effect.Effect<A, never, import("effect/Scope").Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => {
        const buffer = new SharedArrayBuffer((HEADER_CELLS + options.cells) * 4)
        const view = new Int32Array(buffer)
        options.init?.(view)
        const { holds, ownerGone } = options
        let call: ReturnType<typeof options.call> = () => Effect.die(new Error("not registered yet"))
        const hosted = hostObject({
          kind: options.kind,
          call: (owner, op, args) => call(owner, op, args),
          ownerGone: ownerGone === undefined ? undefined : (owner, crashed) => ownerGone(view, owner, crashed),
          holds: holds === undefined ? undefined : (owner) => holds(view, owner)
        })
        call = options.call(view, hosted.id)
        return { object: options.build({ kind: options.kind, id: hosted.id, buffer }), remove: hosted.remove, view }
      }),
      ({ remove, view }) =>
        Effect.sync(() => {
          remove()
          close(view)
        })
    ),
    ({ object }) => object
  )

/** An unknown operation name: a bug in this library, never a user error. */
export const unknownOp = (kind: string, op: string) => Effect.die(new Error(`${kind} has no operation ${op}`))

/**
 * Runs `effect` holding what `acquire` takes (a lock, permits): only the wait inside `acquire` is
 * interruptible (it runs its wait under the `restore` it is given, R1); once taken, the release always
 * runs, whatever `effect` does.
 */
export const holding = <A, E, R, E2>(
  acquire: (restore: <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>) => Effect.Effect<void, E2>,
  release: Effect.Effect<void, unknown>,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E | E2, R> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.andThen(acquire(restore), Effect.ensuring(restore(effect), Effect.orDie(Effect.catchIf(release, isClosedError, () => Effect.void))))
  )

/** A release after the object's scope ended has nothing left to release: not a defect. */
const isClosedError = (e: unknown): boolean => hasReason(e, "Closed")
