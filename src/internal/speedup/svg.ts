/**
 * The SVG chart of a speedup report, written by hand (no dependencies). The file writer behind
 * `Speedup.plot` is `write.ts`, loaded on first use.
 *
 * Layout, top to bottom: title, subtitle (T1, baseline, backend, cores), legend, the speedup panel (measured
 * Sp with min–max bars, the ideal line Sp = p), the efficiency panel (Ep, the ideal 100 %), the shared
 * workers axis. Both panels are linear and start at 0, so the ideal line is the diagonal.
 *
 * @internal
 */
import type { Report, SvgOptions } from "../../Speedup.ts"
import { formatEfficiency, formatMillis, formatSpeedup } from "./table.ts"

const COLOR = {
  speedup: "#2563eb",
  efficiency: "#ea580c",
  ideal: "#6b7280",
  grid: "#e5e7eb",
  axis: "#374151",
  text: "#111827",
  muted: "#6b7280"
} as const

const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"

export const escapeXml = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;")

/** Coordinates with at most one decimal: smaller files, stable output. */
const n = (x: number): string => String(Math.round(x * 10) / 10)

/** About how wide a text is in a sans-serif font (no layout engine here; errs on the wide side). */
const textWidth = (s: string, size: number): number => s.length * size * 0.56

const truncate = (s: string, size: number, width: number): string => {
  if (textWidth(s, size) <= width) return s
  const keep = Math.max(1, Math.floor(width / (size * 0.56)) - 1)
  return `${s.slice(0, keep)}…`
}

/** A "nice" step (1, 2, 2.5 or 5 times a power of ten) close to `raw`. */
export const niceStep = (raw: number): number => {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1
  const power = 10 ** Math.floor(Math.log10(raw))
  const f = raw / power
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * power
}

/**
 * The step of an axis of counts (workers, speedup) from 0 to `max`: at most `maxTicks` steps, and a step that
 * divides `max` when one does (64 workers: 0, 8, …, 64 rather than 0, 10, …, 70). Powers of two count as
 * nice here. Below 4, a fractional "nice" step (0.5, 0.25, …).
 */
export const countStep = (max: number, maxTicks: number): number => {
  if (!(max >= 4) || !Number.isFinite(max)) return niceStep(max / maxTicks)
  const candidates: Array<number> = []
  for (let power = 1; power <= max * 10; power *= 10) candidates.push(power, 2 * power, 5 * power)
  for (let power = 4; power <= max; power *= 2) candidates.push(power)
  const fitting = [...new Set(candidates)].sort((a, b) => a - b).filter((step) => Math.ceil(max / step) <= maxTicks)
  return fitting.find((step) => max % step === 0) ?? fitting[0] ?? niceStep(max / maxTicks)
}

const ticks = (max: number, step: number): Array<number> => {
  const out: Array<number> = []
  for (let i = 0; i * step <= max + step * 1e-9; i++) out.push(Math.round(i * step * 1e6) / 1e6)
  return out
}

const tickLabel = (v: number, step: number): string => {
  const decimals = Number.isInteger(step) ? 0 : Math.min(3, Math.max(1, -Math.floor(Math.log10(step % 1 || step))))
  return v.toFixed(decimals)
}

