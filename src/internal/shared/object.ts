/**
 * What every shared object has in common: a handle that travels in payloads and its schema, typed
 * operations (one union of requests per object, served in the parent, called from anywhere), the hosting
 * of objects in the parent, and `holding` for the scoped variants.
 *
 * Each object's folder has a `protocol.ts` (its operations and, for shared-memory objects, the algorithm
 * both sides run on the memory), a `parent.ts` (making and hosting it: the parent's side) and a
 * `worker.ts` (the live object built from a handle, on shared memory or through calls to the parent: what
 * a worker uses, and the parent too for objects it made). The two sides never import each other.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as SchemaTransformation from "effect/SchemaTransformation"
import type * as Scope from "effect/Scope"
import { SharedError } from "../../SharedError.ts"
import { askParser, type Shortcut, shortcutAnnotation } from "../codec.ts"
import { fromWireDefect, type WireDefect } from "../protocol.ts"
import { closedError, hasReason } from "./errors.ts"
import { host as hostObject, registry } from "./registry.ts"
import { close, HEADER_CELLS, type Restore } from "./wait.ts"

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

// --- typed operations ----------------------------------------------------------------------------------------

/** An object's operations: for each name, the fields of its request and its result. */
export type OpsShape = { readonly [K in string]: { readonly request: object; readonly result: unknown } }

/** The request of operation `K`: `{ _tag: K, ...fields }`. */
export type RequestFor<O extends OpsShape, K extends keyof O & string> = { readonly _tag: K } & O[K]["request"]

/** Any request of the object. */
export type RequestOf<O extends OpsShape> = { readonly [K in keyof O & string]: RequestFor<O, K> }[keyof O & string]

/** How the parent serves each operation, for the calling owner. */
export type Handlers<O extends OpsShape> = {
  readonly [K in keyof O & string]: (owner: number, request: RequestFor<O, K>) => Effect.Effect<O[K]["result"], SharedError>
}

/** Calls on the object a handle names, typed by its operations. */
export interface Caller<O extends OpsShape> {
  /** Runs operation `request._tag`; `compensate` says what undoes it if it completes after the caller gave up. */
  <K extends keyof O & string>(
    request: RequestFor<O, K>,
    compensate?: (result: O[K]["result"]) => RequestOf<O> | undefined
  ): Effect.Effect<O[K]["result"], SharedError>
  /** Sends operation `request._tag` and does not wait for its answer. */
  readonly post: (request: RequestOf<O>) => void
}

const decodeSharedError = Schema.decodeUnknownSync(SharedError)

/**
 * The calls on the object `handle` names: over the pool's channel from a worker, directly in the parent
 * (and in-process). The wire carries untyped values; this is the one place that says what comes back.
 */
export const caller = <O extends OpsShape>(handle: Handle): Caller<O> => {
  const call = (request: unknown, compensate?: (result: unknown) => unknown): Effect.Effect<unknown, SharedError> => {
    const remote = registry.host
    if (remote === undefined) {
      const object = registry.hosted.get(handle.id)
      if (object === undefined) return Effect.fail(closedError(handle.kind))
      return object.call(registry.owner, request) as Effect.Effect<unknown, SharedError>
    }
    return Effect.catch(remote(handle.id, request, compensate), (failure) => {
      const f = failure as { readonly error?: unknown; readonly defect?: WireDefect }
      if (f.defect !== undefined) return Effect.die(fromWireDefect(f.defect))
      return Effect.fail(decodeSharedError(f.error))
    })
  }
  const post = (request: unknown): void => {
    const remote = registry.post
    if (remote !== undefined) return remote(handle.id, request)
    const object = registry.hosted.get(handle.id)
    if (object !== undefined) Effect.runFork(object.call(registry.owner, request))
  }
  return Object.assign(call, { post }) as unknown as Caller<O>
}

/** The parent's side of the calls: dispatches each request to its handler. */
export const serve = <O extends OpsShape>(kind: string, handlers: Handlers<O>) => (owner: number, request: unknown): Effect.Effect<unknown, SharedError> => {
  const r = request as RequestOf<O>
  const handler = handlers[r._tag] as ((owner: number, request: RequestOf<O>) => Effect.Effect<unknown, SharedError>) | undefined
  // an unknown operation is a bug in this library (both sides come from it), never a user error
  return handler === undefined ? Effect.die(new Error(`${kind} has no operation ${String(r._tag)}`)) : handler(owner, r)
}

// --- handles and their schema --------------------------------------------------------------------------------

/**
 * The schema of a shared object: encoded as `{ kind, id, buffer?, detail? }` (the buffer only when the
 * receiver shares memory, see `EncodingContext`), decoded into a live object with the same API on the
 * other side.
 */
