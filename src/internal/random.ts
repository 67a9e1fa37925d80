/**
 * Reproducible per-task randomness (rule R7): a task's generator depends only on the batch seed and the
 * task's index, never on which worker runs it or when.
 *
 * Stream splitting is done the counter-based way (as JAX and numpy's SeedSequence do): the pair
 * (seed, index) is hashed through a strong 32-bit mixer into a 128-bit state for xoshiro128**, so task k
 * and task k+1 get unrelated streams, and no state is shared or advanced between tasks. Written by hand
 * because Effect's `Random.withSeed` seeds ISAAC with a 256-word setup per call (too slow for 100k tiny
 * tasks) and offers no splitting.
 *
 * @internal
 */
import type * as Random from "effect/Random"

/** murmur3's fmix32 finalizer: full avalanche on 32 bits. */
const fmix32 = (h: number): number => {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** Normalizes any numeric seed to 32 bits, mixing in the high bits of large integers. */
/** A fresh seed for a task or batch that was given none. */
export const randomSeed = (): number => Math.floor(Math.random() * 4294967296)

export const seed32 = (seed: number): number => {
  const lo = seed >>> 0
  const hi = Math.floor(seed / 4294967296) >>> 0
  return fmix32(lo ^ fmix32(hi ^ 0x9e3779b9))
}

/** A task's generator: Effect's `Random` service (so `Random.next` works) plus plain helpers. */
export interface TaskRandom extends Random.Random {
  /** A float in [0, 1). */
  readonly next: () => number
  /** An integer in [min, max] (inclusive). */
  readonly nextIntBetween: (min: number, max: number) => number
  /** A standard normal deviate (Box–Muller). */
  readonly nextGaussian: () => number
}

export const makeTaskRandom = (seed: number, index: number): TaskRandom => {
  const k = seed32(seed)
  const i = seed32(index)
  let s0 = fmix32(k ^ 0x243f6a88 ^ Math.imul(i, 0x9e3779b1))
  let s1 = fmix32(s0 ^ i ^ 0x85a308d3)
  let s2 = fmix32(s1 ^ k ^ 0x13198a2e)
  let s3 = fmix32(s2 ^ i ^ 0x03707344)
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1
  const nextU32 = (): number => {
    // xoshiro128** (Blackman & Vigna)
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0
    const t = s1 << 9
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = rotl(s3, 11)
    return result
  }
  // 53 random bits per double, like Math.random's contract
  const next = (): number => ((nextU32() >>> 5) * 67108864 + (nextU32() >>> 6)) / 9007199254740992
  const nextIntBetween = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1))
  let spare: number | undefined
  const nextGaussian = (): number => {
    if (spare !== undefined) {
      const s = spare
      spare = undefined
      return s
    }
    let u = 0
    while (u === 0) u = next()
    const v = next()
    const r = Math.sqrt(-2 * Math.log(u))
    spare = r * Math.sin(2 * Math.PI * v)
    return r * Math.cos(2 * Math.PI * v)
  }
  return {
    next,
    nextIntBetween,
    nextGaussian,
    nextDoubleUnsafe: next,
    nextIntUnsafe: () => Math.floor((next() * 2 - 1) * Number.MAX_SAFE_INTEGER)
  }
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k))
