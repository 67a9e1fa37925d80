/**
 * Measures how much faster a batch runs on more workers: speedup S<sub>p</sub> = T<sub>1</sub>/T<sub>p</sub>
 * and efficiency E<sub>p</sub> = S<sub>p</sub>/p, as a text table or an SVG chart.
 *
 * `measure` runs the same batch (any effect that uses the `WorkerPool` in context) against a fresh pool for
 * every worker count p, started and warmed up before the clock runs, and times it a few times. T<sub>1</sub>
 * is the serial baseline: by default the same batch on a one-worker in-process pool (same protocol, same
 * codecs, no other thread), or one worker of the chosen backend, or any effect you give (a plain loop).
 * Each time is the median of the repeats, with their minimum and maximum beside it.
 *
 * Speedup below p is normal: messaging, chunking and start-up are serial work (Amdahl's law), and on a
 * busy or shared machine the workers compete with everything else. The report shows it; it does not judge.
 *
 * **Example**
 *
 * ```ts
 * import { NodeRuntime } from "@effect/platform-node"
 * import { Effect } from "effect"
 * import { Speedup, WorkerPool } from "effect-parallel"
 * import { CountPrimes } from "./tasks.ts"
 *
 * const program = Effect.gen(function*() {
 *   const report = yield* Speedup.measure({
 *     run: WorkerPool.map(CountPrimes, ranges),
 *     preload: [CountPrimes.module],
 *     label: "primes below 10 million"
 *   })
 *   yield* Speedup.print(report)
 *   yield* Speedup.plot(report, "out/speedup.svg")
 * })
 *
 * NodeRuntime.runMain(program)
 * ```
 *
 * @since 0.1.0
 */
import "./internal/nodeVersion.ts"
import * as Effect from "effect/Effect"
import type { PlatformError } from "effect/PlatformError"
import { lazyImport } from "./internal/lazy.ts"
import { makeReport } from "./internal/speedup/report.ts"
import { measureReport } from "./internal/speedup/measure.ts"
import { renderSvg } from "./internal/speedup/svg.ts"
import { renderTable } from "./internal/speedup/table.ts"
import type { WorkerError } from "./WorkerError.ts"
import type * as WorkerPool from "./WorkerPool.ts"

/**
 * What to measure and how.
 *
 * - `run`: the batch to time. It runs against a fresh pool for every worker count, so it must read the pool
 *   from context (`WorkerPool.map(task, items)`, a task call, `Parallel.forEach` of task calls).
 * - `workers`: the worker counts p to try. Default: 1, 2, 4, … below `Parallel.cores`, and the core count
 *   itself.
 * - `backend`: `"threads"` (default) or `"processes"`.
 * - `baseline`: what T<sub>1</sub> is.
 *   - `"in-process"` (default): the same batch on `WorkerPool.makeInProcess({ size: 1 })`, in this
 *     thread: serial, with the same messages and codecs as the workers, so S<sub>p</sub> shows the gain of
 *     the workers and not the cost of the protocol.
 *   - `"one-worker"`: the same batch on one worker of `backend`.
 *   - an effect: your own serial code (a plain loop), run with no pool at all.
 * - `repeats`: timed runs per configuration (default 3); the report keeps median, min and max.
 * - `warmup`: one untimed run on every pool (and of the baseline) before timing (default true): the task
 *   module is compiled and optimized by then.
 * - `preload`: task module URLs every pool imports at start (pass `task.module`).
 * - `label`: names the batch in the table and the chart.
 *
 * @category models
 * @since 0.1.0
 */
export interface Options<E, R> {
  readonly run: Effect.Effect<unknown, E, R | WorkerPool.WorkerPool>
  readonly workers?: ReadonlyArray<number> | undefined
  readonly backend?: "threads" | "processes" | undefined
  readonly baseline?: "in-process" | "one-worker" | Effect.Effect<unknown, E, R> | undefined
  readonly repeats?: number | undefined
  readonly warmup?: boolean | undefined
  readonly preload?: ReadonlyArray<string> | undefined
  readonly label?: string | undefined
}

/**
 * One worker count p: the median time T<sub>p</sub> (`millis`), the fastest and slowest repeat, speedup
 * S<sub>p</sub> = T<sub>1</sub>/T<sub>p</sub> and efficiency E<sub>p</sub> = S<sub>p</sub>/p (1 is ideal).
 *
 * @category models
 * @since 0.1.0
 */
export interface Row {
  readonly workers: number
  readonly millis: number
  readonly min: number
  readonly max: number
  readonly speedup: number
  readonly efficiency: number
}

/**
 * The result of {@link measure}: the baseline time T<sub>1</sub> (median) and what it was (`"in-process"`,
 * `"one-worker"` or `"custom"`), the backend, the usable cores, and one {@link Row} per worker count in
 * increasing order.
 *
 * @category models
 * @since 0.1.0
 */
export interface Report {
  readonly label: string
  readonly baselineMillis: number
  readonly baseline: string
  readonly backend: string
  readonly cores: number
  readonly rows: ReadonlyArray<Row>
}

/**
 * Raw timings in milliseconds, as {@link make} takes them: every repeat of the baseline, and every repeat
 * of every worker count.
 *
 * @category models
 * @since 0.1.0
 */
export interface Samples {
  readonly label: string
  readonly baseline: string
  readonly backend: string
  readonly cores: number
  readonly baselineMillis: ReadonlyArray<number>
  readonly runs: ReadonlyArray<{ readonly workers: number; readonly millis: ReadonlyArray<number> }>
}

