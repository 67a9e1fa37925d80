import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Stream } from "effect"
import * as Progress from "../src/Progress.ts"
import type { ProgressEvent } from "../src/Progress.ts"
import {
  applyEvent,
  formatDuration,
  formatPlain,
  formatRate,
  formatTty,
  isTerminal,
  makeState
} from "../src/internal/progress/render.ts"

/** A stream that records what is written, and a clock the test moves by hand. */
const fakeTerminal = (options: { readonly isTTY: boolean; readonly columns?: number; readonly intervalMillis?: number }) => {
  const writes: Array<string> = []
  let time = 0
  const stream = {
    isTTY: options.isTTY,
    columns: options.columns ?? 80,
    write: (chunk: string) => {
      writes.push(chunk)
      return true
    }
  } as unknown as NodeJS.WritableStream & { isTTY?: boolean; columns?: number }
  const reporter = Progress.terminal({
    stream,
    now: () => time,
    ...(options.intervalMillis === undefined ? {} : { intervalMillis: options.intervalMillis })
  })
  const report = (event: ProgressEvent): void => {
    time = event.at
    reporter.report(event)
  }
  return { writes, report, setTime: (t: number) => (time = t) }
}

const started = (label: string, total: number | undefined, at: number): ProgressEvent => ({
  _tag: "Started",
  label,
  total,
  at
})
const advanced = (label: string, done: number, total: number | undefined, at: number, failed = 0): ProgressEvent => ({
  _tag: "Advanced",
  label,
  done,
  failed,
  total,
  at
})
const finished = (label: string, done: number, total: number | undefined, at: number, failed = 0): ProgressEvent => ({
  _tag: "Finished",
  label,
  done,
  failed,
  total,
  at
})
const taskProgress = (label: string, index: number, fraction: number, at: number): ProgressEvent => ({
  _tag: "TaskProgress",
  label,
  index,
  fraction,
  at
})

const CR_CLEAR = "\r\x1b[2K"

