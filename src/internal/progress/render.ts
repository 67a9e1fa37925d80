/**
 * The terminal progress renderer: per-label state, pure line formatting, and the throttled writer behind
 * `Progress.terminal`.
 *
 * Everything that decides *what a line says* is a pure function of a `LabelState` and a clock reading
 * (`formatTty`, `formatPlain`), so tests check exact strings. The writer (`makeTerminal`) only decides
 * *when* to write and how to place lines on a TTY.
 */
import { clearTimeout, setTimeout } from "node:timers"
import type { ProgressEvent, Reporter, TerminalOptions } from "../../Progress.ts"

// ---------------------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------------------

/**
 * What the renderer knows about one label. Mutable on purpose: it is updated on every event of a batch and
 * never shared outside the renderer (tests build one with `makeState` + `applyEvent`).
 */
export interface LabelState {
  readonly label: string
  total: number | undefined
  /** Tasks settled so far, failures included. */
  done: number
  /** Tasks that failed (a subset of `done`). */
  failed: number
  startedAt: number
  finishedAt: number | undefined
  /**
   * Latest partial progress (0..1) of recently reported, still unsettled tasks, by task index; insertion
   * order is recency order (an update deletes and re-inserts).
   */
  readonly partials: Map<number, number>
}

/** At most this many task fractions are remembered per label (the oldest report is forgotten first). */
export const MAX_PARTIALS = 256

export const makeState = (label: string, total: number | undefined, at: number): LabelState => ({
  label,
  total,
  done: 0,
  failed: 0,
  startedAt: at,
  finishedAt: undefined,
  partials: new Map()
})

const clampFraction = (fraction: number): number =>
  Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0

/**
 * Forgets `count` partial fractions, the highest first.
 *
 * An `Advanced` event says how many tasks settled, not which: the tasks closest to completion are the best
 * guess. A wrong guess is harmless: the task that is really still running reports again and reappears, so
 * the bar does not move backwards (done grows by 1 while at most 1 is removed).
 */
const forgetHighest = (partials: Map<number, number>, count: number): void => {
  if (count >= partials.size) {
    partials.clear()
    return
  }
  const byFraction = Array.from(partials).sort((a, b) => b[1] - a[1])
  for (let i = 0; i < count; i++) partials.delete(byFraction[i]![0])
}

/**
 * Folds one event into the state of its label (`undefined` when the label has not been seen) and returns
 * the state to keep. `Started` always starts afresh; other events without a `Started` start the clock at
 * their own `at`.
 */
export const applyEvent = (state: LabelState | undefined, event: ProgressEvent): LabelState => {
  switch (event._tag) {
    case "Started":
      return makeState(event.label, event.total, event.at)
    case "TaskProgress": {
      const s = state ?? makeState(event.label, undefined, event.at)
      s.partials.delete(event.index)
      s.partials.set(event.index, clampFraction(event.fraction))
      if (s.partials.size > MAX_PARTIALS) {
        const oldest = s.partials.keys().next()
        if (oldest.done !== true) s.partials.delete(oldest.value)
      }
      return s
    }
    case "Advanced":
    case "Finished": {
      const s = state ?? makeState(event.label, event.total, event.at)
      const settled = event.done - s.done
      if (settled > 0) forgetHighest(s.partials, settled)
      s.done = event.done
      s.failed = event.failed
      s.total = event.total
      if (event._tag === "Finished") {
        s.finishedAt = event.at
        s.partials.clear()
      }
      return s
    }
  }
}

/**
 * Settled tasks plus the partial fractions of running ones, never above `total`. Only meaningful with a
 * known total; a finished batch counts only what settled.
 */
export const effectiveDone = (state: LabelState): number => {
  if (state.total === undefined || state.finishedAt !== undefined || state.partials.size === 0) return state.done
  let sum = 0
  for (const fraction of state.partials.values()) sum += fraction
  return Math.min(state.total, state.done + sum)
}

// ---------------------------------------------------------------------------------------------------------
// Pure formatting
// ---------------------------------------------------------------------------------------------------------

