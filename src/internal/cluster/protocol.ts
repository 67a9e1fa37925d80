/**
 * The cluster backend's protocol, shared by the client (`WorkerPool.layerCluster`) and the runners
 * (`ClusterRunner`): one generic entity, `effect-parallel/Task`, whose messages name a task by (module URL,
 * export name) and carry its payloads already encoded with the task's JSON codec.
 *
 * Why JSON codecs here when threads and processes use the schemas' own encoding: messages are stored in
 * Postgres and cross machines, so values must survive JSON (a `Date` becomes an ISO string, a
 * `Uint8Array` base64), and the task's schema, not structured clone, is what restores them.
 *
 * @internal
 */
import * as ClusterSchema from "effect/cluster/ClusterSchema"
import * as Entity from "effect/cluster/Entity"
import * as Exit from "effect/Exit"
import * as Cause from "effect/Cause"
import * as Rpc from "effect/rpc/Rpc"
import * as Schema from "effect/Schema"
import { CodecFailed, WorkerError } from "../../WorkerError.ts"
import { toCodecIssue, type CodecResult, type TaskCodec, type TaskSchemas } from "../codec.ts"
import { toWireDefect, type WireDefect } from "../protocol.ts"

/** What a runner is asked to run: one task (`single`) or a chunk of a batch (`values` or `exits`). */
export const RunFields = {
  /** Unique per logical run of the task (or chunk): the message's primary key in storage. */
  id: Schema.String,
  module: Schema.String,
  name: Schema.String,
  /** Payloads, each encoded with the task's JSON codec. */
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

/** Persisted: stored in Postgres before it is delivered, redelivered when its runner dies. */
export const Run = Rpc.make("Run", {
  payload: RunFields,
  primaryKey: (request) => request.id,
  success: Schema.Unknown
}).annotate(ClusterSchema.Persisted, true)

/** Volatile: sent straight to the runner that owns the shard; lost if that runner dies. */
export const RunVolatile = Rpc.make("RunVolatile", {
  payload: RunFields,
  success: Schema.Unknown
})

/** Readiness probe: answers with the runner's address. Volatile, so it needs shard assignments to arrive. */
export const Ping = Rpc.make("Ping", { success: Schema.String })

export const TaskEntity = Entity.make("effect-parallel/Task", [Run, RunVolatile, Ping])

/**
 * Entity ids that messages are spread over. Each id lands on a shard, each shard on one runner; 256 ids
 * split the work between runners in proportion to their shards (within a few percent).
 */
export const SLOTS = 256
export const slotId = (n: number): string => `slot-${n % SLOTS}`

// ---------------------------------------------------------------------------------------------------------
// JSON codecs per task, cached on the task object like the structured-clone codecs

/** The same contract as the structured-clone codecs, with JSON encodings. */
export type JsonCodec = TaskCodec

const codecs = new WeakMap<object, JsonCodec>()

const wrap = (f: (u: unknown) => unknown) => (u: unknown): CodecResult => {
  try {
    return { ok: true, value: f(u) }
  } catch (e) {
    return { ok: false, issue: toCodecIssue(e) }
  }
}

const pair = (schema: Schema.Codec<any, any> | undefined) => {
  if (schema === undefined) {
    const never = wrap(() => {
      throw new Error("the task declares no error schema")
    })
    return { encode: never, decode: never }
  }
  const json = Schema.toCodecJson(schema)
  return { encode: wrap(Schema.encodeUnknownSync(json)), decode: wrap(Schema.decodeUnknownSync(json)) }
}

export const jsonCodecOf = (task: TaskSchemas): JsonCodec => {
  let codec = codecs.get(task)
  if (codec === undefined) {
    const payload = pair(task.payload)
    const success = pair(task.success)
    const error = pair(task.error)
    codec = {
      encodePayload: payload.encode,
      decodePayload: payload.decode,
      encodeSuccess: success.encode,
      decodeSuccess: success.decode,
      encodeError: error.encode,
      decodeError: error.decode
    }
    codecs.set(task, codec)
  }
  return codec
}

const workerErrorJson = Schema.toCodecJson(WorkerError)
export const encodeWorkerError = Schema.encodeSync(workerErrorJson)
export const decodeWorkerError = Schema.decodeUnknownSync(workerErrorJson)

// ---------------------------------------------------------------------------------------------------------
// Replies

/** One item's exit, JSON-safe. */
export type ItemExit =
  | { readonly s: unknown } // success, encoded with the task's success codec
  | { readonly f: unknown } // declared failure, encoded with the task's error codec
  | { readonly w: unknown } // a WorkerError (crash in the runner's pool, timeout, codec failure ...)
  | { readonly d: WireDefect } // defect
  | { readonly i: true } // interrupted

/**
 * A runner's reply. A worker that crashes on the runner is handled there as on any local pool (the item
 * that was running fails with `WorkerCrashed`, the others run again), so a crash arrives as an item's exit.
 */
export type Reply =
  | { readonly exit: ItemExit }
  | { readonly values: ReadonlyArray<unknown>; readonly stop: ItemExit | null }
  | { readonly exits: ReadonlyArray<ItemExit> }
  | { readonly error: unknown } // the whole request failed (a WorkerError)

/** Encodes an exit of a task run by the runner's local pool. */
export const encodeExit = (codec: JsonCodec, taskName: string, exit: Exit.Exit<unknown, unknown>): ItemExit => {
  if (Exit.isSuccess(exit)) {
    const r = codec.encodeSuccess(exit.value)
    return r.ok ? { s: r.value } : { w: encodeWorkerError(codecFailed(taskName, "success", r)) }
  }
  const cause = exit.cause
  const fail = cause.reasons.find(Cause.isFailReason)
  if (fail !== undefined) {
    const error = fail.error
    if (error instanceof WorkerError) return { w: encodeWorkerError(error) }
    const r = codec.encodeError(error)
    return r.ok ? { f: r.value } : { w: encodeWorkerError(codecFailed(taskName, "error", r)) }
  }
  const die = cause.reasons.find(Cause.isDieReason)
  // JSON has no undefined (a defect without a stack or cause): storage would refuse the reply
  if (die !== undefined) return { d: JSON.parse(JSON.stringify(toWireDefect(die.defect))) as WireDefect }
  return { i: true }
}

const codecFailed = (taskName: string, direction: "success" | "error", r: CodecResult): WorkerError =>
  new WorkerError({
    reason: new CodecFailed({
      taskName,
      side: "worker",
      direction,
      path: r.ok ? "" : r.issue.path,
      message: `(on the cluster runner) ${r.ok ? "" : r.issue.message}`
    })
  })
