/**
 * The generic worker entry: one file for every pool and every task. It only composes: it picks the
 * transport (a worker thread's `parentPort`, or a forked process's IPC channel), starts the worker runtime
 * and says Ready. Task modules are imported on demand by URL.
 *
 * Node's compile cache is turned on before anything heavy is imported: it cuts the cost of loading
 * `effect` in every new worker by about a third.
 *
 * @internal
 */
import * as nodeModule from "node:module"
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from "node:worker_threads"

try {
  nodeModule.enableCompileCache?.()
} catch {
  // the cache is an optimisation only
}

;(globalThis as Record<symbol, unknown>)[Symbol.for("effect-parallel/worker")] = true

const { makeWorkerRuntime } = await import("./runtime.ts")
const { makeWorkerWire } = await import("../wire.ts")
const wire = makeWorkerWire()
type Boot = import("../protocol.ts").WorkerBoot

if (parentPort !== null) {
  // worker_threads: the pool's own MessageChannel; every pending message is drained on each wake-up
  const boot = workerData as Boot & { readonly port: MessagePort }
  const port = boot.port
  const runtime = makeWorkerRuntime({
    send: (message) => port.postMessage(wire.encode(message)),
    cursor: boot.cursor,
    owner: boot.owner
  })
  const deliver = (raw: unknown): void => {
    const message = wire.decode(raw)
    runtime.handle(message)
    if (message._tag === "Close") port.close()
  }
  port.on("message", (raw: unknown) => {
    deliver(raw)
    let next = receiveMessageOnPort(port)
    while (next !== undefined) {
      deliver(next.message)
      next = receiveMessageOnPort(port)
    }
  })
  await runtime.preload(boot.preload).catch(() => undefined)
  port.postMessage(wire.encode({ _tag: "Ready" }))
} else if (typeof process.send === "function") {
  // child_process.fork with serialization: "advanced"
  const send = process.send.bind(process)
  const boot = JSON.parse(process.env["EFFECT_PARALLEL_BOOT"] ?? "{}") as Boot
  delete process.env["EFFECT_PARALLEL_BOOT"]
  const runtime = makeWorkerRuntime({
    send: (message) => void send(wire.encode(message) as never),
    owner: boot.owner,
    sharedMemory: false
  })
  process.on("message", (raw: unknown) => {
    const message = wire.decode(raw)
    if (message._tag === "Close") {
      runtime.handle(message)
      process.disconnect()
      return
    }
    runtime.handle(message)
  })
  // No orphans (R3): when the parent goes away, even by SIGKILL, the IPC channel closes and we exit.
  process.on("disconnect", () => process.exit(0))
  // An exception outside any handler ends the worker, as it would a thread; say why before going.
  process.on("uncaughtException", (e) => {
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
    process.stderr.write(`${e instanceof Error ? e.stack : message}\n`)
    try {
      send(wire.encode({ _tag: "Fatal", message }) as never, undefined, undefined, () => process.exit(1))
    } catch {
      process.exit(1)
    }
  })
  await runtime.preload(boot.preload).catch(() => undefined)
  send(wire.encode({ _tag: "Ready" }) as never)
} else {
  process.stderr.write("effect-parallel: the worker entry must be started by a pool, not run directly\n")
  process.exitCode = 2
}
