/**
 * The cluster backend's protocol, shared by the client (`WorkerPool.layerCluster`) and the runners
 * (`ClusterRunner`): one generic entity, `effect-parallel/Task`, whose messages carry an execution of the
 * executor contract (`executor.ts`) and whose replies carry its outcome.
 *
 * A runner is the local executor at the end of a wire: the client's front encodes payloads with the task's
 * schema exactly as for worker threads, the runner hands them to its pool unchanged (it never imports a task
 * module on its main thread, and runs no schema), and the worker's outcome travels back as it came. The
 * only conversion is to JSON-safe form and back (`json.ts`), because Effect Cluster stores messages and
 * replies in Postgres as JSON: typed arrays and bytes in payloads cross as base64, not as arrays of numbers;
 * in replies they travel beside the JSON ({@link ReplyMessage}), as bytes on the socket and base64 in storage.
 *
 * @internal
 */
import * as ClusterSchema from "effect/cluster/ClusterSchema"
import * as Entity from "effect/cluster/Entity"
import * as Rpc from "effect/rpc/Rpc"
import * as Schema from "effect/Schema"
import * as SchemaTransformation from "effect/SchemaTransformation"
import { CodecFailed, WorkerError } from "../../WorkerError.ts"
import type { CodecResult, TaskCodec } from "../codec.ts"
import type { ChunkOutcome, ItemOutcome } from "../executor.ts"
import type { WireDefect, WireOutcome } from "../protocol.ts"
import { fromJsonSafe, isJsonPrimitive, NotJsonSafe, toJsonSafe, withBytes } from "./json.ts"

/** An execution, as a runner receives it. */
export const RunFields = {
  /** Unique per logical run of the task (or chunk): the message's primary key in storage. */
  id: Schema.String,
  module: Schema.String,
  name: Schema.String,
  /** Payloads encoded with the task's schema, each in JSON-safe form (`json.ts`). */
  items: Schema.Array(Schema.Unknown),
  /** `TaskContext.index` of the first item. */
  index: Schema.Number,
  seed: Schema.Number,
  attempt: Schema.Number,
  timeoutMillis: Schema.NullOr(Schema.Number),
  /** `single`: one task; `values`: a fail-fast chunk; `exits`: a chunk that collects every item's exit. */
  mode: Schema.Literals(["single", "values", "exits"])
}

export type RunRequest = Schema.Struct<typeof RunFields>["Type"]

/**
 * Bytes: `Schema.Uint8Array`, raw bytes in the cluster's binary serialization (SchemaBinary, between runners
 * and clients), base64 in its JSON (Postgres storage) through Node's `Buffer` instead of Effect's own base64
 * (written in JavaScript where the platform has no `Uint8Array.prototype.toBase64`, as Node 24 has not).
 */
