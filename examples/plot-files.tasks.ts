/**
 * The task of `plot-files.ts`: draw one scatter plot of random data, with a smoothed curve through it, and
 * write it as an SVG file. No top-level side effects.
 */
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { Task, TaskContext } from "../src/index.ts"

/** Writing the file failed: a declared error, so the caller gets it as an instance of this class. */
export class PlotFailed extends Schema.TaggedError<PlotFailed>()("PlotFailed", {
  file: Schema.String,
  message: Schema.String
}) {}

const W = 480
const H = 320
const PAD = 32

/** FNV-1a over the file's text: a short fingerprint to check that two runs wrote the same plot. */
const fnv1a = (s: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
  return h >>> 0
}

/**
 * Random data: y = a sin(f x + φ) + noise for x uniform in [0, 10], with a, f and φ drawn per plot; the
 * curve is a Nadaraya–Watson kernel smoother evaluated at `grid` points (points x grid exponentials: the
 * CPU part of the task).
 */
export const drawPlot = (title: string, points: number, grid: number, random: TaskContext.TaskRandom): string => {
  const a = 1 + 2 * random.next()
  const f = 0.5 + 1.5 * random.next()
  const phi = 2 * Math.PI * random.next()
  const xs = new Float64Array(points)
  const ys = new Float64Array(points)
  for (let k = 0; k < points; k++) {
    xs[k] = 10 * random.next()
    ys[k] = a * Math.sin(f * xs[k]! + phi) + 0.6 * random.nextGaussian()
  }
  const bandwidth = 0.35
  const curve: Array<[number, number]> = []
  for (let g = 0; g < grid; g++) {
    const x = (10 * g) / (grid - 1)
    let num = 0
    let den = 0
    for (let k = 0; k < points; k++) {
      const u = (xs[k]! - x) / bandwidth
      const w = Math.exp(-0.5 * u * u)
      num += w * ys[k]!
      den += w
    }
    curve.push([x, den > 0 ? num / den : 0])
  }
  const sx = (x: number) => (PAD + (x / 10) * (W - 2 * PAD)).toFixed(1)
  const sy = (y: number) => (H / 2 - (y / 5) * (H / 2 - PAD)).toFixed(1)
  const dots = Array.from(xs, (x, k) => `<circle cx="${sx(x)}" cy="${sy(ys[k]!)}" r="1.6"/>`).join("")
  const line = curve.map(([x, y]) => `${sx(x)},${sy(y)}`).join(" ")
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}"`,
    ` font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<rect x="${PAD}" y="${PAD}" width="${W - 2 * PAD}" height="${H - 2 * PAD}" fill="none" stroke="#888"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="13">${title}</text>`,
    `<g fill="#1f77b4" fill-opacity="0.35">${dots}</g>`,
    `<polyline points="${line}" fill="none" stroke="#d62728" stroke-width="2"/>`,
    `</svg>`,
    ``
  ].join("\n")
}

/** Draws plot number `TaskContext.index` and writes it to `<dir>/plot-<index>.svg`. */
export const Plot = Task.make("Plot", {
  module: import.meta.url,
  payload: Schema.Struct({ dir: Schema.String, points: Schema.Int, grid: Schema.Int }),
  success: Schema.Struct({ file: Schema.String, bytes: Schema.Int, fingerprint: Schema.Number }),
  error: PlotFailed,
  run: ({ dir, grid, points }) =>
    Effect.gen(function*() {
      const { index, random, seed } = yield* TaskContext.TaskContext
      const file = path.join(dir, `plot-${String(index).padStart(3, "0")}.svg`)
      const svg = drawPlot(`plot ${index} (seed ${seed})`, points, grid, random)
      yield* Effect.try({
        try: () => {
          fs.mkdirSync(dir, { recursive: true })
          fs.writeFileSync(file, svg)
        },
        catch: (e) => new PlotFailed({ file, message: String(e) })
      })
      return { file, bytes: Buffer.byteLength(svg), fingerprint: fnv1a(svg) }
    })
})
