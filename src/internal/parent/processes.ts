/**
 * The process backend: `child_process.fork` of the same generic entry, IPC with
 * `serialization: "advanced"` (structured clone: typed arrays, Map, Set, Date, BigInt and Error survive).
 *
 * The children inherit the parent's stdout and stderr: their output appears as it is written and never
 * mixes with the protocol, which has its own IPC channel. A child exits on its own when that channel
 * closes, so no worker outlives its parent, even one killed by SIGKILL (R3); a worker stuck in a
 * synchronous loop never sees that, so a watchdog thread in the worker entry checks its parent instead.
 *
 * A write error on the channel (EPIPE to a worker that just died) is not the worker's cause of death and
 * never replaces it: the exit's code or signal (or what the worker said in `Fatal`) describes the crash.
 *
 * @internal
 */
import { fork } from "node:child_process"
import { fileURLToPath } from "node:url"
import { makeParentWire } from "../wire.ts"
import type { Backend } from "./backend.ts"
import { ChannelClosed, entryUrl } from "./backend.ts"

/** V8's default stack size (KB), on 64-bit Linux, macOS and Windows alike. */
const DEFAULT_STACK_KB = 984

/** The parent's own stack size (KB): the last `--stack-size` among its flags, or V8's default. */
export const parentStackKb = (execArgv: ReadonlyArray<string> = process.execArgv): number => {
  let kb = DEFAULT_STACK_KB
  for (const flag of execArgv) {
    const m = /^--stack[-_]size=(\d+)$/.exec(flag)
    if (m !== null) kb = Number(m[1])
  }
  return kb
}

export const processes: Backend = {
  name: "processes",
  spawn: (boot, options, events) => {
    const execArgv = [...(options.execArgv ?? process.execArgv)]
    const heap = options.resourceLimits?.maxOldGenerationSizeMb
    if (heap !== undefined) execArgv.push(`--max-old-space-size=${heap}`)
    const young = options.resourceLimits?.maxYoungGenerationSizeMb
    if (young !== undefined) execArgv.push(`--max-semi-space-size=${Math.max(1, Math.round(young / 3))}`)
    const stack = options.resourceLimits?.stackSizeMb
    if (stack !== undefined) {
      // Never more than the parent's own stack: a worker with a deeper stack can serialize a value the
      // parent cannot deserialize, and Node's IPC reader then throws outside any handler and kills the
      // parent. With the cap, such a value fails to serialize in the worker: a CodecFailed for its task.
      execArgv.push(`--stack-size=${Math.min(Math.round(stack * 1024), parentStackKb())}`)
    }
    const child = fork(fileURLToPath(entryUrl), [], {
      serialization: "advanced",
      execArgv,
      env: { ...(options.env ?? process.env), EFFECT_PARALLEL_BOOT: JSON.stringify(boot) },
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    const wire = makeParentWire()
    let exited = false
    child.on("message", (raw: unknown) => events.onMessage(wire.decode(raw)))
    child.on("error", (e) => {
      // Only a child that could not be spawned reports its cause here (it may never emit "exit"). Other
      // errors are failed writes to a worker that is dying (EPIPE, channel closed): its exit tells why.
      if (child.pid === undefined && !exited) {
        exited = true
        events.onExit({ code: null, signal: null, error: `${e.name}: ${e.message}` })
      }
    })
    child.once("disconnect", () => {
      if (!exited) events.onDisconnect?.()
    })
    child.once("exit", (code, signal) => {
      if (exited) return
      exited = true
      events.onExit({ code, signal, error: undefined })
    })
    return {
      send: (message) => {
        if (!child.connected) throw new ChannelClosed()
        try {
          child.send(wire.encode(message) as never)
        } catch (e) {
          wire.unsent()
          throw e
        }
      },
      kill: () => void child.kill("SIGKILL"),
      pid: child.pid
    }
  }
}
