/**
 * The compact encoding of protocol messages, applied at the transport boundary only.
 *
 * The engine and the worker runtime speak the readable object messages of `protocol.ts`; on the wire a
 * message is a flat array and a task is a small number once its worker knows it. Structured clone pays per
 * property and per string: a job as an object with eleven fields and a 60-character module URL costs about
 * three times as much to clone as the same job as a flat array (measured: 2.2 µs vs 0.8 µs per message),
 * and with 100,000 tiny tasks the clone was the parent's largest cost after garbage collection.
 *
 * Arrays of numbers (a `map` chunk's payloads, its values) travel as one `Float64Array`, moved rather than
 * copied where the transport can (threads): structured clone pays 25–130 ns per element of a plain array
 * (more for doubles, which are heap objects) and a few nanoseconds per element of a typed array. A
 * `Float64Array` keeps every number exactly (NaN, -0, the infinities); the receiver reads it by index.
 *
 * A contract: both sides import it; it imports only `protocol.ts`.
 *
 * @internal
 */
import type { FromWorker, ToWorker, WireJob, WireOutcome, WireReply, WireTrace } from "./protocol.ts"
import type { Transferable } from "node:worker_threads"

/** Arrays shorter than this travel as they are (packing pays off from a few elements up). */
export const PACK_MIN = 8

/**
 * An array of numbers as a `Float64Array` (its buffer added to `moved`, when given), or the array itself
 * when it is short or holds anything else. A `Float64Array` given (a batch's chunk of numbers, cut packed by
 * `batch.ts`) travels as it is and is copied, not moved: the parent keeps it to run the chunk's items again
 * after a crash.
 */
export const packNumbers = (values: ArrayLike<unknown>, moved: Array<Transferable> | undefined): ArrayLike<unknown> => {
  const n = values.length
  if (n < PACK_MIN || !Array.isArray(values)) return values
  for (let i = 0; i < n; i++) if (typeof values[i] !== "number") return values
  // `set` copies an array of numbers natively (~1 ns an element); the constructor took ~3–10 (measured)
  const packed = new Float64Array(n)
  packed.set(values as Array<number>)
  moved?.push(packed.buffer)
  return packed
}

/**
 * A chunk's values the worker wrote into a Float64Array of its own (numbers, `runtime.ts`): its buffer moves
 * with the message. Only the worker's wire sends these; the worker keeps no reference to them.
 */
const moveNumbers = (values: Float64Array, moved: Array<Transferable> | undefined): Float64Array => {
  const buffer = values.buffer
  if (buffer instanceof ArrayBuffer) moved?.push(buffer)
  return values
}

const RUN = 0
const INTERRUPT = 1
const CLOSE = 2
const RETURN = 3
const WARM = 4

const READY = 0
const STARTED = 1
const DONE = 2
const PROGRESS = 3
const FATAL = 4
const CALL = 5
const CALL_CANCEL = 6
const EXITING = 7

const CHUNK = 1
const NOTIFY_START = 2
const COLLECT = 4

const JOB_FIELDS = 8
const REPLY_FIELDS = 6

const SUCCESS = 0
const FAILURE = 1
const DEFECT = 2
const INTERRUPTED = 3
const PROBLEM = 4
const NONE = -1

/** Parent side of one connection: remembers which tasks the worker already knows. */
export interface ParentWire {
  /** Encodes a message; buffers it packed that may be moved rather than copied are added to `moved`. */
  readonly encode: (message: ToWorker, moved?: Array<Transferable>) => unknown
  readonly decode: (wire: unknown) => FromWorker
  /**
   * The message last encoded was never delivered (sending it threw): forget the task names it defined,
   * or the next message would refer to names the worker never learnt.
   */
  readonly unsent: () => void
}

/** Worker side of one connection: the table of tasks the parent defined. */
export interface WorkerWire {
  readonly decode: (wire: unknown) => ToWorker
  /** Encodes a message; buffers it packed that may be moved rather than copied are added to `moved`. */
  readonly encode: (message: FromWorker, moved?: Array<Transferable>) => unknown
}

