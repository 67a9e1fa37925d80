/**
 * The in-process backend: the worker runtime runs inside the parent, behind the same message protocol.
 *
 * A composition module (like the worker entry): it joins the parent-side backend seam to the worker-side
 * runtime. Messages are structured-cloned both ways, so values, codecs and errors behave exactly as they
 * do across a thread; only isolation is missing: a synchronous loop cannot be stopped, and a crash
 * (`process.exit`) would end the parent. Use it for tests and as the serial baseline.
 *
 * Two differences a user can see, both documented on `WorkerPool.layerInProcess`: a transfer list copies
 * (nothing leaves this thread), and a task of the program's main module still evaluating is run as it was
 * made instead of being looked up by importing the module (that import would wait for the program: see
 * `taskLoader.ts`).
 *
 * @internal
 */
import type { Backend } from "./parent/backend.ts"
import type { FromWorker, ToWorker } from "./protocol.ts"
import { makeParentWire, makeWorkerWire } from "./wire.ts"
import { makeWorkerRuntime } from "./worker/runtime.ts"

export const inProcess: Backend = {
  name: "in-process",
  spawn: (boot, _options, events) => {
    let alive = true
    // the same wire encoding and structured clone as a real worker: values behave exactly alike
    const parentWire = makeParentWire()
    const workerWire = makeWorkerWire()
    const runtime = makeWorkerRuntime({
      // the tasks were made in this isolate: run them as they are (importing their module could hang)
      local: true,
      send: (message: FromWorker) => {
        const copy = structuredClone(workerWire.encode(message))
        queueMicrotask(() => {
          if (alive) events.onMessage(parentWire.decode(copy))
        })
      }
    })
    runtime.preload(boot.preload).catch(() => undefined).then(() => {
      if (alive) events.onMessage({ _tag: "Ready" })
    })
    const kill = (): void => {
      if (!alive) return
      alive = false
      runtime.shutdown()
      setImmediate(() => events.onExit({ code: 0, signal: null, error: undefined }))
    }
    return {
      send: (message: ToWorker) => {
        if (message._tag === "Close") return kill()
        let copy: unknown
        try {
          copy = structuredClone(parentWire.encode(message))
        } catch (e) {
          parentWire.unsent()
          throw e
        }
        setImmediate(() => {
          if (alive) runtime.handle(workerWire.decode(copy))
        })
      },
      kill
    }
  }
}
