/**
 * `WorkerPool.summarize`: counts a `mode: "result"` batch's outcomes.
 *
 * @internal
 */
import type { BatchResult, BatchSummary } from "../WorkerPool.ts"
import { WorkerError } from "../WorkerError.ts"

export const summarize = (results: ReadonlyArray<BatchResult<unknown, unknown>>): BatchSummary => {
  let succeeded = 0
  let retried = 0
  const failed: Record<string, number> = {}
  for (const r of results) {
    if (r.attempts > 1) retried++
    if (r._tag === "Success") {
      succeeded++
      continue
    }
    let key = "Defect"
    if (r._tag === "Failure") {
      const e = r.error as { readonly _tag?: unknown; readonly reason?: { readonly _tag?: unknown } }
      key = e instanceof WorkerError ? `WorkerError.${e.reason._tag}` : typeof e?._tag === "string" ? e._tag : "Failure"
    }
    failed[key] = (failed[key] ?? 0) + 1
  }
  return { total: results.length, succeeded, failed, retried }
}
