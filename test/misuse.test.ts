/**
 * Programs that go wrong the ways a new user's programs do (issue 13). Each one fails at once with a typed
 * error that says how to fix it, or behaves as documented; none hangs, loops or silently runs the wrong
 * code. The whole programs run as child processes (with a timeout) where the mistake is in the program's
 * own main file.
 */
import { spawnSync } from "node:child_process"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { AsyncResult, WorkerError, WorkerPool } from "../src/index.ts"
import { backends } from "./conformance/backends.ts"
import { Cube, hidden, Square, Twice } from "./fixtures/duplicate-names.ts"
import { Point, SeeUnknown, SeeVec, Vec } from "./fixtures/class-tasks.ts"
import { Double, Sleep } from "./fixtures/tasks.ts"
import { SumBytes } from "./fixtures/transfer-tasks.ts"

const fixture = (name: string) => path.join(import.meta.dirname, "fixtures", name)

/** Runs a fixture program with this Node; a program that hangs is killed after `timeout` ms. */
const runProgram = (file: string, args: ReadonlyArray<string>, env: Record<string, string> = {}, timeout = 30_000) => {
  const start = performance.now()
  const r = spawnSync(process.execPath, [fixture(file), ...args], {
    encoding: "utf8",
    timeout,
    env: { ...process.env, ...env }
  })
  return { pid: r.pid, status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, millis: performance.now() - start }
}

const reasonOf = (e: unknown) => {
  assert.instanceOf(e, WorkerError.WorkerError)
  return (e as WorkerError.WorkerError).reason
}

describe("two tasks with one name in one module", () => {
  for (const backend of backends) {
    it.live(`${backend.name}: both are refused, naming both exports; an unexported twin is refused, naming where both are made`, () =>
      Effect.gen(function*() {
        for (const task of [Square, Cube]) {
          const r = reasonOf(yield* Effect.flip(task(2)))
          assert.strictEqual(r._tag, "TaskNotFound")
          assert.include(r.message, `the module has 2 different tasks named "Square" (exported as Cube and Square)`)
          assert.include(r.message, "give each task its own name")
        }
        for (const task of [Twice, hidden.Thrice]) {
          const r = reasonOf(yield* Effect.flip(task(2)))
          assert.strictEqual(r._tag, "TaskNotFound")
          assert.match(r.message, /2 different tasks named "Twice" \(Task\.make at file:\/\/\S+duplicate-names\.ts:\d+:\d+ and file:\/\/\S+duplicate-names\.ts:\d+:\d+\)/)
        }
        assert.strictEqual(yield* Double(21), 42, "the pool goes on")
        assert.strictEqual((yield* WorkerPool.stats).crashed, 0)
      }).pipe(Effect.provide(backend.layer({ size: 1 }))))
  }

  it("in-process, from the program's own main file still evaluating: refused too, naming where both are made", () => {
    const r = runProgram("duplicate-names.ts", [])
    assert.strictEqual(r.status, 0, r.stderr)
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { value?: number; error?: string })
    assert.strictEqual(lines.length, 4)
    for (const [k, line] of lines.entries()) {
      assert.isUndefined(line.value, `task ${k} must not run either handler`)
      assert.match(line.error!, /TaskNotFound|2 different tasks named "(Square|Twice)" \(Task\.make at /)
    }
  })
})

describe("an in-process pool in a program whose tasks are in its own main file, run with a top-level await", () => {
  it("runs the tasks instead of hanging (the main file is not imported while it evaluates)", () => {
    const r = runProgram("self-import.ts", ["pool"], {}, 20_000)
    assert.isNull(r.signal, `killed after ${Math.round(r.millis)} ms: it hung`)
    assert.strictEqual(r.status, 0, r.stderr)
    assert.strictEqual(r.stdout.trim(), "[49,[1,4,9]]")
  })

  it("Speedup.measure's default in-process baseline, with the main file in preload, does not hang either", () => {
    const r = runProgram("self-import.ts", ["speedup"], {}, 30_000)
    assert.isNull(r.signal, `killed after ${Math.round(r.millis)} ms: it hung`)
    assert.strictEqual(r.status, 0, r.stderr)
    assert.deepStrictEqual(JSON.parse(r.stdout.trim()), { baseline: "in-process", workers: [1] })
  })
})

