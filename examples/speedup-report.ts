/**
 * How well does a batch scale? Measure it: the same batch on 1, 2, 4, … workers up to the usable cores,
 * each on a fresh pool, timed against a serial baseline, printed as a table of speedup Sp = T1/Tp and
 * efficiency Ep = Sp/p, and drawn as a chart in `out/speedup.svg`.
 *
 *   node examples/speedup-report.ts                 # longest Collatz chain below 2,000,000, 64 ranges
 *   node examples/speedup-report.ts --small         # below 100,000, 16 ranges (CI); or SMALL=1
 *   node examples/speedup-report.ts --baseline=loop # T1 from a plain loop in the main thread, no pool
 *   node examples/speedup-report.ts --out=DIR       # where to write the chart (default out/); or OUT_DIR=DIR
 *
 * The default baseline is the same batch on a one-worker in-process pool: serial, with the same messages
 * and codecs as the workers, so the speedup shows what the workers add and not what the protocol costs.
 * `--baseline=one-worker` uses one worker thread instead. The task lives in `speedup-report.tasks.ts`.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import * as path from "node:path"
import { Parallel, Speedup, WorkerPool } from "../src/index.ts"
import { type Longest, longestChain, LongestChain, longestOf } from "./speedup-report.tasks.ts"

const small = process.argv.includes("--small") || process.env.SMALL === "1"
const limit = small ? 100_000 : 2_000_000
const parts = small ? 16 : 64
const outDir = process.argv.find((a) => a.startsWith("--out="))?.slice(6) ?? process.env.OUT_DIR ?? "out"
const baselineArg = process.argv.find((a) => a.startsWith("--baseline="))?.slice(11) ?? "in-process"
if (!["in-process", "one-worker", "loop"].includes(baselineArg)) {
  throw new Error(`--baseline must be in-process, one-worker or loop, got ${baselineArg}`)
}

/** [1, limit) in `parts` ranges of (nearly) equal length. */
const ranges = Array.from({ length: parts }, (_, i) => ({
  from: 1 + Math.floor(((limit - 1) * i) / parts),
  to: 1 + Math.floor(((limit - 1) * (i + 1)) / parts)
}))

/** Every run must find the same chain as the first: a check of the results, never of the speed. */
let expected: Longest | undefined
const check = (found: Longest) =>
  Effect.suspend(() => {
    expected ??= found
    return found.start === expected.start && found.steps === expected.steps
      ? Effect.void
      : Effect.die(new Error(`found ${JSON.stringify(found)}, the first run ${JSON.stringify(expected)}`))
  })

const program = Effect.gen(function*() {
  const cores = yield* Parallel.cores
  console.log(`Longest Collatz chain below ${limit.toLocaleString("en-US")}, ${parts} ranges, ${cores} usable core(s)\n`)

  const report = yield* Speedup.measure({
    run: WorkerPool.map(LongestChain, ranges).pipe(Effect.flatMap((found) => check(longestOf(found)))),
    baseline: baselineArg === "loop"
      ? Effect.suspend(() => check(longestOf(ranges.map(({ from, to }) => longestChain(from, to)))))
      : (baselineArg as "in-process" | "one-worker"),
    // workers: the default, 1, 2, 4, … up to the usable cores
    repeats: 3,
    preload: [LongestChain.module],
    label: `longest Collatz chain below ${limit.toLocaleString("en-US")} (${parts} ranges)`
  })

  yield* Speedup.print(report)
  const file = path.join(outDir, "speedup.svg")
  yield* Speedup.plot(report, file)

  const best = report.rows.reduce((a, b) => (b.speedup > a.speedup ? b : a))
  console.log(
    `\nEvery run found ${expected!.start.toLocaleString("en-US")} (${expected!.steps} steps). ` +
      (best.speedup > 1.1
        ? `Best: ${best.workers} worker(s), ${best.speedup.toFixed(2)}x the baseline.`
        : `No real speedup here: ${small ? "too little work at --small size" : "is the machine busy?"}`) +
      `\nWrote ${file}.`
  )
})

NodeRuntime.runMain(program)
