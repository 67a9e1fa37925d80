/**
 * The fixed-width text table of a speedup report.
 *
 * @internal
 */
import type { Report } from "../../Speedup.ts"

/** Milliseconds with about three significant digits: 1234, 123, 12.3, 1.23. */
export const formatMillis = (ms: number): string =>
  !Number.isFinite(ms) ? "n/a" : ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2)

export const formatSpeedup = (s: number): string => (Number.isFinite(s) ? `${s.toFixed(2)}x` : "n/a")

export const formatEfficiency = (e: number): string => (Number.isFinite(e) ? `${(e * 100).toFixed(0)}%` : "n/a")

/** What each baseline name means, for the header. */
export const describeBaseline = (report: Pick<Report, "baseline" | "backend">): string => {
  switch (report.baseline) {
    case "in-process":
      return "the same batch on 1 in-process worker, serial"
    case "one-worker":
      return `the same batch on 1 worker, ${report.backend}`
    case "custom":
      return "a serial effect, no pool"
    default:
      return report.baseline
  }
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`

export const renderTable = (report: Report): string => {
  const header = ["workers", "time: median (min–max)", "Sp = T1/Tp", "Ep = Sp/p"]
  // The time cell is two parts: the median right-aligned (so the digits line up), the range after it.
  const medians = report.rows.map((r) => `${formatMillis(r.millis)} ms`)
  const medianWidth = Math.max(0, ...medians.map((m) => m.length))
  const body = report.rows.map((r, i) => [
    String(r.workers),
    `${medians[i]!.padStart(medianWidth)} (${formatMillis(r.min)}–${formatMillis(r.max)})`,
    formatSpeedup(r.speedup),
    formatEfficiency(r.efficiency)
  ])
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c]!.length)))
  // Numbers right-aligned, the time cell left-aligned (its median part is already padded).
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, c) => (c === 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(" | ").trimEnd()
  return [
    `Speedup: ${report.label}`,
    `baseline: ${report.baseline} (${describeBaseline(report)}), T1 = ${formatMillis(report.baselineMillis)} ms`,
    `backend: ${report.backend}, ${plural(report.cores, "usable core")}`,
    "",
    header.map((h, c) => (c === 1 ? h.padEnd(widths[c]!) : h.padStart(widths[c]!))).join(" | "),
    widths.map((w) => "-".repeat(w)).join(" | "),
    ...body.map(line)
  ].join("\n")
}
