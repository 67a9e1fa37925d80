/**
 * The worker-thread backend: `node:worker_threads`, one isolate per worker, structured clone and transfer
 * lists, `terminate()` to stop even a synchronous loop.
 *
 * Messages go over a dedicated `MessageChannel` rather than the Worker object: on each wake-up the
 * receiver drains every pending message with `receiveMessageOnPort` instead of paying an event dispatch
 * per message (the trick piscina uses), which matters when thousands of replies arrive at once.
 *
 * @internal
 */
import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  type Transferable,
  Worker
} from "node:worker_threads"
import { PROBE_CELLS, PROBE_OBJECT, PROBE_SEQ, PROBE_WAITING } from "../shared/registry.ts"
import { makeParentWire } from "../wire.ts"
import type { Backend } from "./backend.ts"
import { entryUrl } from "./backend.ts"

/** Delivers a message and every one already waiting behind it. */
export const drain = <A>(port: MessagePort, first: A, deliver: (message: A) => void): void => {
  deliver(first)
  let next = receiveMessageOnPort(port)
  while (next !== undefined) {
    deliver(next.message as A)
    next = receiveMessageOnPort(port)
  }
}

/**
 * Like `drain`, for the parent's end: a message that cannot be deserialized here (`receiveMessageOnPort`
 * throws; the event path emits "messageerror" instead) is reported, and the messages behind it still come.
 */
const drainReadable = (port: MessagePort, deliver: (raw: unknown) => void, unreadable: (e: unknown) => void): void => {
  while (true) {
    let next: { message: unknown } | undefined
    try {
      next = receiveMessageOnPort(port)
    } catch (e) {
      unreadable(e)
      continue
    }
    if (next === undefined) return
    deliver(next.message)
  }
}

export const threads: Backend = {
  name: "threads",
  spawn: (boot, options, events) => {
    const wire = makeParentWire()
    const { port1, port2 } = new MessageChannel()
    // [job, item] the worker last started, then its waits on shared memory (registry.ts: PROBE_*)
    const cursor = new Int32Array(new SharedArrayBuffer(PROBE_CELLS * 4))
    const worker = new Worker(entryUrl, {
      workerData: { ...boot, port: port2, cursor },
      transferList: [port2],
      ...(options.resourceLimits === undefined ? {} : { resourceLimits: { ...options.resourceLimits } }),
      ...(options.execArgv === undefined ? {} : { execArgv: [...options.execArgv] }),
      ...(options.env === undefined ? {} : { env: { ...options.env } })
    })
    let error: string | undefined
    const deliver = (raw: unknown) => events.onMessage(wire.decode(raw))
    // The worker's stack (4 MB by default) is larger than the main thread's: it can serialize a value the
    // parent cannot deserialize. Unhandled, that message would vanish and its task wait forever.
    const unreadable = (e: unknown) =>
      events.onUnreadable?.(`the value cannot be deserialized in the parent: ${e instanceof Error ? e.message : String(e)}`)
    // the drain runs in a microtask: a reply resumes its caller's fiber, whose continuation (queued first)
    // then runs before the drain's native call, not after it
    const drainLater = () => drainReadable(port1, deliver, unreadable)
    port1.on("message", (raw: unknown) => {
      deliver(raw)
      queueMicrotask(drainLater)
    })
    port1.on("messageerror", (e) => {
      unreadable(e)
      drainReadable(port1, deliver, unreadable)
    })
    worker.on("error", (e: Error & { code?: string }) => {
      error = e.code === "ERR_WORKER_OUT_OF_MEMORY"
        ? `out of memory: ${e.message}`
        : `${e.name}: ${e.message}`
    })
    worker.once("exit", (code) => {
      // replies the worker posted before it died come first: a crash must not lose a finished task
      drainReadable(port1, deliver, unreadable)
      port1.close()
      events.onExit({ code, signal: null, error, cursor: { job: cursor[0]!, item: cursor[1]! } })
    })
    return {
      send: (message, transfer) => {
        try {
          // numbers packed by the wire move with the message (their buffers are made for it)
          const moved: Array<Transferable> = transfer === undefined ? [] : [...transfer]
          port1.postMessage(wire.encode(message, moved), moved)
        } catch (e) {
          wire.unsent()
          throw e
        }
      },
      kill: () => void worker.terminate(),
      threadId: worker.threadId,
      probe: () => ({
        job: Atomics.load(cursor, 0),
        item: Atomics.load(cursor, 1),
        waiting: Atomics.load(cursor, PROBE_WAITING),
        object: Atomics.load(cursor, PROBE_OBJECT),
        seq: Atomics.load(cursor, PROBE_SEQ)
      })
    }
  }
}