/** Groups thousands with commas, independently of the locale (logs must read the same everywhere). */
export const formatCount = (n: number): string => {
  const sign = n < 0 ? "-" : ""
  return sign + String(Math.trunc(Math.abs(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ",")
}

/** One decimal, thousands grouped: `12.3`, `1,234.5`. */
export const formatRate = (perSecond: number): string => {
  const tenths = Math.round(perSecond * 10)
  return `${formatCount(Math.trunc(tenths / 10))}.${Math.abs(tenths % 10)}`
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n))

/** `7s`, `1m05s`, `2h03m`: seconds rounded down (elapsed) or up (ETA). */
export const formatDuration = (millis: number, rounding: "floor" | "ceil"): string => {
  const seconds = Math.max(0, rounding === "ceil" ? Math.ceil(millis / 1000) : Math.floor(millis / 1000))
  if (seconds < 60) return `${seconds}s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${pad2(seconds % 60)}s`
  return `${Math.floor(seconds / 3600)}h${pad2(Math.floor((seconds % 3600) / 60))}m`
}

interface Figures {
  readonly count: string
  readonly percent: number | undefined
  /** 0..1 of the bar to fill. */
  readonly ratio: number
  /** Every task settled: the only case with a full bar. */
  readonly complete: boolean
  readonly rate: string
  readonly timing: string
  readonly failed: number
}

const figures = (state: LabelState, now: number): Figures => {
  const finished = state.finishedAt !== undefined
  const elapsed = Math.max(0, (state.finishedAt ?? now) - state.startedAt)
  const rate = elapsed > 0 ? state.done / (elapsed / 1000) : 0
  let timing = finished ? `in ${formatDuration(elapsed, "floor")}` : `elapsed ${formatDuration(elapsed, "floor")}`
  const total = state.total
  if (total === undefined) {
    return {
      count: formatCount(state.done),
      percent: undefined,
      ratio: 0,
      complete: false,
      rate: formatRate(rate),
      timing,
      failed: state.failed
    }
  }
  const complete = state.done >= total
  const effective = effectiveDone(state)
  // 100% and a full bar only when every task settled: partial fractions never round a batch up to done.
  const percent = total <= 0
    ? 100
    : complete
    ? Math.floor((state.done * 100) / total)
    : Math.min(99, Math.floor((effective * 100) / total))
  // ETA extrapolates the average pace of the settled-plus-partial work: with no partials that is exactly
  // `(total - done) / rate`; for a batch of a few long tasks it is the only estimate there is.
  if (!finished && !complete && effective > 0 && elapsed > 0) {
    timing += ` ETA ${formatDuration((elapsed * (total - effective)) / effective, "ceil")}`
  }
  return {
    count: `${formatCount(state.done)}/${formatCount(total)}`,
    percent,
    ratio: complete ? 1 : Math.min(1, effective / total),
    complete,
    rate: formatRate(rate),
    timing,
    failed: state.failed
  }
}

/** Widest bar drawn, however wide the terminal: past this a wider bar tells nothing more. */
export const MAX_BAR_WIDTH = 40
/** Narrowest bar worth drawing; below this the line goes without one. */
export const MIN_BAR_WIDTH = 5

const bar = (ratio: number, complete: boolean, width: number): string => {
  const filled = complete ? width : Math.min(width - 1, Math.floor(ratio * width))
  return "█".repeat(filled) + "░".repeat(width - filled)
}

/** Cuts a line to `max` characters, marking the cut with an ellipsis. */
const fit = (line: string, max: number): string =>
  line.length <= max ? line : max <= 1 ? line.slice(0, max) : `${line.slice(0, max - 1)}…`

/**
 * The live line of a label on a terminal, fitted to `columns - 1` characters (the last column is left
 * empty so the terminal never wraps the line, which would break the in-place redraw):
 *
 * - known total: `label [██████░░░░] 60/100 60% 12.0/s elapsed 5s ETA 4s 1 failed`
 * - unknown total: `label 1,234 done 56.7/s elapsed 21s`
 * - finished: `elapsed …  ETA …` becomes `in …`.
 *
 * The bar takes the room a typical tail leaves, between {@link MIN_BAR_WIDTH} and {@link MAX_BAR_WIDTH}
 * cells; with less room it is dropped, and a line still too long is cut with `…`.
 */
export const formatTty = (state: LabelState, now: number, columns: number): string => {
  const max = Math.max(1, (Number.isFinite(columns) && columns > 0 ? Math.floor(columns) : 80) - 1)
  const f = figures(state, now)
  const failed = f.failed > 0 ? ` ${formatCount(f.failed)} failed` : ""
  if (f.percent === undefined) {
    return fit(`${state.label} ${f.count} done ${f.rate}/s ${f.timing}${failed}`, max)
  }
  const tail = ` ${f.count} ${f.percent}% ${f.rate}/s ${f.timing}${failed}`
  // The bar's width leaves room for a typical tail rather than the current one, so it stays put while
  // the tail grows and shrinks (ETA appears, `elapsed … ETA …` turns into `in …`).
  // Failures are not typical: the first one narrows the bar, once.
  const total = formatCount(state.total ?? 0)
  const typical = ` ${total}/${total} 100% 99.9/s elapsed 9m59s ETA 9m59s${failed}`.length
  const width = Math.min(MAX_BAR_WIDTH, max - state.label.length - Math.max(tail.length, typical) - 3)
  const line = width >= MIN_BAR_WIDTH
    ? `${state.label} [${bar(f.ratio, f.complete, width)}]${tail}`
    : `${state.label}${tail}`
  return fit(line, max)
}

/**
 * A label's line for logs (no escape codes, no width limit):
 *
 * - known total: `label: 60/100 (60%) 12.0/s elapsed 5s ETA 4s, 1 failed`
 * - unknown total: `label: 1,234 done 56.7/s elapsed 21s`
 * - finished: `elapsed …  ETA …` becomes `in …`.
 */
export const formatPlain = (state: LabelState, now: number): string => {
  const f = figures(state, now)
  const failed = f.failed > 0 ? `, ${formatCount(f.failed)} failed` : ""
  return f.percent === undefined
    ? `${state.label}: ${f.count} done ${f.rate}/s ${f.timing}${failed}`
    : `${state.label}: ${f.count} (${f.percent}%) ${f.rate}/s ${f.timing}${failed}`
}

// ---------------------------------------------------------------------------------------------------------
// The terminal reporter
// ---------------------------------------------------------------------------------------------------------

/** On a TTY, how long the live lines may stay unchanged before they are redrawn to move elapsed / ETA. */
export const HEARTBEAT_MILLIS = 1000

const CLEAR_LINE = "\x1b[2K"

const terminals = new WeakSet<Reporter>()

/** Tells whether a reporter was made by {@link makeTerminal}. */
export const isTerminal = (reporter: Reporter): boolean => terminals.has(reporter)

/**
 * Builds the terminal reporter.
 *
 * **TTY**: the labels being run form a block of live lines at the bottom, one per label in the order they
 * started, cursor at the end of the last one. A redraw goes back to the block's first line (`\r`, cursor up)
 * and rewrites every line after a clear-line. A finished label's final line is written above the block,
 * followed by a newline, so it stays in the scrollback while the others go on. Redraws happen on `Started`
 * and `Finished`, at most once per `intervalMillis` (default 100) for other events, with a trailing redraw
 * when events were held back, and every {@link HEARTBEAT_MILLIS} while a label is live, so elapsed and ETA
 * move during long tasks.
 *
 * **Not a TTY**: one line per label on `Started`, then at most one per label every `intervalMillis`
 * (default 5000) when something changed, and one on `Finished`.
 *
 * `Advanced` and `TaskProgress` for a label that is not running (no `Started`, or already `Finished`) are
 * ignored. Timers are `unref`ed: a live line never keeps the process alive.
 */
export const makeTerminal = (options: TerminalOptions = {}): Reporter => {
  const stream = options.stream ?? process.stderr
  const tty = options.isTTY ?? stream.isTTY === true
  const interval = options.intervalMillis !== undefined && options.intervalMillis >= 0
    ? options.intervalMillis
    : tty
    ? 100
    : 5000
  const heartbeat = Math.max(interval, HEARTBEAT_MILLIS)
  const now = options.now ?? Date.now
  const states = new Map<string, LabelState>()

  // An update for a label that is not running (it finished, or never started) would revive a line that
  // no `Finished` will ever end: a task settling after its batch was interrupted, say. Drop it.
  const isStray = (event: ProgressEvent): boolean =>
    (event._tag === "Advanced" || event._tag === "TaskProgress") && !states.has(event.label)

  const write = (text: string): void => {
    stream.write(text)
  }

  let timer: ReturnType<typeof setTimeout> | undefined
  let timerDue = Infinity
  const cancel = (): void => {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
    timerDue = Infinity
  }
  const schedule = (due: number): void => {
    if (timer !== undefined && timerDue <= due) return
    cancel()
    timerDue = due
    timer = setTimeout(onTimer, Math.max(0, due - now()))
    timer.unref()
  }

  // --- TTY: a block of live lines -------------------------------------------------------------------
  const active: Array<string> = []
  /** Lines of the live block on screen; the cursor is at the end of its last line. */
  let blockLines = 0
  let lastDraw = -Infinity
  let dirty = false

  const columns = (): number => {
    const c = stream.columns
    return typeof c === "number" && c > 0 ? c : 80
  }

  const drawTty = (permanent: ReadonlyArray<string>, t: number): void => {
    // Back to the first line of the block. Invariant: permanent + active lines >= blockLines (a label
    // leaves the block only by turning into a permanent line), so every old line is overwritten.
    let out = blockLines > 1 ? `\r\x1b[${blockLines - 1}A` : "\r"
    for (const line of permanent) out += `${CLEAR_LINE}${line}\n`
    const cols = columns()
    for (let i = 0; i < active.length; i++) {
      out += CLEAR_LINE + formatTty(states.get(active[i]!)!, t, cols) + (i < active.length - 1 ? "\n" : "")
    }
    blockLines = active.length
    lastDraw = t
    dirty = false
    write(out)
  }

  const pumpTty = (force: boolean, permanent: ReadonlyArray<string>): void => {
    const t = now()
    if (
      force || permanent.length > 0 || (dirty && t - lastDraw >= interval) ||
      (active.length > 0 && t - lastDraw >= heartbeat)
    ) {
      drawTty(permanent, t)
    }
    if (dirty) schedule(lastDraw + interval)
    else if (active.length > 0) schedule(lastDraw + heartbeat)
    else cancel()
  }

  const onTty = (event: ProgressEvent): void => {
    if (isStray(event)) return
    const state = applyEvent(states.get(event.label), event)
    switch (event._tag) {
      case "Started": {
        states.set(event.label, state)
        if (!active.includes(event.label)) active.push(event.label)
        return pumpTty(true, [])
      }
      case "Advanced":
      case "TaskProgress": {
        dirty = true
        return pumpTty(false, [])
      }
      case "Finished": {
        states.delete(event.label)
        const at = active.indexOf(event.label)
        if (at >= 0) active.splice(at, 1)
        return pumpTty(false, [formatTty(state, now(), columns())])
      }
    }
  }

  // --- Not a TTY: plain lines ------------------------------------------------------------------------
  const lastPrinted = new Map<string, number>()
  const pending = new Set<string>()

  const printPlain = (state: LabelState, t: number): void => {
    lastPrinted.set(state.label, t)
    pending.delete(state.label)
    write(`${formatPlain(state, t)}\n`)
  }

  const pumpPlain = (): void => {
    const t = now()
    let next = Infinity
    for (const label of pending) {
      const last = lastPrinted.get(label) ?? -Infinity
      if (t - last >= interval) printPlain(states.get(label)!, t)
      else next = Math.min(next, last + interval)
    }
    if (next < Infinity) schedule(next)
    else cancel()
  }

  const onPlain = (event: ProgressEvent): void => {
    if (isStray(event)) return
    const state = applyEvent(states.get(event.label), event)
    switch (event._tag) {
      case "Started": {
        states.set(event.label, state)
        printPlain(state, now())
        return pumpPlain()
      }
      case "Advanced":
      case "TaskProgress": {
        pending.add(event.label)
        return pumpPlain()
      }
      case "Finished": {
        states.delete(event.label)
        printPlain(state, now())
        lastPrinted.delete(event.label)
        return pumpPlain()
      }
    }
  }

  // A reporter must never throw into the pool: a broken stream or a bad event costs a line, not a batch.
  function onTimer(): void {
    timer = undefined
    timerDue = Infinity
    try {
      if (tty) pumpTty(false, [])
      else pumpPlain()
    } catch {
      // ignored: see above
    }
  }

  const reporter: Reporter = {
    report: (event) => {
      try {
        if (tty) onTty(event)
        else onPlain(event)
      } catch {
        // ignored: see above
      }
    }
  }
  terminals.add(reporter)
  return reporter
}
