/**
 * Faults that only processes have: signals, output on stdout/stderr, and the parent's own death.
 */
import { spawn } from "node:child_process"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { WorkerError, WorkerPool } from "../src/index.ts"
import { alive } from "./conformance/backends.ts"
import { Chatty, Pid, SignalSelf } from "./fixtures/process-tasks.ts"
import { Double } from "./fixtures/tasks.ts"

const pool = WorkerPool.layerProcesses({ size: 2, interruptGrace: "300 millis" })

const reasonOf = (e: unknown) => {
  assert.instanceOf(e, WorkerError.WorkerError)
  return (e as WorkerError.WorkerError).reason
}

describe("process backend faults", () => {
  for (const signal of ["SIGKILL", "SIGSEGV"] as const) {
    it.live(`a worker killed by ${signal} mid-task fails only that task, naming the signal`, () =>
      Effect.gen(function*() {
        const results = yield* Effect.forEach(
          [1, 2, 3, 4, 5, 6],
          (n) => Effect.result(n === 3 ? SignalSelf(signal) : Double(n)),
          { concurrency: "unbounded" }
        )
        const failures = results.filter((r) => r._tag === "Failure")
        assert.strictEqual(failures.length, 1)
        const r = reasonOf((failures[0] as { failure: unknown }).failure)
        assert.strictEqual(r._tag, "WorkerCrashed")
        if (r._tag === "WorkerCrashed") {
          assert.strictEqual(r.signal, signal)
          assert.include(r.message, signal)
        }
        assert.strictEqual(results.filter((r) => r._tag === "Success").length, 5)
        assert.strictEqual(yield* Double(21), 42, "the pool goes on")
      }).pipe(Effect.provide(pool)))
  }

  it.live("a worker writing to stdout and stderr does not disturb the protocol (output is inherited)", () =>
    Effect.gen(function*() {
      const r = yield* Effect.forEach([50, 50, 50], (n) => Chatty(n), { concurrency: "unbounded" })
      assert.deepStrictEqual(r, [50, 50, 50])
    }).pipe(Effect.provide(pool)))

  it.live("workers run in their own processes", () =>
    Effect.gen(function*() {
      const pid = yield* Pid(undefined)
      assert.notStrictEqual(pid, process.pid)
      assert.isTrue(alive(pid))
    }).pipe(Effect.provide(pool)))

  it.live("when the parent is killed with SIGKILL, its worker processes exit on their own (R3)", () =>
    Effect.gen(function*() {
      const parent = spawn(process.execPath, [new URL("./fixtures/orphan-parent.ts", import.meta.url).pathname], {
        stdio: ["ignore", "pipe", "inherit"]
      })
      const pids = yield* Effect.promise(() =>
        new Promise<Array<number>>((resolve, reject) => {
          let out = ""
          parent.stdout!.on("data", (d: Buffer) => {
            out += d.toString()
            const line = out.split("\n").find((l) => l.startsWith("["))
            if (line !== undefined) resolve(JSON.parse(line))
          })
          parent.once("exit", (code) => reject(new Error(`parent exited early with ${code}`)))
        })
      )
      assert.strictEqual(pids.length, 2)
      for (const pid of pids) assert.isTrue(alive(pid))
      parent.kill("SIGKILL")
      const t0 = performance.now()
      // the OS is the judge: poll until no worker pid is alive (bounded by the test timeout)
      yield* Effect.sync(() => pids.filter(alive)).pipe(
        Effect.repeat({ until: (left) => left.length === 0, schedule: Schedule.spaced("20 millis") }),
        Effect.timeout("10 seconds")
      )
      const took = performance.now() - t0
      assert.isBelow(took, 10_000)
      console.log(`orphaned workers exited ${took.toFixed(0)} ms after the parent's SIGKILL`)
    }))
})
