/**
 * The five workloads: their sizes, and how one measurement runs inside a fresh child process (warm-up,
 * timed repetitions, a correctness check of every result).
 */
import { expectedArraySum, fillArray, imageChecksum } from "./kernels.ts"
import type { OpenPool, PoolAdapter, RowPayload, SumMode, WorkloadId } from "./pools/types.ts"

export type { WorkloadId }

export interface Sizes {
  /** W1: tasks per timed run, and in the warm-up run. */
  readonly w1Tasks: number
  readonly w1Warmup: number
  /** W2: sequential round trips per timed run, and in the warm-up. */
  readonly w2Tasks: number
  readonly w2Warmup: number
  /** W3: image size and iteration limit (one task per row). */
  readonly width: number
  readonly height: number
  readonly maxIter: number
  /** W4: elements of the Float64Array. */
  readonly w4Length: number
  /**
   * Timed repetitions inside one child, per workload (after the warm-up). W1 takes three: in a fresh
   * process the first batch of 100,000 runs JIT-cold (measured 2–5× slower than the next ones for `map`;
   * Python's first `Pool.map` is often slower too), and one sample per process would measure that alone.
   */
  readonly reps: Readonly<Record<WorkloadId, number>>
}

export const sizesFor = (quick: boolean): Sizes =>
  quick
    ? {
      w1Tasks: 20_000,
      w1Warmup: 2_000,
      w2Tasks: 2_000,
      w2Warmup: 300,
      // the full image's width and row cost (~0.3 ms), a third of its rows
      width: 1200,
      height: 400,
      maxIter: 500,
      w4Length: 2 * 1024 * 1024, // 16 MiB
      reps: { W1: 1, W2: 2, W3: 2, W4: 5, W5: 2 }
    }
    : {
      w1Tasks: 100_000,
      w1Warmup: 10_000,
      w2Tasks: 10_000,
      w2Warmup: 1_000,
      width: 1200,
      height: 1200,
      maxIter: 500,
      w4Length: 8 * 1024 * 1024, // 64 MiB
      reps: { W1: 3, W2: 1, W3: 2, W4: 5, W5: 3 }
    }

/** What one child is asked to measure. */
export interface CaseSpec {
  readonly workload: WorkloadId
  /** Adapter file (in bench/pools) and adapter id. */
  readonly file: string
  readonly pool: string
  readonly workers: number
  /** W4: how the array travels. */
  readonly mode?: SumMode | undefined
  readonly sizes: Sizes
  /** W3: the checksum of the sequential image. */
  readonly expected?: number | undefined
  /** Closing the pool after a measurement must settle within this many milliseconds (or a note says so). */
  readonly closeTimeoutMillis: number
  /** W5: one whole cycle (start, one task, close) must settle within this many milliseconds, or "hung". */
  readonly cycleTimeoutMillis: number
}

/** What one child reports. */
export interface Measurement {
  /** ok; FAILED: a wrong result; error: something threw; hung: did not settle in time. */
  readonly status: "ok" | "FAILED" | "error" | "hung"
  /** One value per timed repetition, in the workload's unit. */
  readonly samples: ReadonlyArray<number>
  readonly detail?: string | undefined
}

class CheckFailed extends Error {}

const check = (ok: boolean, message: () => string): void => {
  if (!ok) throw new CheckFailed(message())
}

const checkDoubled = (xs: ReadonlyArray<number>, out: ReadonlyArray<number>): void => {
  check(out.length === xs.length, () => `got ${out.length} results for ${xs.length} tasks`)
  for (let i = 0; i < xs.length; i++) check(out[i] === 2 * xs[i]!, () => `result[${i}] = ${out[i]}, expected ${2 * xs[i]!}`)
}

export const rowsOf = (s: Sizes): Array<RowPayload> =>
  Array.from({ length: s.height }, (_, y) => ({ y, width: s.width, height: s.height, maxIter: s.maxIter }))

const range = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)

/** Resolves to "timeout" if `p` has not settled after `ms`. */
export const within = <A>(p: Promise<A>, ms: number): Promise<A | "timeout"> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), ms)
    })
  ])
}

const need = <K extends keyof OpenPool>(pool: OpenPool, key: K): NonNullable<OpenPool[K]> => {
  const f = pool[key]
  if (f === undefined) throw new Error(`this pool has no ${String(key)} operation`)
  return f as NonNullable<OpenPool[K]>
}

/** Times `f` once, in milliseconds. */
const time = async <A>(f: () => Promise<A>): Promise<{ readonly ms: number; readonly value: A }> => {
  const t0 = performance.now()
  const value = await f()
  return { ms: performance.now() - t0, value }
}

/**
 * Runs one measurement on an open pool (W1–W4). Returns the samples; throws CheckFailed on a wrong
 * result. The caller closes the pool.
 */
