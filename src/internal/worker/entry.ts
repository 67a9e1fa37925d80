/**
 * The generic worker entry: one file for every pool and every task. It only composes: it picks the
 * transport (a worker thread's `parentPort`, or a forked process's IPC channel), starts the worker runtime
 * and says Ready. Task modules are imported on demand by URL.
 *
 * Node's compile cache is turned on before anything heavy is imported: it cuts the cost of loading
 * `effect` in every new worker by about a third.
 *
 * A worker process also guards against two ways of outliving its purpose: it tells the parent when it
 * starts to exit (`Exiting`; Node can hang inside `process.exit`, and the parent then kills it), and a
 * watchdog thread ends it when its parent is gone, even while its main thread is stuck in a synchronous
 * loop and can never see the IPC channel close (R3).
 *
 * @internal
 */
import * as nodeModule from "node:module"
import { type MessagePort, parentPort, receiveMessageOnPort, type Transferable, Worker, workerData } from "node:worker_threads"

try {
  nodeModule.enableCompileCache?.()
} catch {
  // the cache is an optimisation only
}

;(globalThis as Record<symbol, unknown>)[Symbol.for("effect-parallel/worker")] = true

// The worker's own exits (the parent is gone, an uncaught exception) use the real `process.exit`; see
// guardExit for why others may be ignored.
const exit = process.exit.bind(process) as (...code: [] | [number]) => never

// A worker process starts its watchdog first: its start-up then overlaps with loading `effect` (on another
// core) instead of adding to the pool's start-up, and a parent that dies during start-up is seen too.
if (parentPort === null && typeof process.send === "function") startWatchdog(process.ppid)

const { makeWorkerRuntime } = await import("./runtime.ts")
const { makeWorkerWire } = await import("../wire.ts")
const { poolRefusals } = await import("../protocol.ts")
const wire = makeWorkerWire()
type Boot = import("../protocol.ts").WorkerBoot

/**
 * A task module without the `import.meta.main` guard runs its program when this worker imports it; the
 * program's pool is refused here (a counter on `globalThis`), and the loader refuses that module's tasks
 * with the guard message. But the program may then end the worker: `NodeRuntime.runMain` exits with code 1
 * when its program fails. The worker would crash, be replaced, and the next task would start the program
 * again (a crash-and-respawn loop that hid the real message). So once a pool was refused in this worker, a
 * `process.exit(code)` from outside any task's handler is ignored, with a line on stderr; inside a handler
 * it ends the worker as always (a task may exit on purpose: the pool reports the crash), and so does
 * Node's own `process.exit()` after an uncaught exception.
 */
const guardExit = (runtime: { readonly inHandler: () => boolean }): void => {
  let told = false
  process.exit = ((...args: [] | [number]) => {
    const refused = ((globalThis as Record<symbol, unknown>)[poolRefusals] as number | undefined) ?? 0
    // Node's own handler of an uncaught exception in a worker thread sets `process.exitCode` to 1 and calls
    // `process.exit()` with no argument: always honoured, and passed on as it came (an explicit `undefined`
    // would reset the code to 0). A program's runtime exits with an explicit code.
    if (refused === 0 || args.length === 0 || runtime.inHandler()) return exit(...args)
    const code = args[0]
    if (!told) {
      told = true
      process.stderr.write(
        `effect-parallel: a program started in this worker (a task module without the import.meta.main guard) called ` +
          `process.exit(${code ?? ""}); the worker ignores it and keeps serving other modules' tasks\n`
      )
    }
    return undefined as never
  }) as typeof process.exit
}

if (parentPort !== null) {
  // worker_threads: the pool's own MessageChannel; every pending message is drained on each wake-up
  const boot = workerData as Boot & { readonly port: MessagePort }
  const port = boot.port
  const runtime = makeWorkerRuntime({
    send: (message) => {
      // numbers packed by the wire move with the message (their buffers are made for it)
      const moved: Array<Transferable> = []
      port.postMessage(wire.encode(message, moved), moved)
    },
    cursor: boot.cursor,
    owner: boot.owner,
    poll: () => drainPort()
  })
  guardExit(runtime)
  const deliver = (raw: unknown): void => {
    const message = wire.decode(raw)
    runtime.handle(message)
    if (message._tag === "Close") port.close()
  }
  const drainPort = (): void => {
    let next = receiveMessageOnPort(port)
    while (next !== undefined) {
      deliver(next.message)
      next = receiveMessageOnPort(port)
    }
  }
  port.on("message", (raw: unknown) => {
    deliver(raw)
    drainPort()
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
  guardExit(runtime)
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
  process.on("disconnect", () => exit(0))
  // Say so before exiting: the write goes out synchronously while the pipe has room, before anything that
  // could hang (an "exit" listener of the task's, Node's own shutdown). The parent stops sending jobs and
  // kills the process if it has not exited within interruptGrace.
  process.on("exit", (code) => {
    if (!process.connected) return
    try {
      send(wire.encode({ _tag: "Exiting", code }) as never)
    } catch {
      // the parent will see the exit itself
    }
  })
  // An exception outside any handler ends the worker, as it would a thread; say why before going.
  process.on("uncaughtException", (e) => {
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
    process.stderr.write(`${e instanceof Error ? e.stack : message}\n`)
    try {
      send(wire.encode({ _tag: "Fatal", message }) as never, undefined, undefined, () => exit(1))
    } catch {
      exit(1)
    }
  })
  await runtime.preload(boot.preload).catch(() => undefined)
  send(wire.encode({ _tag: "Ready" }) as never)
} else {
  process.stderr.write("effect-parallel: the worker entry must be started by a pool, not run directly\n")
  process.exitCode = 2
}

/**
 * A tiny thread (no imports) that SIGKILLs this process once its parent is gone: the process is then
 * re-parented, so `process.ppid` changes (checked every 500 ms). It runs whatever the main thread does, and
 * it never keeps the process alive (unref). Cost, measured here: about 25 ms of CPU per worker process, on
 * the other core while the main thread loads its modules; pool start-up time did not change measurably.
 */
function startWatchdog(parent: number): void {
  try {
    const watchdog = new Worker(
      `const ppid = require("node:worker_threads").workerData
      const check = () => { if (process.ppid !== ppid) process.kill(process.pid, "SIGKILL") }
      check()
      setInterval(check, 500)`,
      {
        eval: true,
        workerData: parent,
        stdout: false,
        stderr: false,
        env: {}
      }
    )
    watchdog.unref()
    // the watchdog's own failure (it cannot start) must not end the worker
    watchdog.on("error", () => undefined)
  } catch {
    // no watchdog: the IPC channel's "disconnect" still ends an idle or async worker
  }
}
