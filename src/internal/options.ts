/**
 * Pool options: the public shape, defaults, and validation at the boundary with messages that name the
 * option and the value (`size must be a positive integer or "cores", got -1`).
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import { isTask, type Task } from "../Task.ts"
import { InvalidOption } from "../WorkerError.ts"
import { cores } from "./cores.ts"

/**
 * Options shared by every backend.
 *
 * @category models
 * @since 0.1.0
 */
export interface PoolOptions {
  /** Number of workers: a positive integer or `"cores"` (usable cores, cgroup quota honoured). Default `"cores"`. */
  readonly size?: number | "cores" | undefined
  /** Retire a worker after it ran this many tasks (Python's `maxtasksperchild`; counts items, not chunks). */
  readonly maxTasksPerWorker?: number | undefined
  /** Tasks allowed to wait for a worker; further submitters wait for room (backpressure). Default unbounded. */
  readonly maxQueued?: number | undefined
  /** How long an interrupted task may take to stop before its worker is killed and replaced. Default 1 second. */
  readonly interruptGrace?: Duration.Input | undefined
  /** V8 heap limits per worker (threads: `resourceLimits`; processes: `--max-old-space-size`). */
  readonly resourceLimits?: ResourceLimits | undefined
  /** A task run once in every new worker before it takes work; if it fails, the pool fails. */
  readonly initializer?: Task.Any | { readonly task: Task.Any; readonly payload: unknown } | undefined
  /** Stop workers idle for this long; they are started again on demand. Default: never. */
  readonly idleTimeout?: Duration.Input | undefined
  /** Node flags for each worker. */
  readonly execArgv?: ReadonlyArray<string> | undefined
  /** Environment of each worker (default: the parent's). */
  readonly env?: Readonly<Record<string, string>> | undefined
  /** Task module URLs every worker imports at start, before the first task needs them. */
  readonly preload?: ReadonlyArray<string> | undefined
  /** Allow creating this pool inside a worker (a deliberate nested pool). Default false: see the main guard. */
  readonly allowInWorker?: boolean | undefined
  /** Most jobs inside one worker (one running, the rest queued ahead). Default 64, used only while tasks are
   * measured to be shorter than about a millisecond; 1 disables sending ahead. */
  readonly prefetch?: number | undefined
}

/**
 * @category models
 * @since 0.1.0
 */
export interface ResourceLimits {
  readonly maxOldGenerationSizeMb?: number | undefined
  readonly maxYoungGenerationSizeMb?: number | undefined
  readonly codeRangeSizeMb?: number | undefined
  /**
   * The worker's stack (threads: `resourceLimits.stackSizeMb`, default 4; processes: `--stack-size`).
   *
   * **Gotchas**: on processes it is capped to the parent's own stack (V8's default, about 1 MB, or the
   * parent's `--stack-size`). A worker with a deeper stack could serialize a value (an array nested some
   * thousands deep) that the parent cannot deserialize, and Node's IPC reader would then throw outside any
   * handler and end the parent; with the cap such a result fails its task with `CodecFailed` (worker,
   * success). Threads need no cap: a message the parent cannot read fails its task with `CodecFailed`
   * (parent, success).
   */
  readonly stackSizeMb?: number | undefined
}

export interface ResolvedOptions {
  readonly size: number
  readonly maxTasksPerWorker: number
  readonly maxQueued: number
  readonly interruptGraceMillis: number
  readonly resourceLimits: ResourceLimits | undefined
  readonly initializer: { readonly task: Task.Any; readonly payload: unknown } | undefined
  readonly idleTimeoutMillis: number
  readonly execArgv: ReadonlyArray<string> | undefined
  readonly env: Readonly<Record<string, string>> | undefined
  readonly preload: ReadonlyArray<string>
  readonly prefetch: number
}

const show = (u: unknown): string => {
  if (typeof u === "string") return JSON.stringify(u)
  if (typeof u === "number" || typeof u === "boolean" || u === null || u === undefined) return String(u)
  try {
    return JSON.stringify(u) ?? String(u)
  } catch {
    return String(u)
  }
}

const isPositiveInt = (u: unknown): u is number => typeof u === "number" && Number.isInteger(u) && u > 0

