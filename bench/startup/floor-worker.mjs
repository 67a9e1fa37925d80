// The physical floor of a worker that runs Effect tasks: a fresh isolate that imports effect/Effect and
// effect/Schema (with Node's compile cache on, as effect-parallel's worker entry has it) and says so.
import * as nodeModule from "node:module"

nodeModule.enableCompileCache?.()
const { parentPort } = await import("node:worker_threads")
await import("effect/Effect")
await import("effect/Schema")
parentPort.on("message", (x) => parentPort.postMessage(x * 2))
parentPort.postMessage("ready")
