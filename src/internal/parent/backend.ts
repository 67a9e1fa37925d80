/**
 * The seam between the pool's dispatch (mechanism shared by every backend) and a kind of worker.
 * A backend only starts a worker, moves messages and stops it; everything else lives in `core.ts`.
 *
 * @internal
 */
import type { FromWorker, ToWorker, WorkerBoot } from "../protocol.ts"
import type { ResolvedOptions } from "../options.ts"
import type { Transferable } from "node:worker_threads"

export interface WorkerExit {
  readonly code: number | null
  readonly signal: string | null
  /** What the worker said on its way out (an uncaught error, an out-of-memory report), if anything. */
  readonly error: string | undefined
  /** The job and item the worker last started, when the backend can tell (threads). */
  readonly cursor?: { readonly job: number; readonly item: number } | undefined
}

export interface WorkerEvents {
  readonly onMessage: (message: FromWorker) => void
  /** Called exactly once, when the worker is really gone. */
  readonly onExit: (exit: WorkerExit) => void
  /**
   * The channel from the worker closed while the worker still lives (processes): nothing it does can be
   * reported any more, so it takes no more jobs, and it is killed if it does not exit within
   * `interruptGrace`.
   */
  readonly onDisconnect?: (() => void) | undefined
  /**
   * A message from the worker could not be read here (threads: the parent could not deserialize what the
   * worker serialized, e.g. a value nested deeper than the parent's stack allows). It was a reply for the
   * job the worker was running.
   */
  readonly onUnreadable?: ((message: string) => void) | undefined
}

/**
 * Thrown by `WorkerHandle.send` when the worker's channel is already closed (a dying worker): the message
 * was not delivered, unlike a value that cannot be cloned.
 */
export class ChannelClosed extends Error {
  constructor() {
    super("the worker's channel is closed")
    this.name = "ChannelClosed"
  }
}

/** What a worker thread publishes on shared memory, read by the parent without a message (deadlock detection). */
export interface WorkerProbe {
  /** The job and item it last started. */
  readonly job: number
  readonly item: number
  /** How many of its fibers wait on a shared-memory object now, and the id of the object last waited on. */
  readonly waiting: number
  readonly object: number
  /** Changes whenever one of its waits starts or ends. */
  readonly seq: number
}

export interface WorkerHandle {
  /** Posts a message; throws `ChannelClosed` when the channel is closed, anything else when a value cannot be cloned. */
  readonly send: (message: ToWorker, transfer?: ReadonlyArray<Transferable>) => void
  /** Stops the worker now, whatever it is doing (a synchronous loop included). */
  readonly kill: () => void
  /** The worker's process id (processes), for `Process` handles. */
  readonly pid?: number | undefined
  /** The worker's thread id (threads), for `Process` handles. */
  readonly threadId?: number | undefined
  /** Reads what the worker publishes on shared memory (threads); processes' waits are calls the parent sees. */
  readonly probe?: (() => WorkerProbe) | undefined
}

export interface Backend {
  readonly name: "threads" | "processes" | "in-process"
  /** Starts a worker; throws if it cannot even be created. */
  readonly spawn: (boot: WorkerBoot, options: ResolvedOptions, events: WorkerEvents) => WorkerHandle
}

/** URL of the generic worker entry, as source (.ts, type stripping) or as built JS. */
export const entryUrl: URL = new URL(
  import.meta.url.endsWith(".ts") ? "../worker/entry.ts" : "../worker/entry.js",
  import.meta.url
)