/**
 * Options of {@link toSvg}: the size of the picture in pixels (default 720 × 520, at least 360 × 320).
 *
 * @category models
 * @since 0.1.0
 */
export interface SvgOptions {
  readonly width?: number | undefined
  readonly height?: number | undefined
}

/**
 * Builds a report from raw timings: medians, min and max, S<sub>p</sub> and E<sub>p</sub>.
 *
 * **When to use**
 *
 * To chart timings taken some other way (another machine, an older run read back from a file) with
 * {@link table} and {@link toSvg}. {@link measure} builds its report with it.
 *
 * **Details**
 *
 * T<sub>1</sub> is the median of `baselineMillis`; the median of an even number of samples is the mean of
 * the middle two. Rows are sorted by worker count.
 *
 * **Example**
 *
 * ```ts
 * const report = Speedup.make({
 *   label: "render", baseline: "custom", backend: "threads", cores: 4,
 *   baselineMillis: [1000, 1010, 990],
 *   runs: [{ workers: 1, millis: [1020] }, { workers: 4, millis: [280, 270, 300] }]
 * })
 * // report.rows[1].speedup === 1000 / 280
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make: (samples: Samples) => Report = makeReport

/**
 * Times a batch on a fresh pool for every worker count and compares each with the serial baseline.
 *
 * **When to use**
 *
 * To find out whether a workload gains from more workers, and from how many it stops gaining: before
 * choosing a pool size, or in a benchmark that should show its scaling.
 *
 * **Details**
 *
 * - Configurations run one after the other, never at once: the baseline first, then every worker count in
 *   increasing order. Each pool is built in its own scope with `preload`, `awaitReady` before the clock
 *   runs, warmed up with one untimed run, timed `repeats` times with `performance.now()`, and closed
 *   before the next one starts.
 * - An invalid `workers` or `repeats` fails with a `WorkerError` whose reason is `InvalidOption`.
 *
 * **Gotchas**
 *
 * - The times are wall-clock times on a machine that may be doing other things; a speedup measured on a
 *   shared or throttled machine (CI, a container with a CPU quota) can be far from what the hardware
 *   allows. Check `cores` in the report, and prefer more `repeats` to trusting one number.
 * - A batch smaller than a few milliseconds per worker measures start-up and messaging, not the work.
 * - `run` gets its `WorkerPool` from `measure`, one per configuration: a pool provided around it from
 *   outside is not used. A custom `baseline` runs with no pool at all.
 *
 * **Example**
 *
 * ```ts
 * const report = yield* Speedup.measure({
 *   run: WorkerPool.map(CountPrimes, ranges),
 *   workers: [1, 2, 4, 8],
 *   baseline: Effect.sync(() => ranges.map(({ from, to }) => countPrimes(from, to))),
 *   preload: [CountPrimes.module]
 * })
 * ```
 *
 * @category running
 * @since 0.1.0
 */
export const measure: <E, R>(
  options: Options<E, R>
) => Effect.Effect<Report, E | WorkerError, Exclude<R, WorkerPool.WorkerPool>> = measureReport

/**
 * Formats a report as a fixed-width text table: a header naming the batch, the baseline and the backend,
 * then one line per worker count with its time (median, then min–max of the repeats), S<sub>p</sub> and
 * E<sub>p</sub>.
 *
 * **Example**
 *
 * ```text
 * Speedup: primes below 10,000,000
 * baseline: in-process (the same batch on 1 in-process worker, serial), T1 = 1620 ms
 * backend: threads, 2 usable cores
 *
 * workers | time: median (min–max) | Sp = T1/Tp | Ep = Sp/p
 * ------- | ---------------------- | ---------- | ---------
 *       1 |   1641 ms (1633–1702)  |      0.99x |       99%
 *       2 |    845 ms (838–861)    |      1.92x |       96%
 * ```
 *
 * @category formatting
 * @since 0.1.0
 */
export const table: (report: Report) => string = renderTable

/**
 * Prints {@link table} of a report with `Console.log`.
 *
 * @category formatting
 * @since 0.1.0
 */
export const print = (report: Report): Effect.Effect<void> =>
  Effect.flatMap(consoleModule, (Console) => Console.log(renderTable(report)))

// Loaded on first use: importing the package need not load them (docs/performance-notes.md, "Issue 17, third
// sitting").
const consoleModule = lazyImport(() => import("effect/Console"))
const writer = lazyImport(() => import("./internal/speedup/write.ts"))

/**
 * Draws a report as an SVG chart: speedup against workers with the ideal line S<sub>p</sub> = p (and bars
 * from the slowest to the fastest repeat), and below it efficiency against workers on a 0–100 % axis.
 *
 * **Details**
 *
 * Plain SVG 1.1 written by hand: no scripts, no external fonts or styles, so it renders the same in a
 * browser, in a README on GitHub, and in `rsvg-convert`. The axes are linear and start at 0.
 *
 * **Example**
 *
 * ```ts
 * fs.writeFileSync("speedup.svg", Speedup.toSvg(report, { width: 800 }))
 * ```
 *
 * @category formatting
 * @since 0.1.0
 */
export const toSvg: (report: Report, options?: SvgOptions) => string = renderSvg

/**
 * Writes {@link toSvg} of a report to a file, creating its directory.
 *
 * **Example**
 *
 * ```ts
 * yield* Speedup.plot(report, "out/speedup.svg")
 * ```
 *
 * @category formatting
 * @since 0.1.0
 */
export const plot = (report: Report, path: string, options?: SvgOptions): Effect.Effect<void, PlatformError> =>
  Effect.flatMap(writer, (w) => w.writeFile(path, renderSvg(report, options)))