export const handleSchema = <A extends HasHandle>(
  kind: string,
  is: (u: unknown) => u is A,
  fromHandle: (handle: Handle) => A
): Schema.Codec<A, { readonly kind: string; readonly id: number; readonly buffer?: SharedArrayBuffer | undefined }> => {
  /** The encoded handle, or undefined when the receiver is on another machine. */
  const encode = (a: A) => {
    const context = registry.encoding
    if (!context.sameMachine) return undefined
    const h = a[HandleKey]
    // keys present only with a value (the buffer only where the memory is shared), built without spreads
    const encoded: { kind: string; id: number; buffer?: SharedArrayBuffer; detail?: string } = { kind, id: h.id }
    if (context.sharesMemory && h.buffer !== undefined) encoded.buffer = h.buffer
    if (h.detail !== undefined) encoded.detail = h.detail
    return encoded
  }
  // The same codec without the parser, for the payloads of single tasks (`codec.ts`: shortcutOf). It
  // accepts exactly what the schema below accepts and asks the parser about the rest, which then fails
  // with the schema's own issue (a value of another kind, a handle for another machine).
  const shortcut: Shortcut = {
    encode: (u) => (is(u) ? encode(u) ?? askParser : askParser),
    decode: (u) => {
      if (typeof u !== "object" || u === null) return askParser
      const e = u as { readonly kind?: unknown; readonly id?: unknown; readonly buffer?: unknown; readonly detail?: unknown }
      const { id, buffer, detail } = e
      if (e.kind !== kind || typeof id !== "number") return askParser
      if (buffer !== undefined && !(buffer instanceof SharedArrayBuffer)) return askParser
      if (detail !== undefined && typeof detail !== "string") return askParser
      return fromHandle({ kind, id, buffer, detail })
    }
  }
  return Schema.Struct({
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
          const encoded = encode(a)
          if (encoded === undefined) {
            throw new Error(
              `a shared object (${kind}) cannot be sent to another machine: it lives in the process that made it (use it with threads or processes, not the cluster backend)`
            )
          }
          return encoded
        }
      })
    ),
    Schema.annotate({ [shortcutAnnotation]: shortcut })
  ) as never
}

/** Builds a guard for objects of one kind. */
export const isKind = <A extends HasHandle>(kind: string) => (u: unknown): u is A =>
  typeof u === "object" && u !== null && (u as Partial<HasHandle>)[HandleKey]?.kind === kind

// --- hosting (parent side) -----------------------------------------------------------------------------------

/**
 * Hosts an object in the parent for the current scope: registers it (so that workers' calls reach it and a
 * crashed worker's holdings come back) with the handlers made for its id, and, when the scope ends,
 * removes it and runs `close` (which fails its pending waits with `Closed`). Returns its id.
 */
export const hostScoped = <O extends OpsShape>(options: {
  readonly kind: string
  readonly handlers: (id: number) => Handlers<O>
  readonly ownerGone?: ((owner: number, crashed: boolean) => void) | undefined
  readonly holds?: ((owner: number) => boolean) | undefined
  readonly close?: (() => void) | undefined
}): Effect.Effect<number, never, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => {
        let served: (owner: number, request: unknown) => Effect.Effect<unknown, SharedError> = () => Effect.fail(closedError(options.kind))
        const hosted = hostObject({
          kind: options.kind,
          call: (owner, request) => served(owner, request),
          ownerGone: options.ownerGone,
          holds: options.holds
        })
        served = serve(options.kind, options.handlers(hosted.id))
        return hosted
      }),
      (hosted) =>
        Effect.sync(() => {
          hosted.remove()
          options.close?.()
        })
    ),
    (hosted) => hosted.id
  )

/**
 * Makes an object on shared memory in the parent, for the current scope: its memory (the common header,
 * then `cells` of its own), its hosting (see `hostScoped`) with handlers that run the same algorithm on the
 * same memory for process workers, and, when the scope ends, the closed flag raised in the memory with
 * every waiter in every isolate woken (they fail with `Closed`).
 */
export const makeOnMemory = <O extends OpsShape>(options: {
  readonly kind: string
  readonly cells: number
  readonly init?: ((view: Int32Array) => void) | undefined
  readonly handlers: (view: Int32Array, id: number) => Handlers<O>
  readonly ownerGone?: ((view: Int32Array, owner: number, crashed: boolean) => void) | undefined
  readonly holds?: ((view: Int32Array, owner: number) => boolean) | undefined
}): Effect.Effect<Handle, never, Scope.Scope> =>
  Effect.suspend(() => {
    const buffer = new SharedArrayBuffer((HEADER_CELLS + options.cells) * 4)
    const view = new Int32Array(buffer)
    options.init?.(view)
    const { holds, ownerGone } = options
    return Effect.map(
      hostScoped<O>({
        kind: options.kind,
        handlers: (id) => options.handlers(view, id),
        ownerGone: ownerGone === undefined ? undefined : (owner, crashed) => ownerGone(view, owner, crashed),
        holds: holds === undefined ? undefined : (owner) => holds(view, owner),
        close: () => close(view)
      }),
      (id): Handle => ({ kind: options.kind, id, buffer })
    )
  })

// --- scoped holding ------------------------------------------------------------------------------------------

/**
 * Runs `effect` holding what `acquire` takes (a lock, permits): only the wait inside `acquire` is
 * interruptible (it runs its wait under the `restore` it is given, R1); once taken, the release always
 * runs, whatever `effect` does. A release after the object closed has nothing left to release.
 */
export const holding = <A, E, R, E2>(
  acquire: (restore: Restore) => Effect.Effect<void, E2>,
  release: Effect.Effect<void, unknown>,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E | E2, R> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.andThen(
      acquire(restore),
      Effect.ensuring(restore(effect), Effect.orDie(Effect.catchIf(release, (e) => hasReason(e, "Closed"), () => Effect.void)))
    )
  )
