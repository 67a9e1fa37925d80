/**
 * The backends every conformance suite runs over. A behaviour that cannot exist on one backend is skipped
 * there with the reason in the test name, never silently.
 */
import * as fs from "node:fs"
import type { Layer } from "effect"
import { WorkerPool } from "../../src/index.ts"
import type { WorkerError } from "../../src/WorkerError.ts"

export interface BackendCase {
  readonly name: "threads" | "processes" | "in-process" | "cluster"
  readonly layer: (options?: WorkerPool.PoolOptions) => Layer.Layer<WorkerPool.WorkerPool, WorkerError>
  /** Workers are separate threads or processes: crashes and synchronous loops can be contained. */
  readonly isolated: boolean
  /** Workers share the parent's memory (SharedArrayBuffer reaches them). */
  readonly sharedMemory: boolean
  /**
   * Workers live on cluster runners, configured when the runners start: a test's pool options (size,
   * initializer, maxQueued, resourceLimits ...) do not reach them, and values cross as JSON.
   */
  readonly remote?: boolean
}

export const backends: ReadonlyArray<BackendCase> = [
  { name: "threads", layer: WorkerPool.layerThreads, isolated: true, sharedMemory: true },
  { name: "processes", layer: WorkerPool.layerProcesses, isolated: true, sharedMemory: false },
  { name: "in-process", layer: WorkerPool.layerInProcess, isolated: false, sharedMemory: true }
]

/** OS threads of this process (Linux): a worker thread is one more. */
export const osThreads = (): number => fs.readdirSync("/proc/self/task").length

/** Whether a process is alive. */
export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