export const makeParentWire = (): ParentWire => {
  const known = new Map<string, number>()
  /** Names defined by the message last encoded (new names are rare: no allocation otherwise). */
  let defined: Array<string> | undefined
  return {
    unsent: () => {
      if (defined !== undefined) for (const name of defined) known.delete(name)
      defined = undefined
    },
    encode: (message, moved) => {
      defined = undefined
      switch (message._tag) {
        case "Interrupt":
          return [INTERRUPT, message.id]
        case "Close":
          return [CLOSE]
        case "Warm":
          return [WARM, message.modules]
        case "Return":
          return [RETURN, message.id, message.ok, message.value]
        case "Run": {
          let defs: Array<unknown> | 0 = 0
          const out: Array<unknown> = [RUN, 0]
          for (const job of message.jobs) {
            const name = `${job.name}\u0000${job.module}`
            let key = known.get(name)
            if (key === undefined) {
              key = known.size
              known.set(name, key)
              ;(defined ??= []).push(name)
              if (defs === 0) defs = []
              defs.push(key, job.module, job.name)
            }
            out.push(
              job.id,
              key,
              job.index,
              job.attempt,
              job.seed,
              (job.chunk ? CHUNK : 0) | (job.notifyStart ? NOTIFY_START : 0) | (job.collect ? COLLECT : 0),
              packNumbers(job.payloads, moved),
              job.trace === undefined ? 0 : [job.trace.traceId, job.trace.spanId, job.trace.sampled]
            )
          }
          out[1] = defs
          return out
        }
      }
    },
    decode: (wire) => {
      const w = wire as ReadonlyArray<any>
      switch (w[0]) {
        case READY:
          return { _tag: "Ready" }
        case STARTED:
          return { _tag: "Started", id: w[1] }
        case PROGRESS:
          return { _tag: "Progress", id: w[1], index: w[2], fraction: w[3] }
        case FATAL:
          return { _tag: "Fatal", message: w[1] }
        case CALL:
          return { _tag: "Call", id: w[1], object: w[2], request: w[3] }
        case CALL_CANCEL:
          return { _tag: "CallCancel", id: w[1] }
        case EXITING:
          return { _tag: "Exiting", code: w[1] }
        default: {
          const replies: Array<WireReply> = []
          for (let i = 1; i < w.length; i += REPLY_FIELDS) {
            const outcomes = w[i + 5] as ReadonlyArray<unknown> | 0
            replies.push({
              id: w[i],
              elapsed: w[i + 1],
              outcome: decodeOutcome(w[i + 2], w[i + 3]),
              values: w[i + 4] === 0 ? undefined : w[i + 4],
              outcomes: outcomes === 0 ? undefined : decodeOutcomes(outcomes)
            })
          }
          return { _tag: "Done", replies }
        }
      }
    }
  }
}

export const makeWorkerWire = (): WorkerWire => {
  const tasks = new Map<number, readonly [module: string, name: string]>()
  return {
    decode: (wire) => {
      const w = wire as ReadonlyArray<any>
      switch (w[0]) {
        case INTERRUPT:
          return { _tag: "Interrupt", id: w[1] }
        case CLOSE:
          return { _tag: "Close" }
        case WARM:
          return { _tag: "Warm", modules: w[1] }
        case RETURN:
          return { _tag: "Return", id: w[1], ok: w[2], value: w[3] }
        default: {
          const defs = w[1] as ReadonlyArray<any> | 0
          if (defs !== 0) for (let i = 0; i < defs.length; i += 3) tasks.set(defs[i], [defs[i + 1], defs[i + 2]])
          const jobs: Array<WireJob> = []
          for (let i = 2; i < w.length; i += JOB_FIELDS) {
            const [module, name] = tasks.get(w[i + 1])!
            const flags = w[i + 5] as number
            const trace = w[i + 7] as readonly [string, string, boolean] | 0
            jobs.push({
              id: w[i],
              module,
              name,
              index: w[i + 2],
              attempt: w[i + 3],
              seed: w[i + 4],
              chunk: (flags & CHUNK) !== 0,
              notifyStart: (flags & NOTIFY_START) !== 0,
              collect: (flags & COLLECT) !== 0,
              payloads: w[i + 6],
              ...(trace === 0 ? {} : { trace: { traceId: trace[0], spanId: trace[1], sampled: trace[2] } satisfies WireTrace })
            })
          }
          return { _tag: "Run", jobs }
        }
      }
    },
    encode: (message, moved) => {
      switch (message._tag) {
        case "Ready":
          return [READY]
        case "Started":
          return [STARTED, message.id]
        case "Progress":
          return [PROGRESS, message.id, message.index, message.fraction]
        case "Fatal":
          return [FATAL, message.message]
        case "Call":
          return [CALL, message.id, message.object, message.request]
        case "CallCancel":
          return [CALL_CANCEL, message.id]
        case "Exiting":
          return [EXITING, message.code]
        case "Done": {
          const out: Array<unknown> = [DONE]
          for (const r of message.replies) {
            const [tag, data] = encodeOutcome(r.outcome)
            out.push(
              r.id,
              r.elapsed,
              tag,
              data,
              r.values === undefined ? 0 : r.values instanceof Float64Array ? moveNumbers(r.values, moved) : packNumbers(r.values, moved),
              r.outcomes === undefined ? 0 : r.outcomes.map(encodeOutcomePair)
            )
          }
          return out
        }
      }
    }
  }
}

const encodeOutcome = (o: WireOutcome | undefined): readonly [number, unknown] => {
  if (o === undefined) return [NONE, 0]
  switch (o._tag) {
    case "Success":
      return [SUCCESS, o.value]
    case "Failure":
      return [FAILURE, o.error]
    case "Defect":
      return [DEFECT, o.defect]
    case "Interrupted":
      return [INTERRUPTED, 0]
    case "Problem":
      return [PROBLEM, o.problem]
  }
}

const encodeOutcomePair = (o: WireOutcome): unknown => encodeOutcome(o)

const decodeOutcome = (tag: number, data: any): WireOutcome | undefined => {
  switch (tag) {
    case SUCCESS:
      return { _tag: "Success", value: data }
    case FAILURE:
      return { _tag: "Failure", error: data }
    case DEFECT:
      return { _tag: "Defect", defect: data }
    case INTERRUPTED:
      return { _tag: "Interrupted" }
    case PROBLEM:
      return { _tag: "Problem", problem: data }
    default:
      return undefined
  }
}

const decodeOutcomes = (pairs: ReadonlyArray<unknown>): Array<WireOutcome> =>
  pairs.map((p) => {
    const [tag, data] = p as readonly [number, unknown]
    return decodeOutcome(tag, data)!
  })