const text = (
  x: number,
  y: number,
  content: string,
  attrs: {
    size?: number
    anchor?: "start" | "middle" | "end"
    fill?: string
    weight?: number
    extra?: string
    halo?: boolean
  } = {}
): string =>
  `<text x="${n(x)}" y="${n(y)}" font-size="${attrs.size ?? 11}"${
    attrs.anchor && attrs.anchor !== "start" ? ` text-anchor="${attrs.anchor}"` : ""
  } fill="${attrs.fill ?? COLOR.axis}"${attrs.weight ? ` font-weight="${attrs.weight}"` : ""}${
    // A white outline under the glyphs keeps a value legible where it crosses a line or a grid line.
    attrs.halo ? ` stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"` : ""
  }${attrs.extra ? ` ${attrs.extra}` : ""}>${escapeXml(content)}</text>`

/**
 * Which points get a value label: the last always, then from right to left each one at least `gap` pixels
 * left of the previous labelled one, so that crowded small worker counts do not print over each other.
 */
const labelledPoints = (xs: ReadonlyArray<number>, gap: number): Set<number> => {
  const out = new Set<number>()
  let last = Infinity
  for (let i = xs.length - 1; i >= 0; i--) {
    if (last - xs[i]! >= gap) {
      out.add(i)
      last = xs[i]!
    }
  }
  return out
}

interface LegendItem {
  readonly kind: "speedup" | "ideal" | "efficiency"
  readonly label: string
}

const swatch = (kind: LegendItem["kind"], x: number, y: number): string => {
  switch (kind) {
    case "speedup":
      return `<line x1="${n(x)}" y1="${n(y)}" x2="${n(x + 24)}" y2="${n(y)}" stroke="${COLOR.speedup}" stroke-width="2"/>` +
        `<circle cx="${n(x + 12)}" cy="${n(y)}" r="4" fill="${COLOR.speedup}"/>`
    case "ideal":
      return `<line x1="${n(x)}" y1="${n(y)}" x2="${n(x + 24)}" y2="${n(y)}" stroke="${COLOR.ideal}" stroke-width="1.5" stroke-dasharray="5 4"/>`
    case "efficiency":
      return `<line x1="${n(x)}" y1="${n(y)}" x2="${n(x + 24)}" y2="${n(y)}" stroke="${COLOR.efficiency}" stroke-width="2"/>` +
        `<rect x="${n(x + 8.5)}" y="${n(y - 3.5)}" width="7" height="7" fill="${COLOR.efficiency}"/>`
  }
}

export const renderSvg = (report: Report, options?: SvgOptions): string => {
  const size = (v: number | undefined, fallback: number, min: number) =>
    v !== undefined && Number.isFinite(v) ? Math.max(min, Math.round(v)) : fallback
  const W = size(options?.width, 720, 360)
  const H = size(options?.height, 520, 320)
  const left = 72
  const right = 60
  const plotW = W - left - right
  const out: Array<string> = []

  // --- header: title, subtitle, legend (wrapped to as many lines as it needs) -----------------------------
  const title = truncate(`Speedup: ${report.label}`, 16, W - 24)
  // The subtitle drops its last parts, not the middle of one, when the picture is narrow.
  const parts = [
    `T1 = ${formatMillis(report.baselineMillis)} ms (baseline: ${report.baseline})`,
    `backend: ${report.backend}`,
    `${report.cores} usable core${report.cores === 1 ? "" : "s"}`,
    "times: median of the repeats"
  ]
  while (parts.length > 1 && textWidth(parts.join(" · "), 11) > W - 24) parts.pop()
  const subtitle = truncate(parts.join(" · "), 11, W - 24)
  const legend: ReadonlyArray<LegendItem> = [
    { kind: "speedup", label: "speedup Sp = T1/Tp (bars: min–max)" },
    { kind: "ideal", label: "ideal: Sp = p, Ep = 100%" },
    { kind: "efficiency", label: "efficiency Ep = Sp/p" }
  ]
  const legendLines: Array<Array<{ item: LegendItem; x: number }>> = [[]]
  let lx = 12
  for (const item of legend) {
    const w = 30 + textWidth(item.label, 11)
    if (lx > 12 && lx + w > W - 12) {
      legendLines.push([])
      lx = 12
    }
    legendLines[legendLines.length - 1]!.push({ item, x: lx })
    lx += w + 18
  }
  const legendTop = 66
  const panelTop = legendTop + 18 * (legendLines.length - 1) + 22

  // --- panels ------------------------------------------------------------------------------------------------
  const bottomMargin = 46 // x tick labels and the axis title
  const gap = 30
  const avail = Math.max(120, H - panelTop - bottomMargin - gap)
  const speedH = Math.round(avail * 0.64)
  const effH = avail - speedH
  const speedTop = panelTop
  const effTop = speedTop + speedH + gap
  const effBottom = effTop + effH

  const rows = report.rows.filter((r) => r.workers > 0 && Number.isFinite(r.workers))
  const plotted = rows.filter((r) => Number.isFinite(r.speedup) && Number.isFinite(r.efficiency))
  const maxWorkers = Math.max(1, ...rows.map((r) => r.workers))
  const xStep = Math.max(1, Math.round(countStep(maxWorkers, 10))) // whole workers only
  const xMax = Math.ceil(maxWorkers / xStep) * xStep
  const x = (p: number) => left + (p / xMax) * plotW

  // Whiskers: the fastest repeat gives the highest speedup.
  const upper = (r: Report["rows"][number]) => report.baselineMillis / r.min
  const lower = (r: Report["rows"][number]) => report.baselineMillis / r.max
  const speedNeed = Math.max(xMax, ...plotted.map((r) => Math.max(r.speedup, upper(r))).filter(Number.isFinite))
  // About one tick per 32 pixels of height, 2 to 8 of them.
  const yStep = countStep(speedNeed, Math.min(8, Math.max(2, Math.floor(speedH / 32))))
  const yMax = Math.ceil(speedNeed / yStep - 1e-9) * yStep
  const ys = (s: number) => speedTop + speedH - (Math.min(s, yMax) / yMax) * speedH

  // Headroom above 100%, so that the ideal line and the values of efficient points stay clear of the frame.
  const effNeed = Math.max(1.05, ...plotted.map((r) => r.efficiency))
  const eStep = effNeed <= 1.5 && effH >= 5 * 16 ? 0.25 : effNeed <= 3 ? 0.5 : 1
  const eMax = Math.ceil(effNeed / eStep - 1e-9) * eStep
  const ye = (e: number) => effBottom - (Math.min(e, eMax) / eMax) * effH

  out.push(
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="${FONT}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    text(12, 26, title, { size: 16, weight: 700, fill: COLOR.text }),
    text(12, 45, subtitle, { size: 11, fill: COLOR.muted })
  )
  legendLines.forEach((line, i) => {
    const y = legendTop + 18 * i
    for (const { item, x: ix } of line) {
      out.push(`<g class="legend">${swatch(item.kind, ix, y - 4)}${text(ix + 30, y, item.label)}</g>`)
    }
  })

  // Grid, axes and tick labels of both panels.
  const xTicks = ticks(xMax, xStep)
  const grid = (top: number, bottom: number) => {
    for (const t of xTicks) {
      out.push(`<line x1="${n(x(t))}" y1="${n(top)}" x2="${n(x(t))}" y2="${n(bottom)}" stroke="${COLOR.grid}"/>`)
    }
  }
  grid(speedTop, speedTop + speedH)
  grid(effTop, effBottom)
  for (const t of ticks(yMax, yStep)) {
    out.push(
      `<line x1="${left}" y1="${n(ys(t))}" x2="${left + plotW}" y2="${n(ys(t))}" stroke="${COLOR.grid}"/>`,
      text(left - 6, ys(t) + 3.5, tickLabel(t, yStep), { size: 10, anchor: "end" })
    )
  }
  for (const t of ticks(eMax, eStep)) {
    out.push(
      `<line x1="${left}" y1="${n(ye(t))}" x2="${left + plotW}" y2="${n(ye(t))}" stroke="${COLOR.grid}"/>`,
      text(left - 6, ye(t) + 3.5, `${Math.round(t * 100)}%`, { size: 10, anchor: "end" })
    )
  }
  for (const t of xTicks) {
    out.push(
      `<line x1="${n(x(t))}" y1="${n(effBottom)}" x2="${n(x(t))}" y2="${n(effBottom + 4)}" stroke="${COLOR.axis}"/>`,
      text(x(t), effBottom + 16, String(t), { size: 10, anchor: "middle", extra: `class="x-tick"` })
    )
  }
  for (const [top, h] of [[speedTop, speedH], [effTop, effH]] as const) {
    out.push(`<rect x="${left}" y="${n(top)}" width="${plotW}" height="${n(h)}" fill="none" stroke="${COLOR.axis}"/>`)
  }
  out.push(
    text(left + plotW / 2, H - 10, "workers p", { size: 12, anchor: "middle", fill: COLOR.text }),
    text(18, speedTop + speedH / 2, "speedup Sp", {
      size: 12,
      anchor: "middle",
      fill: COLOR.text,
      extra: `transform="rotate(-90 18 ${n(speedTop + speedH / 2)})"`
    }),
    text(18, effTop + effH / 2, textWidth("efficiency Ep", 12) <= effH ? "efficiency Ep" : "Ep", {
      size: 12,
      anchor: "middle",
      fill: COLOR.text,
      extra: `transform="rotate(-90 18 ${n(effTop + effH / 2)})"`
    })
  )

  // The cores line, only when some worker count goes past the cores (oversubscription is then visible).
  if (report.cores > 0 && report.cores < maxWorkers) {
    const cx = x(report.cores)
    out.push(
      `<line class="cores" x1="${n(cx)}" y1="${n(speedTop)}" x2="${n(cx)}" y2="${n(effBottom)}" stroke="${COLOR.muted}" stroke-dasharray="2 3"/>`,
      text(cx + 4, speedTop + 12, `${report.cores} cores`, { size: 10, fill: COLOR.muted })
    )
  }

  // Ideal lines: Sp = p (the diagonal, clipped at the top of the panel) and Ep = 100%.
  const idealEnd = Math.min(xMax, yMax)
  out.push(
    `<line class="ideal" x1="${n(x(0))}" y1="${n(ys(0))}" x2="${n(x(idealEnd))}" y2="${n(ys(idealEnd))}" stroke="${COLOR.ideal}" stroke-width="1.5" stroke-dasharray="5 4"/>`,
    `<line class="ideal" x1="${left}" y1="${n(ye(1))}" x2="${left + plotW}" y2="${n(ye(1))}" stroke="${COLOR.ideal}" stroke-width="1.5" stroke-dasharray="5 4"/>`
  )

  if (plotted.length === 0) {
    out.push(text(left + plotW / 2, speedTop + speedH / 2, "no measurements", { size: 12, anchor: "middle" }))
  }

  // Measured speedup: min–max bars, the line, the points, their values.
  const labelled = labelledPoints(plotted.map((r) => x(r.workers)), 40)
  for (const r of plotted) {
    const lo = lower(r)
    const hi = upper(r)
    if (Number.isFinite(lo) && Number.isFinite(hi) && hi - lo > 0) {
      const px = x(r.workers)
      out.push(
        `<g class="range" stroke="${COLOR.speedup}" stroke-width="1" opacity="0.6">` +
          `<line x1="${n(px)}" y1="${n(ys(lo))}" x2="${n(px)}" y2="${n(ys(hi))}"/>` +
          `<line x1="${n(px - 3)}" y1="${n(ys(lo))}" x2="${n(px + 3)}" y2="${n(ys(lo))}"/>` +
          `<line x1="${n(px - 3)}" y1="${n(ys(hi))}" x2="${n(px + 3)}" y2="${n(ys(hi))}"/></g>`
      )
    }
  }
  if (plotted.length > 1) {
    out.push(
      `<polyline class="speedup-line" points="${plotted.map((r) => `${n(x(r.workers))},${n(ys(r.speedup))}`).join(" ")}" fill="none" stroke="${COLOR.speedup}" stroke-width="2"/>`,
      `<polyline class="efficiency-line" points="${plotted.map((r) => `${n(x(r.workers))},${n(ye(r.efficiency))}`).join(" ")}" fill="none" stroke="${COLOR.efficiency}" stroke-width="2"/>`
    )
  }
  plotted.forEach((r, i) => {
    const px = x(r.workers)
    const sy = ys(r.speedup)
    const ey = ye(r.efficiency)
    out.push(
      `<circle class="speedup-point" cx="${n(px)}" cy="${n(sy)}" r="4.5" fill="${COLOR.speedup}" stroke="#ffffff" stroke-width="1"><title>${r.workers} workers: ${formatMillis(r.millis)} ms, Sp = ${formatSpeedup(r.speedup)}</title></circle>`,
      `<rect class="efficiency-point" x="${n(px - 4)}" y="${n(ey - 4)}" width="8" height="8" fill="${COLOR.efficiency}" stroke="#ffffff" stroke-width="1"><title>${r.workers} workers: Ep = ${formatEfficiency(r.efficiency)}</title></rect>`
    )
    if (labelled.has(i)) {
      // Speedup values right of and below the point: the line leaves a point upwards, to the right.
      out.push(
        text(px + 7, sy + 14, formatSpeedup(r.speedup), { size: 10, fill: COLOR.speedup, weight: 600, halo: true }),
        // Efficiency values below the point, the way the line usually falls; above it near the panel's floor.
        text(px + 7, r.efficiency < eMax * 0.2 ? ey - 7 : ey + 15, formatEfficiency(r.efficiency), {
          size: 10,
          fill: COLOR.efficiency,
          weight: 600,
          halo: true
        })
      )
    }
  })

  out.push(`</svg>`, "")
  return out.join("\n")
}
