/**
 * Shows how far a batch has got: a live bar on a terminal, periodic lines in CI logs, or events you render
 * yourself.
 *
 * A batch run with `progress: true` (or `progress: { label }`) — `WorkerPool.map`, `imap`,
 * `imapUnordered`, `Parallel.forEach` — reports {@link ProgressEvent}s to the {@link Reporter} found in
 * the context: `Started`, then `Advanced` as tasks settle and `TaskProgress` as tasks call
 * `TaskContext.progress(fraction)`, then `Finished`, whatever way the batch ends. The default reporter is
 * {@link terminal}, writing to stderr; {@link withReporter} swaps it for a region of the program, {@link silent}
 * turns it off, and {@link makeStream} turns the events into a `Stream` for a display of your own.
 *
 * **Example** (A bar on stderr while the batch runs)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { WorkerPool } from "effect-parallel"
 * import { Render } from "./tasks.ts"
 *
 * const program = Effect.gen(function*() {
 *   const frames = yield* WorkerPool.map(Render, scenes, { progress: { label: "render" } })
 * })
 * // render [██████████████░░░░░░░░░░░░░░░░░░░░░░░░░░] 36/100 36% 12.0/s elapsed 3s ETA 6s
 * ```
 *
 * @since 0.1.0
 */
import "./internal/nodeVersion.ts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import { makeTerminal } from "./internal/progress/render.ts"

/**
 * What a batch tells its reporter.
 *
 * - `Started`: the batch began; `total` is the number of items when it is known up front (an array),
 *   `undefined` for an iterable or a stream.
 * - `Advanced`: tasks settled. `done` counts every settled task, failures included; `failed` is how many
 *   of them failed. Both are running totals, not increments.
 * - `TaskProgress`: the task at `index` called `TaskContext.progress(fraction)`, `fraction` in 0..1.
 * - `Finished`: the batch ended — all done, failed or interrupted — with the final counts.
 *
 * `at` is `Date.now()` when the event was made; `label` names the batch (`progress: { label }`).
 *
 * @category models
 * @since 0.1.0
 */
export type ProgressEvent =
  | {
    readonly _tag: "Started"
    readonly label: string
    readonly total: number | undefined
    readonly at: number
  }
  | {
    readonly _tag: "Advanced"
    readonly label: string
    readonly done: number
    readonly failed: number
    readonly total: number | undefined
    readonly at: number
  }
  | {
    readonly _tag: "TaskProgress"
    readonly label: string
    readonly index: number
    readonly fraction: number
    readonly at: number
  }
  | {
    readonly _tag: "Finished"
    readonly label: string
    readonly done: number
    readonly failed: number
    readonly total: number | undefined
    readonly at: number
  }

/**
 * Receives the progress events of every batch run with `progress` enabled.
 *
 * **Gotchas**
 *
 * `report` is called synchronously on the pool's path, once per settled task: it must be cheap and must
 * never throw. Do the slow work (drawing, sending) elsewhere: {@link makeStream} hands events to a fiber
 * of your own through a bounded buffer.
 *
 * @category models
 * @since 0.1.0
 */
export interface Reporter {
  readonly report: (event: ProgressEvent) => void
}

/**
 * Options of {@link terminal}.
 *
 * - `stream`: where lines go; default `process.stderr` (never stdout, which belongs to the program's output).
 * - `isTTY`: force live redrawing on or off; default `stream.isTTY`.
 * - `intervalMillis`: the least time between two updates of a label; default 100 on a TTY, 5000 otherwise.
 *   `Started` and `Finished` are always written at once.
 * - `now`: the clock, default `Date.now`; it must agree with the events' `at` (tests inject both).
 *
 * @category models
 * @since 0.1.0
 */
export interface TerminalOptions {
  readonly stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }
  readonly isTTY?: boolean
  readonly intervalMillis?: number
  readonly now?: () => number
}

