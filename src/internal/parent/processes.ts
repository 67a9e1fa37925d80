/**
 * The process backend: `child_process.fork` of the same generic entry, IPC with
 * `serialization: "advanced"` (structured clone: typed arrays, Map, Set, Date, BigInt and Error survive).
 *
 * The children inherit the parent's stdout and stderr: their output appears as it is written and never
 * mixes with the protocol, which has its own IPC channel. A child exits on its own when that channel
 * closes, so no worker outlives its parent, even one killed by SIGKILL (R3).
 *
 * @internal
 */
import { fork } from "node:child_process"
import { fileURLToPath } from "node:url"
import { makeParentWire } from "../wire.ts"
import type { Backend } from "./backend.ts"
import { entryUrl } from "./backend.ts"

export const processes: Backend = {
  name: "processes",
  spawn: (boot, options, events) => {
    const execArgv = [...(options.execArgv ?? process.execArgv)]
    const heap = options.resourceLimits?.maxOldGenerationSizeMb
    if (heap !== undefined) execArgv.push(`--max-old-space-size=${heap}`)
    const young = options.resourceLimits?.maxYoungGenerationSizeMb
    if (young !== undefined) execArgv.push(`--max-semi-space-size=${Math.max(1, Math.round(young / 3))}`)
    const stack = options.resourceLimits?.stackSizeMb
    if (stack !== undefined) execArgv.push(`--stack-size=${Math.round(stack * 1024)}`)
    const child = fork(fileURLToPath(entryUrl), [], {
      serialization: "advanced",
      execArgv,
      env: { ...(options.env ?? process.env), EFFECT_PARALLEL_BOOT: JSON.stringify(boot) },
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    const wire = makeParentWire()
    let error: string | undefined
    let exited = false
    child.on("message", (raw: unknown) => events.onMessage(wire.decode(raw)))
    child.on("error", (e) => {
      error = `${e.name}: ${e.message}`
      // a child that could not be spawned emits "error" and may never emit "exit"
      if (child.pid === undefined && !exited) {
        exited = true
        events.onExit({ code: null, signal: null, error })
      }
    })
    child.once("exit", (code, signal) => {
      if (exited) return
      exited = true
      events.onExit({ code, signal, error })
    })
    return {
      send: (message) => {
        if (!child.connected) throw new Error("the worker process is not connected")
        child.send(wire.encode(message) as never)
      },
      kill: () => void child.kill("SIGKILL")
    }
  }
}