const measureOpen = async (pool: OpenPool, spec: CaseSpec): Promise<Array<number>> => {
  const s = spec.sizes
  const reps = s.reps[spec.workload]
  const samples: Array<number> = []
  switch (spec.workload) {
    case "W1": {
      const doubleAll = need(pool, "doubleAll")
      const warm = range(s.w1Warmup)
      checkDoubled(warm, await doubleAll(warm))
      const xs = range(s.w1Tasks)
      for (let r = 0; r < reps; r++) {
        const { ms, value } = await time(() => doubleAll(xs))
        checkDoubled(xs, value)
        samples.push((xs.length / ms) * 1000) // tasks per second
      }
      return samples
    }
    case "W2": {
      const doubleSequential = need(pool, "doubleSequential")
      const warm = range(s.w2Warmup)
      checkDoubled(warm, await doubleSequential(warm))
      const xs = range(s.w2Tasks)
      for (let r = 0; r < reps; r++) {
        const { ms, value } = await time(() => doubleSequential(xs))
        checkDoubled(xs, value)
        samples.push((ms * 1000) / xs.length) // µs per task
      }
      return samples
    }
    case "W3": {
      const mandelbrotRows = need(pool, "mandelbrotRows")
      const rows = rowsOf(s)
      const expected = spec.expected!
      const checkImage = (out: ReadonlyArray<number>) => {
        check(out.length === rows.length, () => `got ${out.length} rows, expected ${rows.length}`)
        const sum = imageChecksum(out)
        check(sum === expected, () => `image checksum ${sum}, expected ${expected} (the sequential one)`)
      }
      checkImage(await mandelbrotRows(rows))
      for (let r = 0; r < reps; r++) {
        const { ms, value } = await time(() => mandelbrotRows(rows))
        checkImage(value)
        samples.push(ms)
      }
      return samples
    }
    case "W4": {
      const sum = need(pool, "sum")
      const mode = spec.mode!
      const expected = expectedArraySum(s.w4Length)
      const bytes = s.w4Length * 8
      const reused = mode === "shared"
        ? fillArray(new Float64Array(new SharedArrayBuffer(bytes)))
        : mode === "transfer"
        ? undefined
        : fillArray(new Float64Array(s.w4Length))
      // a transferred array is detached afterwards: every run gets a fresh one, filled outside the clock
      const fresh = () => reused ?? fillArray(new Float64Array(s.w4Length))
      const once = async (timed: boolean) => {
        const data = fresh()
        const { ms, value } = await time(() => sum(data, mode))
        check(value === expected, () => `sum ${value}, expected ${expected}`)
        if (mode === "transfer") {
          check(data.byteLength === 0, () => `the array was not transferred (byteLength ${data.byteLength} after the call)`)
        } else {
          check(data.byteLength === bytes, () => `the caller's array changed size (${data.byteLength} bytes)`)
        }
        if (timed) samples.push(ms)
      }
      // warm every worker (concurrent calls spread over the pool; a worker imports its task module on its
      // first task), then one call alone
      await Promise.all(Array.from({ length: spec.workers }, () => once(false)))
      await once(false)
      for (let r = 0; r < reps; r++) await once(true)
      return samples
    }
    case "W5":
      throw new Error("W5 is measured by measureStartup")
  }
}

/** W5: create a pool, run one task, close it; a cycle that does not settle in time reads "hung". */
const measureStartup = async (adapter: PoolAdapter, spec: CaseSpec): Promise<Measurement> => {
  const cycle = async () => {
    const pool = await adapter.open(spec.workers)
    const out = await need(pool, "doubleSequential")([21])
    check(out.length === 1 && out[0] === 42, () => `got ${JSON.stringify(out)}, expected [42]`)
    await pool.close()
  }
  const samples: Array<number> = []
  for (let r = 0; r <= spec.sizes.reps.W5; r++) {
    const t0 = performance.now()
    const settled = await within(cycle(), spec.cycleTimeoutMillis)
    if (settled === "timeout") {
      return { status: "hung", samples, detail: `start, one task, close did not settle within ${spec.cycleTimeoutMillis} ms` }
    }
    if (r > 0) samples.push(performance.now() - t0) // r = 0 is the warm-up cycle
  }
  return { status: "ok", samples }
}

const describe = (e: unknown): string => (e instanceof Error ? `${e.name === "Error" ? "" : `${e.name}: `}${e.message}` : String(e))

/**
 * Runs one measurement and reports it through `report` as soon as it is known; then closes the pool.
 * Resolves with a note when the close did not settle in time (the measurement itself stands).
 */
export const measure = async (
  adapter: PoolAdapter,
  spec: CaseSpec,
  report: (m: Measurement) => void
): Promise<string | undefined> => {
  if (spec.workload === "W5") {
    try {
      report(await measureStartup(adapter, spec))
    } catch (e) {
      report({ status: e instanceof CheckFailed ? "FAILED" : "error", samples: [], detail: describe(e) })
    }
    return undefined
  }
  let pool: OpenPool
  try {
    pool = await adapter.open(spec.workers)
  } catch (e) {
    report({ status: "error", samples: [], detail: `open: ${describe(e)}` })
    return undefined
  }
  try {
    report({ status: "ok", samples: await measureOpen(pool, spec) })
  } catch (e) {
    report({ status: e instanceof CheckFailed ? "FAILED" : "error", samples: [], detail: describe(e) })
  }
  const closed = await within(pool.close().then(() => "closed" as const, (e) => `close failed: ${describe(e)}`), spec.closeTimeoutMillis)
  if (closed === "timeout") return `close() did not settle within ${spec.closeTimeoutMillis} ms`
  if (closed !== "closed") return closed
  return undefined
}