/**
 * Builds a reporter that draws progress on a terminal, or writes plain lines when the stream is not one.
 *
 * **When to use**
 *
 * It is the default {@link Reporter}; build one yourself to write somewhere else than stderr, to force
 * plain lines (`isTTY: false`), or to change how often lines are written.
 *
 * **Details**
 *
 * On a TTY each running batch has one live line, redrawn in place (`\r`, clear-line) at most every 100 ms,
 * and at least every second so elapsed time and ETA move:
 *
 * ```text
 * render [████████████████████████░░░░░░░░░░░░░░░░] 60/100 60% 12.0/s elapsed 5s ETA 4s 1 failed
 * scan 1,234 done 56.7/s elapsed 21s
 * ```
 *
 * The rate is settled tasks per second since the start; ETA extrapolates it; failures show only when
 * there are some; a batch of unknown size shows a counter. The line is fitted to the terminal's width.
 * Partial progress from `TaskContext.progress` fills the bar between settled tasks (useful for a few long
 * tasks), but the counts only move when tasks settle and 100% means every task settled. On `Finished` the
 * line is drawn a last time (`elapsed … ETA …` becomes `in …`) and ended with a newline.
 *
 * Several batches at once get one line each, stacked in the order they started; a finished batch's line
 * moves above the ones still running.
 *
 * Elsewhere (CI logs, a file, a pipe) it writes a plain line on `Started`, then at most one every 5 s per
 * batch while something changes, and one on `Finished`:
 *
 * ```text
 * render: 60/100 (60%) 12.0/s elapsed 5s ETA 4s, 1 failed
 * ```
 *
 * **Gotchas**
 *
 * - On a TTY, anything else written to the same terminal while a line is live (a log line without a
 *   newline first) lands after the bar; the next redraw goes on from there.
 * - Labels identify batches: two batches running at once with the same label share one line.
 *
 * **Example** (Progress lines in a file instead of stderr)
 *
 * ```ts
 * import * as fs from "node:fs"
 * import { Progress, WorkerPool } from "effect-parallel"
 *
 * const reporter = Progress.terminal({ stream: fs.createWriteStream("progress.log"), intervalMillis: 1000 })
 * WorkerPool.map(Render, scenes, { progress: true }).pipe(Progress.withReporter(reporter))
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const terminal = (options?: TerminalOptions): Reporter => makeTerminal(options)

/**
 * A reporter that ignores every event.
 *
 * **Example** (No progress output in tests)
 *
 * ```ts
 * program.pipe(Progress.withReporter(Progress.silent))
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const silent: Reporter = { report: () => {} }

/**
 * The reporter batches send their progress to.
 *
 * **Details**
 *
 * A context reference: with nothing provided it is one {@link terminal} reporter on stderr, created the first
 * time it is read and shared by the whole program (so concurrent batches stack their lines on one
 * display). Provide another with {@link withReporter}.
 *
 * **Example** (Reading the reporter in effect)
 *
 * ```ts
 * const reporter = yield* Progress.Reporter
 * reporter.report({ _tag: "Started", label: "import", total: undefined, at: Date.now() })
 * ```
 *
 * @category services
 * @since 0.1.0
 */
export const Reporter: Context.Reference<Reporter> = Context.Reference<Reporter>(
  "effect-parallel/Progress/Reporter",
  { defaultValue: () => terminal() }
)

/**
 * Sends the progress of every batch in an effect to `reporter` instead of the default one.
 *
 * **Example** (Silence one step, keep the bar for the others)
 *
 * ```ts
 * yield* WorkerPool.map(Warmup, items, { progress: true }).pipe(Progress.withReporter(Progress.silent))
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const withReporter: {
  (reporter: Reporter): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, reporter: Reporter): Effect.Effect<A, E, R>
} = dual(
  2,
  <A, E, R>(self: Effect.Effect<A, E, R>, reporter: Reporter): Effect.Effect<A, E, R> =>
    Effect.provideService(self, Reporter, reporter)
)

/**
 * How many events {@link makeStream} keeps for a consumer that falls behind.
 *
 * @category constructors
 * @since 0.1.0
 */
export const streamCapacity = 1024

/**
 * Builds a reporter whose events come out of a `Stream`, for a display of your own.
 *
 * **When to use**
 *
 * To render progress somewhere the terminal reporter cannot: a web socket, a TUI, metrics, a test.
 *
 * **Details**
 *
 * Events arrive in the order they were reported. The stream ends when the scope `makeStream` ran in
 * closes, after the events still buffered.
 *
 * **Gotchas**
 *
 * - The buffer holds the latest {@link streamCapacity} events: a consumer that falls behind loses the
 *   oldest ones rather than slowing the pool down. Counts in `Advanced` are running totals, so a lost
 *   event only delays the display.
 * - The stream has one consumer (use `Stream.broadcast` for several).
 * - A consumer forked with `Effect.forkScoped` into the same scope is interrupted before the stream ends
 *   (finalizers run last-in first-out), so it may miss the last events (`Finished`). To see them, fork it
 *   with `Effect.forkChild` and join it after the scope closed, as below.
 *
 * **Example** (A display of your own)
 *
 * ```ts
 * import { Console, Effect, Fiber, Stream } from "effect"
 * import { Progress, WorkerPool } from "effect-parallel"
 *
 * const program = Effect.gen(function*() {
 *   const display = yield* Effect.scoped(Effect.gen(function*() {
 *     const { reporter, events } = yield* Progress.makeStream
 *     const display = yield* Stream.runForEach(events, (e) =>
 *       e._tag === "Advanced" ? Console.log(`${e.label}: ${e.done}/${e.total ?? "?"}`) : Effect.void
 *     ).pipe(Effect.forkChild)
 *     yield* WorkerPool.map(Render, scenes, { progress: true }).pipe(Progress.withReporter(reporter))
 *     return display
 *   }))
 *   yield* Fiber.join(display) // the stream ended with the scope: wait until the last events are shown
 * })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeStream: Effect.Effect<
  { readonly reporter: Reporter; readonly events: Stream.Stream<ProgressEvent> },
  never,
  Scope.Scope
> = Effect.flatMap(
  // loaded on first use: importing the package does not load effect/Stream (see internal/lazy.ts)
  Effect.promise(() => import("./internal/progress/stream.ts")),
  (m) => m.makeStream(streamCapacity)
)
