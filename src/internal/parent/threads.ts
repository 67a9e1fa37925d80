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
  type Transferable as NodeTransferable,
  Worker
} from "node:worker_threads"
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

export const threads: Backend = {
  name: "threads",
  spawn: (boot, options, events) => {
    const wire = makeParentWire()
    const { port1, port2 } = new MessageChannel()
    const cursor = new Int32Array(new SharedArrayBuffer(8))
    const worker = new Worker(entryUrl, {
      workerData: { ...boot, port: port2, cursor },
      transferList: [port2],
      ...(options.resourceLimits === undefined ? {} : { resourceLimits: { ...options.resourceLimits } }),
      ...(options.execArgv === undefined ? {} : { execArgv: [...options.execArgv] }),
      ...(options.env === undefined ? {} : { env: { ...options.env } })
    })
    let error: string | undefined
    const deliver = (raw: unknown) => events.onMessage(wire.decode(raw))
    port1.on("message", (raw: unknown) => drain(port1, raw, deliver))
    worker.on("error", (e: Error & { code?: string }) => {
      error = e.code === "ERR_WORKER_OUT_OF_MEMORY"
        ? `out of memory: ${e.message}`
        : `${e.name}: ${e.message}`
    })
    worker.once("exit", (code) => {
      // replies the worker posted before it died come first: a crash must not lose a finished task
      let next = receiveMessageOnPort(port1)
      while (next !== undefined) {
        deliver(next.message)
        next = receiveMessageOnPort(port1)
      }
      port1.close()
      events.onExit({ code, signal: null, error, cursor: { job: cursor[0]!, item: cursor[1]! } })
    })
    return {
      send: (message, transfer) =>
        port1.postMessage(wire.encode(message), transfer as ReadonlyArray<NodeTransferable> | undefined),
      kill: () => void worker.terminate()
    }
  }
}
