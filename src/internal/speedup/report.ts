/**
 * Reports from raw timings: medians, min and max, speedup and efficiency. Pure arithmetic, shared by
 * `Speedup.make` and the measurement loop.
 *
 * @internal
 */
import type { Report, Row, Samples } from "../../Speedup.ts"

/** The median of a non-empty list; the mean of the middle two for an even count. NaN for an empty list. */
export const median = (xs: ReadonlyArray<number>): number => {
  if (xs.length === 0) return NaN
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export const makeRow = (baselineMillis: number, workers: number, samples: ReadonlyArray<number>): Row => {
  const millis = median(samples)
  const speedup = baselineMillis / millis
  return {
    workers,
    millis,
    min: samples.length === 0 ? NaN : Math.min(...samples),
    max: samples.length === 0 ? NaN : Math.max(...samples),
    speedup,
    efficiency: speedup / workers
  }
}

export const makeReport = (samples: Samples): Report => {
  const baselineMillis = median(samples.baselineMillis)
  return {
    label: samples.label,
    baselineMillis,
    baseline: samples.baseline,
    backend: samples.backend,
    cores: samples.cores,
    rows: [...samples.runs]
      .sort((a, b) => a.workers - b.workers)
      .map((run) => makeRow(baselineMillis, run.workers, run.millis))
  }
}