describe("a program without the import.meta.main guard", () => {
  for (const run of ["runMain", "runPromiseExit"]) {
    for (const backend of ["threads", "processes"]) {
      it(`${run} on ${backend}: the first task fails at once with the guard message; no respawn loop, no program in a worker`, () => {
        const r = runProgram("no-guard.ts", [], { NO_GUARD_RUN: run, NO_GUARD_BACKEND: backend })
        assert.strictEqual(r.status, 0, `${r.stdout}${r.stderr}`)
        // the program's body ran once, in the parent: the workers' copies were stopped at their pool
        const bodies = r.stdout.split("\n").filter((l) => l.startsWith("program body ran"))
        assert.deepStrictEqual(bodies, [`program body ran in ${r.pid}/main`])
        const summary = JSON.parse(r.stdout.split("\n").find((l) => l.startsWith("{"))!) as {
          result: number | null
          reason: string
          message: string
          millis: number
          crashed: number
          spawned: number
        }
        assert.isNull(summary.result)
        assert.strictEqual(summary.reason, "TaskNotFound")
        assert.include(summary.message, "importing the module started a program in this worker: a WorkerPool was created inside a worker")
        assert.include(summary.message, "`if (import.meta.main) { ... }`")
        // no crash, no replacement: the two workers of the pool, nothing more (it used to take ~3 s of
        // crash-and-respawn before the caller saw "worker N crashed while running Square")
        assert.strictEqual(summary.crashed, 0)
        assert.strictEqual(summary.spawned, 2)
        assert.isBelow(summary.millis, 2_500, "the first task fails as soon as its worker has imported the module")
      })
    }
  }
})

describe("transfer", () => {
  for (const backend of backends) {
    const moves = backend.name === "threads"
    it.live(`${backend.name}: ${moves ? "moves the buffer (the caller's copy is detached)" : "copies (the caller's buffer stays usable)"}`, () =>
      Effect.gen(function*() {
        const bytes = Uint8Array.from({ length: 1024 }, (_, i) => i % 251)
        const expected = bytes.reduce((a, b) => a + b, 0)
        const result = yield* SumBytes(bytes, { transfer: [bytes.buffer] })
        assert.deepStrictEqual(result, { length: 1024, sum: expected })
        if (moves) {
          assert.strictEqual(bytes.buffer.byteLength, 0, "detached")
        } else {
          assert.strictEqual(bytes.byteLength, 1024, "still attached")
          assert.strictEqual(bytes.reduce((a, b) => a + b, 0), expected, "unchanged")
        }
      }).pipe(Effect.provide(backend.layer({ size: 1 }))))
  }
})

describe("an instance of your own class in a payload", () => {
  for (const backend of backends) {
    it.live(`${backend.name}: in a Schema.Unknown field it arrives as a plain object; with a Schema.Class it keeps its class`, () =>
      Effect.gen(function*() {
        const plain = yield* SeeUnknown({ value: new Point(3, 4) })
        assert.deepStrictEqual(plain.seen, { isPoint: false, isVec: false, prototype: "Object", fields: { x: 3, y: 4 } })
        assert.notInstanceOf(plain.value, Point)
        assert.deepStrictEqual(plain.value, { x: 3, y: 4 })

        const typed = yield* SeeVec({ value: new Vec({ x: 3, y: 4 }) })
        assert.deepStrictEqual(typed.seen, { isPoint: false, isVec: true, prototype: "Vec", fields: { x: 3, y: 4 } })
        assert.instanceOf(typed.value, Vec)
        assert.strictEqual(typed.value.norm(), 5)
      }).pipe(Effect.provide(backend.layer({ size: 1 }))))
  }
})

describe("get({ timeout }) on a cold pool", () => {
  // a worker that takes 800 ms to start: the initializer stands in for heavy imports in a task module
  const slowStart = { size: 1, initializer: { task: Sleep, payload: 800 } } as const
  for (const backend of backends) {
    it.live(`${backend.name}: get's timeout counts the start-up, run's timeout does not; after awaitReady get waits only for the task`, () =>
      Effect.gen(function*() {
        yield* Effect.scoped(
          Effect.gen(function*() {
            const handle = yield* WorkerPool.submit(Double, 21)
            const r = reasonOf(yield* Effect.flip(AsyncResult.get(handle, { timeout: "200 millis" })))
            assert.strictEqual(r._tag, "GetTimeout")
            assert.strictEqual(yield* AsyncResult.get(handle), 42, "the timed-out get did not cancel the task")
            const warm = yield* WorkerPool.submit(Double, 1)
            assert.strictEqual(yield* AsyncResult.get(warm, { timeout: "200 millis" }), 2)
          }).pipe(Effect.provide(backend.layer(slowStart)))
        )
        // run's timeout starts when the task starts in a worker, not while the worker starts
        assert.strictEqual(yield* WorkerPool.run(Double, 5, { timeout: "200 millis" }).pipe(Effect.provide(backend.layer(slowStart))), 10)
        // awaitReady first: then get's timeout is the task's alone
        yield* Effect.scoped(
          Effect.gen(function*() {
            yield* WorkerPool.awaitReady
            const handle = yield* WorkerPool.submit(Double, 4)
            assert.strictEqual(yield* AsyncResult.get(handle, { timeout: "200 millis" }), 8)
          }).pipe(Effect.provide(backend.layer(slowStart)))
        )
      }))
  }
})
