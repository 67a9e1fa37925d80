/**
 * Mandelbrot escape times as a PNG, for the Mandelbrot examples (`mandelbrot.ts`, `cluster/mandelbrot.ts`):
 * a smooth palette and an 8-bit RGB PNG encoded by hand with node:zlib (deflate + CRC-32), no dependencies.
 * Plain code, run in the parent.
 */
import * as zlib from "node:zlib"

/** A smooth palette: deep blue, white, orange, black, back to blue; `maxIter` (inside the set) is black. */
const STOPS: ReadonlyArray<readonly [number, number, number, number]> = [
  [0, 0, 7, 100],
  [0.16, 32, 107, 203],
  [0.42, 237, 255, 255],
  [0.6425, 255, 170, 0],
  [0.8575, 0, 2, 0],
  [1, 0, 7, 100]
]

/** Writes the colour of escape time `nu` at `out[at..at + 2]`. */
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
export const encodePng = (width: number, height: number, rgb: Uint8Array): Buffer => {
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

/** The PNG of an image given as rows of escape times, coloured with the palette above. */
export const mandelbrotPng = (rows: ReadonlyArray<ArrayLike<number>>, width: number, maxIter: number): Buffer => {
  const rgb = new Uint8Array(width * rows.length * 3)
  rows.forEach((row, y) => {
    for (let x = 0; x < width; x++) colour(row[x]!, maxIter, rgb, (y * width + x) * 3)
  })
  return encodePng(width, rows.length, rgb)
}
