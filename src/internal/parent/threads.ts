/**
 * The worker-thread backend: `node:worker_threads`, one isolate per worker, structured clone and transfer
 * lists, `terminate()` to stop even a synchronous loop.
 *
 * @internal
 */
import { type Transferable as NodeTransferable, Worker } from "node:worker_threads"
import type { Backend } from "./backend.ts"
import { entryUrl } from "./backend.ts"

export const threads: Backend = {
  name: "threads",
  spawn: (boot, options, events) => {
    const worker = new Worker(entryUrl, {
      workerData: boot,
      ...(options.resourceLimits === undefined ? {} : { resourceLimits: { ...options.resourceLimits } }),
      ...(options.execArgv === undefined ? {} : { execArgv: [...options.execArgv] }),
      ...(options.env === undefined ? {} : { env: { ...options.env } })
    })
    let error: string | undefined
    worker.on("message", events.onMessage)
    worker.on("error", (e: Error & { code?: string }) => {
      error = e.code === "ERR_WORKER_OUT_OF_MEMORY"
        ? `out of memory: ${e.message}`
        : `${e.name}: ${e.message}`
    })
    worker.once("exit", (code) => events.onExit({ code, signal: null, error }))
    return {
      send: (message, transfer) => worker.postMessage(message, transfer as ReadonlyArray<NodeTransferable> | undefined),
      kill: () => void worker.terminate()
    }
  }
}
