/**
 * An embarrassingly parallel image: the Mandelbrot set, one task per row, rendered serially in the main
 * thread and then with `WorkerPool.map` on one worker per core; both images must be identical. Writes
 * `mandelbrot.png` (a PNG encoded by hand with node:zlib, no dependencies).
 *
 *   node examples/mandelbrot.ts              # 1200x1200, 500 iterations
 *   node examples/mandelbrot.ts --small      # 300x300, 200 iterations (CI); or SMALL=1
 *   node examples/mandelbrot.ts --out=DIR    # where to write the image (default out/); or OUT_DIR=DIR
 *
 * The task lives in `mandelbrot.tasks.ts`, a module without side effects, so this file needs no
 * `import.meta.main` guard: workers never import it.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Duration, Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as zlib from "node:zlib"
import { Parallel, WorkerPool } from "../src/index.ts"
import { computeRow, MandelbrotRow, type RowSpec } from "./mandelbrot.tasks.ts"

const small = process.argv.includes("--small") || process.env.SMALL === "1"
const size = small ? { width: 300, height: 300, maxIter: 200 } : { width: 1200, height: 1200, maxIter: 500 }
const outDir = process.argv.find((a) => a.startsWith("--out="))?.slice(6) ?? process.env.OUT_DIR ?? "out"

// --- colouring and PNG encoding (plain code, in the parent) ---------------------------------------------

/** A smooth palette: deep blue, white, orange, black, back to blue; `maxIter` (inside the set) is black. */
const STOPS: ReadonlyArray<readonly [number, number, number, number]> = [
  [0, 0, 7, 100],
  [0.16, 32, 107, 203],
  [0.42, 237, 255, 255],
  [0.6425, 255, 170, 0],
  [0.8575, 0, 2, 0],
  [1, 0, 7, 100]
]

const colour = (nu: number, maxIter: number, out: Uint8Array, at: number): void => {
  if (nu >= maxIter) return // stays black
  const t = (Math.sqrt(Math.max(nu, 0)) / 6) % 1
  let i = 0
  while (t > STOPS[i + 1]![0]) i++
  const [t0, r0, g0, b0] = STOPS[i]!
  const [t1, r1, g1, b1] = STOPS[i + 1]!
  const f = (t - t0) / (t1 - t0)
  out[at] = r0 + f * (r1 - r0)
  out[at + 1] = g0 + f * (g1 - g0)
  out[at + 2] = b0 + f * (b1 - b0)
}

/** One PNG chunk: length, type, data, CRC-32 of type and data. */
const pngChunk = (type: string, data: Uint8Array): Buffer => {
  const chunk = Buffer.alloc(12 + data.length)
  chunk.writeUInt32BE(data.length, 0)
  chunk.write(type, 4, "latin1")
  chunk.set(data, 8)
  chunk.writeUInt32BE(zlib.crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length)
  return chunk
}

/** An 8-bit RGB PNG: signature, IHDR, one deflated IDAT (each scanline prefixed by filter type 0), IEND. */
const encodePng = (width: number, height: number, rgb: Uint8Array): Buffer => {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 2, 0, 0, 0], 8) // bit depth 8, colour type 2 (RGB), deflate, no filter method, no interlace
  const stride = width * 3
  const raw = Buffer.alloc((stride + 1) * height)
  for (let y = 0; y < height; y++) raw.set(rgb.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1)
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", header),
    pngChunk("IDAT", zlib.deflateSync(raw, { level: 9 })),
    pngChunk("IEND", new Uint8Array(0))
  ])
}

// --- the program ----------------------------------------------------------------------------------------

const sameImage = (a: ReadonlyArray<Float32Array>, b: ReadonlyArray<Float32Array>): boolean =>
  a.length === b.length && a.every((row, y) => row.length === b[y]!.length && row.every((v, x) => Object.is(v, b[y]![x])))

const program = Effect.gen(function*() {
  const { width, height, maxIter } = size
  const cores = yield* Parallel.cores
  const specs: Array<RowSpec> = Array.from({ length: height }, (_, y) => ({ y, width, height, maxIter }))
  console.log(`Mandelbrot ${width}x${height}, ${maxIter} iterations, one task per row\n`)

  const [serialElapsed, serial] = yield* Effect.timed(Effect.sync(() => specs.map(computeRow)))
  const [parallelElapsed, parallel] = yield* Effect.gen(function*() {
    yield* WorkerPool.awaitReady // every worker started (and the task module preloaded) before the clock runs
    return yield* Effect.timed(WorkerPool.map(MandelbrotRow, specs))
  }).pipe(Effect.provide(WorkerPool.layer({ size: cores, preload: [MandelbrotRow.module] })))

  if (!sameImage(serial, parallel)) return yield* Effect.die(new Error("the parallel image differs from the serial one"))

  const rgb = new Uint8Array(width * height * 3)
  parallel.forEach((row, y) => row.forEach((nu, x) => colour(nu, maxIter, rgb, (y * width + x) * 3)))
  fs.mkdirSync(outDir, { recursive: true })
  const file = path.join(outDir, "mandelbrot.png")
  const png = encodePng(width, height, rgb)
  fs.writeFileSync(file, png)

  const t1 = Duration.toMillis(serialElapsed)
  const tp = Duration.toMillis(parallelElapsed)
  console.log(`  serial (main thread)      ${t1.toFixed(0).padStart(6)} ms`)
  const workers = `${cores} worker${cores > 1 ? "s" : " "}`
  console.log(`  WorkerPool.map, ${workers}  ${tp.toFixed(0).padStart(6)} ms   speedup ${(t1 / tp).toFixed(2)}x`)
  console.log(
    `\nBoth images are identical. Wrote ${file} (${(png.length / 1024).toFixed(0)} KiB).` +
      (tp > t1 ? `\nThe workers were slower: ${small ? "too little work at --small size" : "is the machine busy?"}` : "")
  )
})

NodeRuntime.runMain(program)