const positiveIntOrInfinity = (option: string, u: unknown): number => {
  if (u === undefined) return Infinity
  if (u === Infinity || isPositiveInt(u)) return u
  throw new InvalidOption({ option, message: `${option} must be a positive integer, got ${show(u)}` })
}

const millis = (option: string, u: unknown, fallback: number): number => {
  if (u === undefined) return fallback
  const d = Duration.fromInput(u as Duration.Input)
  if (d._tag === "None") {
    throw new InvalidOption({ option, message: `${option} must be a duration (e.g. "500 millis" or 500), got ${show(u)}` })
  }
  const ms = Duration.toMillis(d.value)
  if (!(ms >= 0)) throw new InvalidOption({ option, message: `${option} must not be negative, got ${show(u)}` })
  return ms
}

/** Validates options; throws an `InvalidOption` naming the first bad option. */
export const resolveOptions = (options: PoolOptions | undefined): ResolvedOptions => {
  const o = options ?? {}
  if (typeof o !== "object" || o === null) {
    throw new InvalidOption({ option: "options", message: `options must be an object, got ${show(o)}` })
  }
  const size = o.size === undefined || o.size === "cores" ? cores() : o.size
  if (!isPositiveInt(size)) {
    throw new InvalidOption({ option: "size", message: `size must be a positive integer or "cores", got ${show(o.size)}` })
  }
  let initializer: ResolvedOptions["initializer"]
  if (o.initializer !== undefined) {
    if (isTask(o.initializer)) initializer = { task: o.initializer, payload: undefined }
    else if (typeof o.initializer === "object" && o.initializer !== null && isTask(o.initializer.task)) {
      initializer = o.initializer
    } else {
      throw new InvalidOption({
        option: "initializer",
        message: `initializer must be a Task or { task, payload }, got ${show(o.initializer)}`
      })
    }
  }
  if (o.execArgv !== undefined && (!Array.isArray(o.execArgv) || !o.execArgv.every((a) => typeof a === "string"))) {
    throw new InvalidOption({ option: "execArgv", message: `execArgv must be an array of strings, got ${show(o.execArgv)}` })
  }
  if (
    o.env !== undefined &&
    (typeof o.env !== "object" || o.env === null || !Object.values(o.env).every((v) => typeof v === "string"))
  ) {
    throw new InvalidOption({ option: "env", message: `env must be a record of strings, got ${show(o.env)}` })
  }
  if (o.resourceLimits !== undefined) {
    if (typeof o.resourceLimits !== "object" || o.resourceLimits === null) {
      throw new InvalidOption({
        option: "resourceLimits",
        message: `resourceLimits must be an object, got ${show(o.resourceLimits)}`
      })
    }
    for (const [k, v] of Object.entries(o.resourceLimits)) {
      if (v !== undefined && !(typeof v === "number" && v > 0)) {
        throw new InvalidOption({
          option: `resourceLimits.${k}`,
          message: `resourceLimits.${k} must be a positive number of megabytes, got ${show(v)}`
        })
      }
    }
  }
  if (o.preload !== undefined && (!Array.isArray(o.preload) || !o.preload.every((u) => typeof u === "string"))) {
    throw new InvalidOption({ option: "preload", message: `preload must be an array of module URLs, got ${show(o.preload)}` })
  }
  const prefetch = o.prefetch === undefined ? 64 : o.prefetch
  if (!isPositiveInt(prefetch)) {
    throw new InvalidOption({ option: "prefetch", message: `prefetch must be a positive integer, got ${show(o.prefetch)}` })
  }
  const idleTimeoutMillis = millis("idleTimeout", o.idleTimeout, Infinity)
  return {
    size,
    maxTasksPerWorker: positiveIntOrInfinity("maxTasksPerWorker", o.maxTasksPerWorker),
    maxQueued: positiveIntOrInfinity("maxQueued", o.maxQueued),
    interruptGraceMillis: millis("interruptGrace", o.interruptGrace, 1000),
    resourceLimits: o.resourceLimits,
    initializer,
    idleTimeoutMillis,
    execArgv: o.execArgv,
    env: o.env,
    preload: [...new Set([...(o.preload ?? []), ...(initializer ? [initializer.task.module] : [])])],
    prefetch
  }
}
