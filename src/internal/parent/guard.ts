/**
 * A pool created inside a worker is refused (a task module that runs its program without the
 * `import.meta.main` guard would start a pool in every worker). Checked before anything is loaded: the
 * refusal must happen while the worker is still importing the module, synchronously, so that the task
 * loader sees it (`taskLoader.ts` compares the refusal count around each import).
 *
 * @internal
 */
import { SpawnFailed, WorkerError } from "../../WorkerError.ts"
import type { PoolOptions } from "../../WorkerPool.ts"
import { missingGuardMessage, poolRefusals, workerMarker } from "../protocol.ts"

/** The refusal, counted, when this isolate is a worker and the pool was not allowed there; else undefined. */
export const refuseInWorker = (options: PoolOptions | undefined): WorkerError | undefined => {
  const g = globalThis as Record<symbol, unknown>
  if (g[workerMarker] !== true || options?.allowInWorker === true) return undefined
  // counted: the worker's task loader then refuses the tasks of the module whose import started this
  g[poolRefusals] = ((g[poolRefusals] as number | undefined) ?? 0) + 1
  return new WorkerError({ reason: new SpawnFailed({ message: missingGuardMessage }) })
}
