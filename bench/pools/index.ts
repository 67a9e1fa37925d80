/**
 * The adapter registry: which file holds which pools, in the order the runner interleaves them within a
 * round. A measurement child imports only the one file it measures, so no other library is loaded there.
 */
import type { PoolAdapter } from "./types.ts"

export const adapterFiles: ReadonlyArray<string> = [
  "sequential.ts",
  "bare.ts",
  "effect-parallel.ts",
  "piscina.ts",
  "tinypool.ts",
  "workerpool.ts",
  "poolifier.ts",
  "effect-rpc.ts",
  "python.ts"
]

/** Loads the adapters of one file. */
export const loadFile = async (file: string): Promise<ReadonlyArray<PoolAdapter>> => {
  const mod = (await import(new URL(`./${file}`, import.meta.url).href)) as { adapters: ReadonlyArray<PoolAdapter> }
  return mod.adapters
}

/** Loads every adapter, each with the file it comes from. */
export const loadAll = async (): Promise<ReadonlyArray<{ readonly file: string; readonly adapter: PoolAdapter }>> => {
  const out: Array<{ file: string; adapter: PoolAdapter }> = []
  for (const file of adapterFiles) for (const adapter of await loadFile(file)) out.push({ file, adapter })
  return out
}
