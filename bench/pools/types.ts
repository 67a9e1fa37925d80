/**
 * The small interface every pool adapter implements. Each operation runs one whole workload step in the
 * pool's own idiomatic API (promises for the peers, one Effect program for effect-parallel and Effect RPC),
 * so no adapter pays for another library's calling convention inside the timed region.
 */

/** One Mandelbrot row to compute (W3): the same payload object for every pool. */
export interface RowPayload {
  readonly y: number
  readonly width: number
  readonly height: number
  readonly maxIter: number
}

/** W1 throughput, W2 latency, W3 CPU speedup, W4 large data, W5 start-up. */
export type WorkloadId = "W1" | "W2" | "W3" | "W4" | "W5"

/** How the 64 MiB array reaches the worker (W4). "main" is the sequential baseline's sum in the main thread. */
export type SumMode = "copy" | "transfer" | "shared" | "main"

/** A started pool. An operation the pool does not offer is left out; its cells read "n/a". */
export interface OpenPool {
  /** W1: submits every task at once through the per-task API (or the batch API); results in input order. */
  readonly doubleAll?: (xs: ReadonlyArray<number>) => Promise<ReadonlyArray<number>>
  /** W2, W5: runs the tasks one after another, each awaited before the next is submitted. */
  readonly doubleSequential?: (xs: ReadonlyArray<number>) => Promise<ReadonlyArray<number>>
  /** W3: one task per row, all submitted at once; row checksums in row order. */
  readonly mandelbrotRows?: (rows: ReadonlyArray<RowPayload>) => Promise<ReadonlyArray<number>>
  /** W4: sums `data` in a worker, by copy, by transfer (the caller's buffer is detached) or shared. */
  readonly sum?: (data: Float64Array, mode: SumMode) => Promise<number>
  /** Ends every worker. */
  readonly close: () => Promise<void>
}

export interface PoolAdapter {
  /** Command-line id: `--pools piscina,tinypool`. */
  readonly id: string
  /** Row label in the tables. */
  readonly label: string
  /**
   * "ours" (effect-parallel), "peer" (ratios are taken against the best peer), "baseline" (a limit) or
   * "reference" (another language's pool, for comparison; never a peer).
   */
  readonly kind: "ours" | "peer" | "baseline" | "reference"
  /** The workloads it takes part in (its open pool has the operations they need). */
  readonly workloads: ReadonlyArray<WorkloadId>
  /** W4 modes it supports. */
  readonly sumModes: ReadonlyArray<SumMode>
  /** Starts a pool of `workers` workers. */
  readonly open: (workers: number) => Promise<OpenPool>
  /**
   * Measured by another program instead of bench/child.ts: run as `command ...args '<CaseSpec as JSON>'`,
   * it prints `RESULT <Measurement as JSON>` like the child does.
   */
  readonly external?: { readonly command: string; readonly args: ReadonlyArray<string> } | undefined
}