const Bytes = Schema.Uint8Array.annotate({
  toCodecJson: () =>
    Schema.link<Uint8Array>()(
      Schema.String,
      SchemaTransformation.transform({
        decode: (base64: string): Uint8Array => new Uint8Array(Buffer.from(base64, "base64")),
        encode: (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64")
      })
    )
})

/**
 * A runner's reply as it travels: the reply (`r`, JSON-safe, see {@link Reply}) and beside it the bytes of
 * the typed arrays and buffers in its values (`b`), which `r` names by index (`json.ts`, `toJsonSafe(value,
 * bytes)`). So a row of pixels crosses the socket as its bytes, neither written as base64 nor parsed as JSON
 * text at either end; in storage the bytes are base64 strings beside the reply's JSON.
 */
export const ReplyMessage = Schema.Struct({ r: Schema.Unknown, b: Schema.Array(Bytes) })
export interface ReplyMessage {
  readonly r: Reply
  readonly b: ReadonlyArray<Uint8Array>
}

/** Persisted: stored in Postgres before it is delivered, redelivered when its runner dies. */
export const Run = Rpc.make("Run", {
  payload: RunFields,
  primaryKey: (request) => request.id,
  success: ReplyMessage
}).annotate(ClusterSchema.Persisted, true)

/** Volatile: sent straight to the runner that owns the shard; lost if that runner dies. */
export const RunVolatile = Rpc.make("RunVolatile", {
  payload: RunFields,
  success: ReplyMessage
})

/** What a runner says of itself: its address and its worker threads (what the client balances by). */
export const RunnerInfo = Schema.Struct({ address: Schema.String, workers: Schema.Number })
export type RunnerInfo = typeof RunnerInfo.Type

/** Readiness and routing probe: answers with the runner's address and size. Volatile. */
export const Ping = Rpc.make("Ping", { success: RunnerInfo })

export const TaskEntity = Entity.make("effect-parallel/Task", [Run, RunVolatile, Ping])

/**
 * The entity ids that messages are addressed to ("slots"): one for each shard, so that every shard, hence
 * every runner that holds one, can be reached. Effect Cluster hashes an entity id to its shard; the ids
 * `slot-0`, `slot-1`, ... are tried in turn, and the first to land on each shard is that shard's slot.
 * The client learns which runner answers for each slot and picks the slot of a runner with a free worker
 * (`balance.ts`).
 */
export const slotIds = (shards: number, shardOf: (entityId: string) => string): ReadonlyArray<string> => {
  const found = new Map<string, string>()
  // a bound, never reached in practice (about shards x ln(shards) tries cover every shard)
  for (let k = 0; found.size < shards && k < shards * 100; k++) {
    const id = `slot-${k}`
    const shard = shardOf(id)
    if (!found.has(shard)) found.set(shard, id)
  }
  return [...found.values()]
}

// ---------------------------------------------------------------------------------------------------------
// Values: the task's own codec, then JSON-safe form

const failed = (e: unknown): CodecResult => ({
  ok: false,
  issue: e instanceof NotJsonSafe
    ? { path: e.path, message: e.message }
    : { path: "", message: e instanceof Error ? e.message : String(e) }
})

const thenJsonSafe = (encode: (u: unknown) => CodecResult) => (u: unknown): CodecResult => {
  const r = encode(u)
  if (!r.ok) return r
  try {
    return { ok: true, value: toJsonSafe(r.value) }
  } catch (e) {
    return failed(e)
  }
}

const fromJsonSafeThen = (decode: (u: unknown) => CodecResult) => (u: unknown): CodecResult => {
  let restored: unknown
  try {
    restored = fromJsonSafe(u)
  } catch (e) {
    return failed(e)
  }
  return decode(restored)
}

const primitiveAsIs = (isEncoded: (u: unknown) => boolean) => (u: unknown): boolean => isJsonPrimitive(u) && isEncoded(u)

/**
 * A task's codec for the cluster: its schema's own encoding (as on threads), carried in JSON-safe form. The
 * one shortcut kept: a payload that is its own encoding for a primitive schema (`Schema.Number` and a
 * number) and that JSON keeps as it is travels without the encoder (R5 holds: the test says it is valid).
 */
export const jsonSafeCodec = (codec: TaskCodec): TaskCodec => ({
  payloadIsEncoded: codec.payloadIsEncoded === undefined ? undefined : primitiveAsIs(codec.payloadIsEncoded),
  encodePayload: thenJsonSafe(codec.encodePayload),
  decodePayload: fromJsonSafeThen(codec.decodePayload),
  encodeSuccess: thenJsonSafe(codec.encodeSuccess),
  decodeSuccess: fromJsonSafeThen(codec.decodeSuccess),
  encodeError: thenJsonSafe(codec.encodeError),
  decodeError: fromJsonSafeThen(codec.decodeError)
})

// ---------------------------------------------------------------------------------------------------------
// Replies: an execution's outcome, JSON-safe

const workerErrorJson = Schema.toCodecJson(WorkerError)
export const encodeWorkerError = Schema.encodeSync(workerErrorJson)
const decodeWorkerError = Schema.decodeUnknownSync(workerErrorJson)

/** One item's outcome, JSON-safe. */
export type ItemJson =
  | { readonly s: unknown } // success: the value, encoded with the task's schema, JSON-safe
  | { readonly f: unknown } // declared failure, likewise
  | { readonly d: unknown } // defect (a WireDefect, JSON-safe)
  | { readonly i: 1 } // interrupted
  | { readonly p: WireProblem } // the worker could not deliver an outcome (TaskNotFound, CodecFailed)
  | { readonly w: unknown } // a WorkerError, JSON-encoded

type WireProblem = Extract<WireOutcome, { readonly _tag: "Problem" }>["problem"]

/** An execution's outcome, JSON-safe (the four cases of `ChunkOutcome`). */
export type OutcomeJson =
  | { readonly v: ReadonlyArray<unknown>; readonly s: ItemJson | null }
  | { readonly x: ReadonlyArray<ItemJson> }
  | { readonly c: unknown; readonly i: number | null }
  | { readonly e: unknown }

/**
 * A runner's reply: the outcome, the runner (`by`, its address; `w`, its workers), the milliseconds the
 * execution spent in the runner's pool (`ms`: queueing and the hop to a worker included) and those its
 * worker measured (`wk`: the work alone), which the client sets against the whole round trip.
 */
export interface Reply {
  readonly by: string
  readonly w: number
  readonly ms: number
  readonly wk?: number | undefined
  readonly o: OutcomeJson
}

/** A value that cannot leave the runner (a result that contains itself) fails its item, as on a worker. */
const notSafe = (direction: "success" | "error", e: unknown): ItemJson => ({
  p: {
    _tag: "CodecFailed",
    direction,
    path: e instanceof NotJsonSafe ? e.path : "",
    message: `(on the cluster runner) ${e instanceof Error ? e.message : String(e)}`
  }
})

const itemToJson = (o: ItemOutcome, bytes: Array<Uint8Array>): ItemJson => {
  // a value that cannot travel takes back the bytes it pushed before it failed (as `outcomeToJson` does)
  const before = bytes.length
  switch (o._tag) {
    case "Success":
      try {
        return { s: toJsonSafe(o.value, bytes) }
      } catch (e) {
        bytes.length = before
        return notSafe("success", e)
      }
    case "Failure":
      try {
        return { f: toJsonSafe(o.error, bytes) }
      } catch (e) {
        bytes.length = before
        return notSafe("error", e)
      }
    case "Defect":
      return { d: toJsonSafe(o.defect, bytes) }
    case "Interrupted":
      return { i: 1 }
    case "Problem":
      return { p: o.problem }
    case "WorkerError":
      return { w: encodeWorkerError(o.error) }
  }
}

/**
 * Encodes an outcome of the runner's pool for the reply; the bytes of its values go to `bytes` (the reply's
 * `b`), which the JSON names by index.
 */
export const outcomeToJson = (o: ChunkOutcome, bytes: Array<Uint8Array>): OutcomeJson => {
  switch (o._tag) {
    case "Values": {
      const values: Array<unknown> = []
      // an array, or a Float64Array when the worker packed a chunk of numbers
      for (let k = 0; k < o.values.length; k++) {
        const before = bytes.length
        try {
          values.push(toJsonSafe(o.values[k], bytes))
        } catch (e) {
          // the item that cannot travel stops the chunk there, as a failure of that item
          bytes.length = before
          return { v: values, s: notSafe("success", e) }
        }
      }
      return { v: values, s: o.stop === undefined ? null : itemToJson(o.stop, bytes) }
    }
    case "Exits":
      return { x: o.exits.map((exit) => itemToJson(exit, bytes)) }
    case "Crashed":
      return { c: encodeWorkerError(o.error), i: o.item ?? null }
    case "Failed":
      return { e: encodeWorkerError(o.error) }
  }
}

const itemFromJson = (j: ItemJson, bytes: ReadonlyArray<Uint8Array>): ItemOutcome => {
  if ("s" in j) return { _tag: "Success", value: withBytes(j.s, bytes) }
  if ("f" in j) return { _tag: "Failure", error: withBytes(j.f, bytes) }
  if ("d" in j) return { _tag: "Defect", defect: fromJsonSafe(withBytes(j.d, bytes)) as WireDefect }
  if ("p" in j) return { _tag: "Problem", problem: j.p }
  if ("w" in j) return { _tag: "WorkerError", error: decodeWorkerError(j.w) }
  return { _tag: "Interrupted" }
}

/**
 * Decodes a reply's outcome, with the bytes that came beside it (`b`). Values stay JSON-safe (their bytes put
 * back in): the executor's codec (`jsonSafeCodec`) restores them as the front decodes each one.
 */
export const outcomeFromJson = (j: OutcomeJson, bytes: ReadonlyArray<Uint8Array>): ChunkOutcome => {
  if ("v" in j) {
    return {
      _tag: "Values",
      values: bytes.length === 0 ? j.v : j.v.map((v) => withBytes(v, bytes)),
      stop: j.s === null ? undefined : itemFromJson(j.s, bytes)
    }
  }
  if ("x" in j) return { _tag: "Exits", exits: j.x.map((item) => itemFromJson(item, bytes)) }
  if ("c" in j) return { _tag: "Crashed", error: decodeWorkerError(j.c), item: j.i ?? undefined }
  return { _tag: "Failed", error: decodeWorkerError(j.e) }
}

/** A reply that is not one (another version of the protocol): a CodecFailed naming what came. */
export const malformedReply = (taskName: string, reply: unknown): WorkerError =>
  new WorkerError({
    reason: new CodecFailed({
      taskName,
      side: "parent",
      direction: "success",
      path: "",
      message: `the cluster runner's reply is not one this client understands (does it run the same version of effect-parallel?): ${
        JSON.stringify(reply)?.slice(0, 200)
      }`
    })
  })

/** Whether a value is a reply of this protocol. */
export const isReply = (u: unknown): u is ReplyMessage => {
  if (typeof u !== "object" || u === null || !Array.isArray((u as ReplyMessage).b)) return false
  const r = (u as ReplyMessage).r
  return typeof r === "object" && r !== null && typeof r.by === "string" && typeof r.o === "object" && r.o !== null
}
