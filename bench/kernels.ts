/**
 * The work itself: plain functions that every pool runs, imported by the parent (sequential baseline,
 * expected results) and by every worker file. No imports, no side effects.
 */

/** W1, W2: the tiny task. */
export const double = (x: number): number => x * 2

/** Mandelbrot image parameters (W3). */
export interface MandelbrotSpec {
  readonly width: number
  readonly height: number
  readonly maxIter: number
}

/**
 * W3: one row of the Mandelbrot set over [-2, 1] × [-1.5, 1.5]; returns the sum of the escape iteration
 * counts of the row's pixels (the row's checksum).
 */
export const mandelbrotRow = (y: number, width: number, height: number, maxIter: number): number => {
  const ci = -1.5 + (3 * y) / height
  let total = 0
  for (let x = 0; x < width; x++) {
    const cr = -2 + (3 * x) / width
    let zr = 0
    let zi = 0
    let i = 0
    while (i < maxIter) {
      const zr2 = zr * zr
      const zi2 = zi * zi
      if (zr2 + zi2 > 4) break
      zi = 2 * zr * zi + ci
      zr = zr2 - zi2 + cr
      i++
    }
    total += i
  }
  return total
}

/** An order-sensitive checksum of an image's rows: a row in the wrong place changes it. */
export const imageChecksum = (rows: ReadonlyArray<number>): number => {
  let s = 0
  for (let y = 0; y < rows.length; y++) s += (y + 1) * rows[y]!
  return s
}

/** W4: the sum of a Float64Array (a plain loop, the same in every worker). */
export const sumArray = (data: Float64Array): number => {
  let s = 0
  for (let i = 0; i < data.length; i++) s += data[i]!
  return s
}

/** W4: fills an array with values whose sum is exact in float64 (integers 0..1023). */
export const fillArray = (data: Float64Array): Float64Array => {
  for (let i = 0; i < data.length; i++) data[i] = i & 1023
  return data
}

/** W4: the exact sum of `fillArray` over `length` elements. */
export const expectedArraySum = (length: number): number => {
  const full = Math.floor(length / 1024)
  const rest = length % 1024
  return full * ((1023 * 1024) / 2) + ((rest - 1) * rest) / 2
}
