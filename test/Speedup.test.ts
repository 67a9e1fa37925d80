import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Console, Effect } from "effect"
import { WorkerError, WorkerPool } from "../src/index.ts"
import { defaultWorkers } from "../src/internal/speedup/measure.ts"
import * as Speedup from "../src/Speedup.ts"
import { SumOfRoots, sumOfRoots } from "./fixtures/speedup-tasks.ts"

const report: Speedup.Report = {
  label: "primes below 1e6",
  baselineMillis: 1100,
  baseline: "in-process",
  backend: "threads",
  cores: 4,
  rows: [
    { workers: 1, millis: 1200, min: 1150, max: 1250, speedup: 1100 / 1200, efficiency: 1100 / 1200 },
    { workers: 2, millis: 600, min: 600, max: 600, speedup: 1100 / 600, efficiency: 1100 / 600 / 2 },
    { workers: 4, millis: 287.5, min: 250, max: 400, speedup: 1100 / 287.5, efficiency: 1100 / 287.5 / 4 }
  ]
}

/** Checks that every tag is closed in order and that text holds no raw `<` or stray `&`. */
const assertWellFormed = (svg: string): void => {
  assert.match(svg, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" /)
  assert.match(svg, /<\/svg>\n$/)
  const body = svg.replace(/^<\?xml[^>]*\?>/, "")
  const stack: Array<string> = []
  for (const [tag] of body.matchAll(/<[^>]*>/g)) {
    const name = /^<\/?([A-Za-z][\w:-]*)/.exec(tag)?.[1]
    assert.isDefined(name, `a tag without a name: ${tag}`)
    if (tag.startsWith("</")) assert.strictEqual(stack.pop(), name, `${tag} closes the wrong element`)
    else if (!tag.endsWith("/>")) stack.push(name!)
  }
  assert.deepStrictEqual(stack, [], "every element is closed")
  const texts = body.replace(/<[^>]*>/g, "\u0000")
  assert.notMatch(texts, /[<>]/, "no raw < or > in text")
  assert.notMatch(texts, /&(?!(amp|lt|gt|quot|apos);)/, "no stray & in text")
}

describe("Speedup", () => {
  it("make takes medians, min and max, Sp = T1/Tp and Ep = Sp/p, rows sorted by workers", () => {
    const made = Speedup.make({
      label: "primes below 1e6",
      baseline: "in-process",
      backend: "threads",
      cores: 4,
      baselineMillis: [1000, 1200, 1100],
      runs: [{ workers: 4, millis: [300, 250, 400, 275] }, { workers: 1, millis: [1250, 1150, 1200] }, {
        workers: 2,
        millis: [600]
      }]
    })
    assert.strictEqual(made.baselineMillis, 1100)
    assert.deepStrictEqual(made.rows.map((r) => r.workers), [1, 2, 4])
    assert.deepStrictEqual(made.rows.map((r) => r.millis), [1200, 600, 287.5], "an even count takes the mean of the middle two")
    assert.deepStrictEqual(made.rows.map((r) => [r.min, r.max]), [[1150, 1250], [600, 600], [250, 400]])
    for (const r of made.rows) {
      assert.strictEqual(r.speedup, 1100 / r.millis)
      assert.strictEqual(r.efficiency, r.speedup / r.workers)
    }
    assert.deepStrictEqual(made, report)
  })

  it("table prints a header naming baseline and backend, then workers | time | Sp | Ep", () => {
    assert.strictEqual(
      Speedup.table(report),
      [
        "Speedup: primes below 1e6",
        "baseline: in-process (the same batch on 1 in-process worker, serial), T1 = 1100 ms",
        "backend: threads, 4 usable cores",
        "",
        "workers | time: median (min–max) | Sp = T1/Tp | Ep = Sp/p",
        "------- | ---------------------- | ---------- | ---------",
        "      1 | 1200 ms (1150–1250)    |      0.92x |       92%",
        "      2 |  600 ms (600–600)      |      1.83x |       92%",
        "      4 |  288 ms (250–400)      |      3.83x |       96%"
      ].join("\n")
    )
  })

  it("table shows small times with more digits and names a custom baseline", () => {
    const small = Speedup.make({
      label: "tiny",
      baseline: "custom",
      backend: "processes",
      cores: 1,
      baselineMillis: [4.5],
      runs: [{ workers: 1, millis: [9, 12.25] }]
    })
    assert.strictEqual(
      Speedup.table(small),
      [
        "Speedup: tiny",
        "baseline: custom (a serial effect, no pool), T1 = 4.50 ms",
        "backend: processes, 1 usable core",
        "",
        "workers | time: median (min–max) | Sp = T1/Tp | Ep = Sp/p",
        "------- | ---------------------- | ---------- | ---------",
        "      1 | 10.6 ms (9.00–12.3)    |      0.42x |       42%"
      ].join("\n")
    )
  })

  it("toSvg draws a well-formed chart: one point per row in each panel, the ideal lines, axes and legend", () => {
    const svg = Speedup.toSvg({ ...report, label: "a <label> & \"quotes\"" }, { width: 800, height: 600 })
    assertWellFormed(svg)
    assert.include(svg, `width="800" height="600" viewBox="0 0 800 600"`)
    assert.include(svg, "a &lt;label&gt; &amp; &quot;quotes&quot;")

    const points = [...svg.matchAll(/<circle class="speedup-point" cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => ({
      x: Number(m[1]),
      y: Number(m[2])
    }))
    assert.strictEqual(points.length, report.rows.length)
    assert.strictEqual([...svg.matchAll(/<rect class="efficiency-point" /g)].length, report.rows.length)
    // More workers: further right; more speedup: higher up (smaller y).
    for (let i = 1; i < points.length; i++) {
      assert.isAbove(points[i]!.x, points[i - 1]!.x)
      assert.isBelow(points[i]!.y, points[i - 1]!.y)
    }

    const ideal = [...svg.matchAll(/<line class="ideal" x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="([\d.]+)"/g)].map((
      m
    ) => m.slice(1).map(Number))
    assert.strictEqual(ideal.length, 2, "Sp = p and Ep = 100%")
    const [x1, y1, x2, y2] = ideal[0]!
    assert.isAbove(x2!, x1!)
    assert.isBelow(y2!, y1!, "the diagonal rises")
    const [, ey1, , ey2] = ideal[1]!
    assert.strictEqual(ey1, ey2, "the 100% line is horizontal")

    for (const label of ["workers p", "speedup Sp", "efficiency Ep", "speedup Sp = T1/Tp", "ideal: Sp = p", "3.83x", "96%"]) {
      assert.include(svg, label)
    }
    assert.strictEqual([...svg.matchAll(/<g class="legend">/g)].length, 3)
  })

  it("toSvg puts whole worker counts on the workers axis, dividing the largest count when it can", () => {
    const xTicks = (workers: ReadonlyArray<number>) =>
      [...Speedup.toSvg({ ...report, rows: workers.map((p) => ({ ...report.rows[0]!, workers: p })) }).matchAll(
        /class="x-tick">(\d+)</g
      )].map((m) => Number(m[1]))
    assert.deepStrictEqual(xTicks([1, 2]), [0, 1, 2])
    assert.deepStrictEqual(xTicks([1, 2, 4, 6]), [0, 1, 2, 3, 4, 5, 6])
    assert.deepStrictEqual(xTicks([1, 2, 4, 8, 16, 32, 64]), [0, 8, 16, 24, 32, 40, 48, 56, 64])
  })

  it("toSvg of a report without rows is still a well-formed chart", () => {
    const svg = Speedup.toSvg({ ...report, rows: [] })
    assertWellFormed(svg)
    assert.include(svg, "no measurements")
    assert.notInclude(svg, "speedup-point")
  })

  it.effect("print writes the table through the program's Console (loaded on first use)", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const console: Console.Console = { ...globalThis.console, log: (...args: ReadonlyArray<unknown>) => void lines.push(args.join(" ")) }
      yield* Speedup.print(report).pipe(Effect.provideService(Console.Console, console))
      yield* Speedup.print(report).pipe(Effect.provideService(Console.Console, console))
      assert.deepStrictEqual(lines, [Speedup.table(report), Speedup.table(report)])
    }))

  it.effect("plot writes the SVG, creating the directory", () =>
    Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "speedup-"))
      const file = path.join(dir, "nested", "chart.svg")
      yield* Speedup.plot(report, file)
      assert.strictEqual(fs.readFileSync(file, "utf8"), Speedup.toSvg(report))
      const error = yield* Effect.flip(Speedup.plot(report, path.join(file, "not-a-dir", "x.svg")))
      assert.strictEqual(error._tag, "PlatformError")
      fs.rmSync(dir, { recursive: true, force: true })
    }))

  it("the default worker counts are powers of two below the cores, then the cores", () => {
    assert.deepStrictEqual(defaultWorkers(1), [1])
    assert.deepStrictEqual(defaultWorkers(2), [1, 2])
    assert.deepStrictEqual(defaultWorkers(6), [1, 2, 4, 6])
    assert.deepStrictEqual(defaultWorkers(8), [1, 2, 4, 8])
  })

  it.live("measure times the batch on 1 and 2 workers against the in-process baseline", () =>
    Effect.gen(function*() {
      const items = Array.from({ length: 8 }, () => 100_000)
      const measured = yield* Speedup.measure({
        run: WorkerPool.map(SumOfRoots, items),
        workers: [2, 1],
        repeats: 1,
        baseline: "in-process",
        preload: [SumOfRoots.module],
        label: "sum of roots"
      })
      assert.strictEqual(measured.label, "sum of roots")
      assert.strictEqual(measured.baseline, "in-process")
      assert.strictEqual(measured.backend, "threads")
      assert.isAtLeast(measured.cores, 1)
      assert.isAbove(measured.baselineMillis, 0)
      assert.deepStrictEqual(measured.rows.map((r) => r.workers), [1, 2])
      for (const r of measured.rows) {
        assert.isAbove(r.millis, 0)
        assert.strictEqual(r.min, r.millis, "one repeat: min = median = max")
        assert.strictEqual(r.max, r.millis)
        assert.strictEqual(r.speedup, measured.baselineMillis / r.millis)
        assert.strictEqual(r.efficiency, r.speedup / r.workers)
      }
    }))

  it.live("measure runs a custom baseline with no pool, and warms up every configuration once", () =>
    Effect.gen(function*() {
      let baselineRuns = 0
      let poolRuns = 0
      const items = [1_000, 2_000, 3_000]
      const expected = items.map(sumOfRoots)
      const measured = yield* Speedup.measure({
        run: WorkerPool.map(SumOfRoots, items).pipe(
          Effect.tap((sums) =>
            Effect.sync(() => {
              poolRuns++
              assert.deepStrictEqual(sums, expected)
            })
          )
        ),
        baseline: Effect.sync(() => {
          baselineRuns++
          return items.map(sumOfRoots)
        }),
        workers: [1],
        repeats: 2,
        preload: [SumOfRoots.module]
      })
      assert.strictEqual(measured.baseline, "custom")
      assert.strictEqual(measured.label, "batch")
      assert.strictEqual(baselineRuns, 3, "one warm-up, two timed")
      assert.strictEqual(poolRuns, 3)
      assert.strictEqual(measured.rows.length, 1)
    }))

  it.effect("invalid workers or repeats fail with an InvalidOption naming the option", () =>
    Effect.gen(function*() {
      const run = Effect.void
      for (
        const [options, option] of [
          [{ run, workers: [0] }, "workers"],
          [{ run, workers: [] }, "workers"],
          [{ run, workers: [1.5] }, "workers"],
          [{ run, repeats: 0 }, "repeats"]
        ] as const
      ) {
        const error = yield* Effect.flip(Speedup.measure(options))
        assert.instanceOf(error, WorkerError.WorkerError)
        assert.strictEqual(error.reason._tag, "InvalidOption")
        if (error.reason._tag === "InvalidOption") assert.strictEqual(error.reason.option, option)
      }
    }))
})
