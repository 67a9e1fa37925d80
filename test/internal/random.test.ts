import { assert, describe, it } from "@effect/vitest"
import { makeTaskRandom, seed32 } from "../../src/internal/random.ts"

describe("per-task random streams (R7)", () => {
  it("depend only on (seed, index)", () => {
    const a = makeTaskRandom(42, 7)
    const b = makeTaskRandom(42, 7)
    for (let i = 0; i < 100; i++) assert.strictEqual(a.next(), b.next())
  })

  it("differ between neighbouring indices and seeds", () => {
    const first = (seed: number, index: number) => makeTaskRandom(seed, index).next()
    const values = new Set<number>()
    for (let i = 0; i < 1000; i++) values.add(first(1, i))
    for (let s = 0; s < 1000; s++) values.add(first(s, 0))
    assert.isAtLeast(values.size, 1999, "no collisions among 2000 neighbouring streams")
  })

  it("are uniform in [0, 1) with a mean near 1/2 and no correlation between neighbouring streams", () => {
    const n = 20000
    let sum = 0
    let cross = 0
    for (let i = 0; i < n; i++) {
      const x = makeTaskRandom(9, i).next()
      const y = makeTaskRandom(9, i + 1).next()
      assert.isTrue(x >= 0 && x < 1)
      sum += x
      cross += (x - 0.5) * (y - 0.5)
    }
    assert.closeTo(sum / n, 0.5, 0.01)
    assert.closeTo(cross / n, 0, 0.005)
  })

  it("give integers in range and standard normal deviates", () => {
    const r = makeTaskRandom(3, 3)
    let mean = 0
    let sq = 0
    const n = 20000
    for (let i = 0; i < n; i++) {
      const k = r.nextIntBetween(1, 6)
      assert.isTrue(Number.isInteger(k) && k >= 1 && k <= 6)
      const g = r.nextGaussian()
      mean += g
      sq += g * g
    }
    assert.closeTo(mean / n, 0, 0.03)
    assert.closeTo(sq / n, 1, 0.05)
  })

  it("fold large seeds into 32 bits without losing their high bits", () => {
    assert.notStrictEqual(seed32(1), seed32(1 + 2 ** 32))
    assert.strictEqual(seed32(123), seed32(123))
  })
})