describe("Progress", () => {
  describe("formatting", () => {
    it("formats a TTY line with a bar fitted to the columns, rate, elapsed, ETA and failures", () => {
      const s = applyEvent(makeState("render", 100, 0), advanced("render", 60, 100, 5000, 1))
      const line = formatTty(s, 5000, 80)
      assert.strictEqual(line, "render [██████████░░░░░░░] 60/100 60% 12.0/s elapsed 5s ETA 4s 1 failed")
      assert.isAtMost(formatTty(s, 5000, 60).length, 59)
    })

    it("formats a plain line without escape codes", () => {
      const s = applyEvent(makeState("render", 100, 0), advanced("render", 60, 100, 5000, 1))
      assert.strictEqual(formatPlain(s, 5000), "render: 60/100 (60%) 12.0/s elapsed 5s ETA 4s, 1 failed")
    })

    it("shows a counter when the total is unknown", () => {
      const s = applyEvent(makeState("scan", undefined, 0), advanced("scan", 1234, undefined, 21_770))
      assert.strictEqual(formatTty(s, 21_770, 80), "scan 1,234 done 56.7/s elapsed 21s")
      assert.strictEqual(formatPlain(s, 21_770), "scan: 1,234 done 56.7/s elapsed 21s")
    })

    it("shows failures only when there are some", () => {
      const ok = applyEvent(makeState("a", 10, 0), advanced("a", 5, 10, 1000))
      assert.notInclude(formatTty(ok, 1000, 80), "failed")
      assert.notInclude(formatPlain(ok, 1000), "failed")
      const bad = applyEvent(makeState("a", 10, 0), advanced("a", 5, 10, 1000, 2))
      assert.isTrue(formatTty(bad, 1000, 80).endsWith(" 2 failed"))
      assert.isTrue(formatPlain(bad, 1000).endsWith(", 2 failed"))
    })

    it("replaces elapsed and ETA with the total time once finished, and keeps the bar's width", () => {
      const s = makeState("render", 100, 0)
      applyEvent(s, advanced("render", 50, 100, 4000))
      const live = formatTty(s, 4000, 80)
      applyEvent(s, finished("render", 100, 100, 8000))
      const done = formatTty(s, 9999, 80)
      assert.strictEqual(done, "render [██████████████████████████] 100/100 100% 12.5/s in 8s")
      assert.strictEqual(live.indexOf("]"), done.indexOf("]"))
      assert.strictEqual(formatPlain(s, 9999), "render: 100/100 (100%) 12.5/s in 8s")
    })

    it("drops the bar on a narrow terminal and cuts what still does not fit", () => {
      const s = applyEvent(makeState("render", 100, 0), advanced("render", 60, 100, 5000, 1))
      assert.strictEqual(formatTty(s, 5000, 40), "render 60/100 60% 12.0/s elapsed 5s ET…")
      assert.strictEqual(formatTty(s, 5000, 200).match(/[█░]/g)?.length, 40)
    })

    it("fills the bar with the fractions of running tasks, but counts and 100% only settled tasks", () => {
      const s = makeState("one", 2, 0)
      applyEvent(s, taskProgress("one", 0, 0.5, 1000))
      applyEvent(s, taskProgress("one", 1, 0.5, 2000))
      // 0 settled + 0.5 + 0.5 = half of 2 tasks
      assert.strictEqual(formatPlain(s, 2000), "one: 0/2 (50%) 0.0/s elapsed 2s ETA 2s")
      applyEvent(s, taskProgress("one", 0, 1, 3000))
      applyEvent(s, taskProgress("one", 1, 1, 3000))
      assert.strictEqual(formatPlain(s, 3000), "one: 0/2 (99%) 0.0/s elapsed 3s ETA 0s")
      assert.include(formatTty(s, 3000, 80), "░] 0/2")
      // one task settles: the highest fraction is forgotten, the other still counts
      applyEvent(s, taskProgress("one", 1, 0.2, 3500))
      applyEvent(s, advanced("one", 1, 2, 4000))
      assert.deepStrictEqual(Array.from(s.partials), [[1, 0.2]])
      assert.strictEqual(formatPlain(s, 4000), "one: 1/2 (60%) 0.3/s elapsed 4s ETA 3s")
      applyEvent(s, finished("one", 2, 2, 5000))
      assert.strictEqual(s.partials.size, 0)
      assert.include(formatTty(s, 5000, 80), "█] 2/2 100%")
    })

    it("formats durations and rates", () => {
      assert.strictEqual(formatDuration(999, "floor"), "0s")
      assert.strictEqual(formatDuration(1, "ceil"), "1s")
      assert.strictEqual(formatDuration(65_000, "floor"), "1m05s")
      assert.strictEqual(formatDuration(7_380_000, "floor"), "2h03m")
      assert.strictEqual(formatRate(1234.56), "1,234.6")
      assert.strictEqual(formatRate(0), "0.0")
    })
  })

  describe("terminal, on a TTY", () => {
    it("redraws one line in place and ends it with a newline on Finished", () => {
      const t = fakeTerminal({ isTTY: true })
      t.report(started("render", 100, 0))
      t.report(advanced("render", 60, 100, 5000, 1))
      t.report(finished("render", 100, 100, 8000, 1))
      assert.deepStrictEqual(t.writes, [
        `${CR_CLEAR}render [░░░░░░░░░░░░░░░░░░░░░░░░░░] 0/100 0% 0.0/s elapsed 0s`,
        `${CR_CLEAR}render [██████████░░░░░░░] 60/100 60% 12.0/s elapsed 5s ETA 4s 1 failed`,
        `${CR_CLEAR}render [█████████████████] 100/100 100% 12.5/s in 8s 1 failed\n`
      ])
    })

    it("redraws at most once per 100 ms however many events arrive", () => {
      const t = fakeTerminal({ isTTY: true })
      t.report(started("render", 1000, 0))
      for (let i = 1; i <= 50; i++) t.report(advanced("render", i, 1000, 1 + i))
      assert.strictEqual(t.writes.length, 1)
      t.report(advanced("render", 51, 1000, 100))
      assert.strictEqual(t.writes.length, 2)
      assert.include(t.writes[1], " 51/1,000 ")
      t.report(finished("render", 52, 1000, 120))
      assert.strictEqual(t.writes.length, 3)
    })

    it.live("draws the events it held back once the interval is over", () =>
      Effect.gen(function*() {
        const writes: Array<string> = []
        const stream = { isTTY: true, write: (s: string) => writes.push(s) > 0 } as unknown as NodeJS.WritableStream
        const reporter = Progress.terminal({ stream, intervalMillis: 30 })
        reporter.report(started("render", 10, Date.now()))
        for (let i = 1; i <= 5; i++) reporter.report(advanced("render", i, 10, Date.now()))
        assert.strictEqual(writes.length, 1)
        yield* Effect.sleep("300 millis")
        assert.strictEqual(writes.length, 2)
        assert.include(writes[1], " 5/10 50% ")
        reporter.report(finished("render", 10, 10, Date.now()))
      }))

    it("shows a counter for an unknown total", () => {
      const t = fakeTerminal({ isTTY: true })
      t.report(started("scan", undefined, 0))
      t.report(advanced("scan", 1234, undefined, 21_770))
      t.report(finished("scan", 1300, undefined, 22_000))
      assert.deepStrictEqual(t.writes, [
        `${CR_CLEAR}scan 0 done 0.0/s elapsed 0s`,
        `${CR_CLEAR}scan 1,234 done 56.7/s elapsed 21s`,
        `${CR_CLEAR}scan 1,300 done 59.1/s in 22s\n`
      ])
    })

    it("stacks concurrent labels, one line each, and moves a finished one above the others", () => {
      const t = fakeTerminal({ isTTY: true, columns: 40 })
      t.report(started("a", undefined, 0))
      t.report(started("b", undefined, 0))
      t.report(advanced("a", 5, undefined, 1000))
      t.report(finished("a", 6, undefined, 2000))
      t.report(finished("b", 1, undefined, 2000))
      assert.deepStrictEqual(t.writes, [
        `${CR_CLEAR}a 0 done 0.0/s elapsed 0s`,
        `${CR_CLEAR}a 0 done 0.0/s elapsed 0s\n\x1b[2Kb 0 done 0.0/s elapsed 0s`,
        `\r\x1b[1A\x1b[2Ka 5 done 5.0/s elapsed 1s\n\x1b[2Kb 0 done 0.0/s elapsed 1s`,
        `\r\x1b[1A\x1b[2Ka 6 done 3.0/s in 2s\n\x1b[2Kb 0 done 0.0/s elapsed 2s`,
        `${CR_CLEAR}b 1 done 0.5/s in 2s\n`
      ])
    })

    it("ignores updates for a label that is not running", () => {
      const t = fakeTerminal({ isTTY: true })
      t.report(advanced("ghost", 1, 2, 0))
      t.report(started("x", 2, 0))
      t.report(finished("x", 2, 2, 1000))
      t.report(advanced("x", 3, 2, 2000))
      t.report(taskProgress("x", 0, 0.5, 3000))
      assert.deepStrictEqual(t.writes, [
        `${CR_CLEAR}x [${"░".repeat(35)}] 0/2 0% 0.0/s elapsed 0s`,
        `${CR_CLEAR}x [${"█".repeat(35)}] 2/2 100% 2.0/s in 1s\n`
      ])
    })

    it("never throws, even when the stream does", () => {
      const stream = {
        isTTY: true,
        write: () => {
          throw new Error("EPIPE")
        }
      } as unknown as NodeJS.WritableStream
      const reporter = Progress.terminal({ stream })
      reporter.report(started("x", 1, 0))
      reporter.report(finished("x", 1, 1, 1))
    })
  })

  describe("terminal, not on a TTY", () => {
    it("writes plain lines on Started, at most once per interval, and on Finished", () => {
      const t = fakeTerminal({ isTTY: false })
      t.report(started("render", 100, 0))
      t.report(advanced("render", 10, 100, 1000))
      t.report(advanced("render", 40, 100, 4999))
      t.report(advanced("render", 60, 100, 5000, 1))
      t.report(advanced("render", 61, 100, 6000, 1))
      t.report(finished("render", 100, 100, 8000, 1))
      assert.deepStrictEqual(t.writes, [
        "render: 0/100 (0%) 0.0/s elapsed 0s\n",
        "render: 60/100 (60%) 12.0/s elapsed 5s ETA 4s, 1 failed\n",
        "render: 100/100 (100%) 12.5/s in 8s, 1 failed\n"
      ])
      for (const line of t.writes) assert.notInclude(line, "\x1b")
    })

    it("writes a counter line when the total is unknown", () => {
      const t = fakeTerminal({ isTTY: false, intervalMillis: 1000 })
      t.report(started("scan", undefined, 0))
      t.report(advanced("scan", 1234, undefined, 21_770))
      assert.deepStrictEqual(t.writes, ["scan: 0 done 0.0/s elapsed 0s\n", "scan: 1,234 done 56.7/s elapsed 21s\n"])
    })

    it("uses options.isTTY over the stream's own flag", () => {
      const writes: Array<string> = []
      const stream = { isTTY: true, write: (s: string) => writes.push(s) > 0 } as unknown as NodeJS.WritableStream
      Progress.terminal({ stream, isTTY: false, now: () => 0 }).report(started("x", 3, 0))
      assert.deepStrictEqual(writes, ["x: 0/3 (0%) 0.0/s elapsed 0s\n"])
    })
  })

  describe("Reporter", () => {
    it.effect("defaults to one shared terminal reporter", () =>
      Effect.gen(function*() {
        const first = yield* Progress.Reporter
        const second = yield* Progress.Reporter
        assert.isTrue(isTerminal(first))
        assert.strictEqual(first, second)
        assert.isFalse(isTerminal(Progress.silent))
      }))

    it.effect("withReporter replaces it for the wrapped effect only", () =>
      Effect.gen(function*() {
        const inside = yield* Effect.service(Progress.Reporter).pipe(Progress.withReporter(Progress.silent))
        assert.strictEqual(inside, Progress.silent)
        const dataFirst = yield* Progress.withReporter(Effect.service(Progress.Reporter), Progress.silent)
        assert.strictEqual(dataFirst, Progress.silent)
        assert.isTrue(isTerminal(yield* Progress.Reporter))
      }))
  })

  describe("makeStream", () => {
    it.effect("delivers events in order and ends when its scope closes", () =>
      Effect.gen(function*() {
        const events: Array<ProgressEvent> = [
          started("s", 2, 0),
          taskProgress("s", 0, 0.5, 1),
          advanced("s", 1, 2, 2),
          advanced("s", 2, 2, 3),
          finished("s", 2, 2, 4)
        ]
        const fiber = yield* Effect.scoped(Effect.gen(function*() {
          const { events: stream, reporter } = yield* Progress.makeStream
          const fiber = yield* Effect.forkChild(Stream.runCollect(stream), { startImmediately: true })
          for (const event of events) reporter.report(event)
          yield* Effect.yieldNow
          return fiber
        }))
        assert.deepStrictEqual(yield* Fiber.join(fiber), events)
      }))

    it.effect("keeps the latest events when the consumer falls behind", () =>
      Effect.gen(function*() {
        const stream = yield* Effect.scoped(Effect.gen(function*() {
          const { events, reporter } = yield* Progress.makeStream
          for (let i = 1; i <= 2000; i++) reporter.report(advanced("s", i, 2000, i))
          return events
        }))
        const got = yield* Stream.runCollect(stream)
        assert.strictEqual(got.length, Progress.streamCapacity)
        assert.deepStrictEqual(got.at(-1), advanced("s", 2000, 2000, 2000))
        assert.deepStrictEqual(got[0], advanced("s", 2001 - Progress.streamCapacity, 2000, 2001 - Progress.streamCapacity))
      }))

    it.effect("reports nothing after the scope closed, without failing", () =>
      Effect.gen(function*() {
        const { reporter, events } = yield* Effect.scoped(Progress.makeStream)
        reporter.report(started("late", 1, 0))
        assert.deepStrictEqual(yield* Stream.runCollect(events), [])
      }))
  })
})
