/**
 * A chunk with an item that cannot be encoded, shared by every backend's `runChunk`: the bad item fails
 * where it stands; the items before it still run, and so do the items after it when the chunk collects
 * (mode "result": one exit per item, whatever happens).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type { WorkerError } from "../../WorkerError.ts"
import type { ChunkOutcome } from "../service.ts"

export const aroundBadItem = (
  payloads: ReadonlyArray<unknown>,
  index: number,
  /** Position of the bad item in `payloads`. */
  k: number,
  collect: boolean,
  error: WorkerError,
  /** Runs a sub-chunk starting at the given batch index (the backend's own `runChunk`). */
  run: (payloads: ReadonlyArray<unknown>, index: number) => Effect.Effect<ChunkOutcome, WorkerError>
): Effect.Effect<ChunkOutcome, WorkerError> => {
  const head: Effect.Effect<ChunkOutcome, WorkerError> = k === 0
    ? Effect.succeed(collect ? { _tag: "Exits", exits: [] } : { _tag: "Values", values: [], stop: undefined })
    : run(payloads.slice(0, k), index)
  return Effect.flatMap(head, (head): Effect.Effect<ChunkOutcome, WorkerError> => {
    if (head._tag === "Exits") {
      const exits = [...head.exits, Exit.fail(error)]
      if (k + 1 === payloads.length) return Effect.succeed({ _tag: "Exits", exits })
      return Effect.map(run(payloads.slice(k + 1), index + k + 1), (tail): ChunkOutcome => {
        if (tail._tag === "Exits") return { _tag: "Exits", exits: [...exits, ...tail.exits] }
        // a crash in the tail, told relative to this chunk: the batch re-runs around it, as for any crash
        if (tail._tag === "Crashed") return { ...tail, item: tail.item === undefined ? undefined : tail.item + k + 1 }
        return tail
      })
    }
    if (head._tag === "Values" && head.stop === undefined) {
      return Effect.succeed({ _tag: "Values", values: head.values, stop: Exit.fail(error) })
    }
    return Effect.succeed(head)
  })
}
