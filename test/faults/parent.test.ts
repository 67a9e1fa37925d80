/**
 * The parent's death (R3): a parent killed by SIGKILL leaves no worker process behind, and a program run
 * with `NodeRuntime.runMain` closes its pool promptly on SIGINT / SIGTERM (the program exits, its workers
 * are gone), on threads and processes, with workers idle in an async task or stuck in a synchronous loop.
 *
 * The OS is the judge: worker pids are polled with `process.kill(pid, 0)` until they are gone.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { alive, osUntil, report } from "./helpers.ts"

/** How long a program may take to close its pool and exit after a signal (interruptGrace is 200 ms). */
const EXIT_BOUND_MS = 5_000

interface Started {
  readonly child: ChildProcess
  readonly pids: ReadonlyArray<number>
  readonly output: () => string
  readonly exited: Promise<{ readonly code: number | null; readonly signal: string | null }>
}

/**
 * Starts a fixture program and waits for its JSON line (its workers are up and busy). The program and any
 * worker it reported are SIGKILLed when the test's scope closes, whatever happened.
 */
const start = (fixture: string, args: ReadonlyArray<string>, options: { readonly detached?: boolean } = {}) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<Started>((resolve, reject) => {
        const child = spawn(process.execPath, [new URL(`../fixtures/${fixture}`, import.meta.url).pathname, ...args], {
          stdio: ["ignore", "pipe", "inherit"],
          detached: options.detached === true
        })
        let out = ""
        const exited = new Promise<{ code: number | null; signal: string | null }>((r) =>
          child.once("exit", (code, signal) => r({ code, signal }))
        )
        child.stdout!.on("data", (d: Buffer) => {
          out += d.toString()
          const line = out.split("\n").find((l) => l.startsWith("{") || l.startsWith("["))
          if (line !== undefined) {
            const parsed = JSON.parse(line) as { pids: Array<number> } | Array<number>
            resolve({ child, pids: Array.isArray(parsed) ? parsed : parsed.pids, output: () => out, exited })
          }
        })
        void exited.then(({ code, signal }) => reject(new Error(`${fixture} exited early (${code ?? signal}): ${out}`)))
      })
    ),
    (s) =>
      Effect.sync(() => {
        for (const pid of [s.child.pid!, ...s.pids]) {
          try {
            process.kill(pid, "SIGKILL")
          } catch {
            // gone already: the expected case
          }
        }
      })
  )

/** Waits until every pid is gone; returns how long it took (ms), or fails after `within`. */
const allGone = (pids: ReadonlyArray<number>, within = 10_000) =>
  osUntil(`worker processes gone (alive: ${pids.filter(alive).join(", ")})`, () => pids.every((p) => !alive(p)), within)

describe("the parent's death (R3)", () => {
  it.live("SIGKILL of a parent whose process workers are idle: they exit on their own", () =>
    Effect.gen(function*() {
      const s = yield* start("orphan-parent.ts", [])
      assert.strictEqual(s.pids.length, 2)
      s.child.kill("SIGKILL")
      const ms = yield* allGone(s.pids)
      report("parent SIGKILL, idle workers", { workers: s.pids.length, goneWithinMs: Math.round(ms) })
    }))

  it.live("SIGKILL of a parent whose process workers run async tasks: they exit on their own", () =>
    Effect.gen(function*() {
      const s = yield* start("runmain-parent.ts", ["processes", "nap"])
      assert.strictEqual(s.pids.length, 2)
      s.child.kill("SIGKILL")
      const ms = yield* allGone(s.pids)
      report("parent SIGKILL, workers in an async task", { workers: s.pids.length, goneWithinMs: Math.round(ms) })
    }))

  for (const backend of ["threads", "processes"] as const) {
    for (const work of ["nap", "loop"] as const) {
      for (const signal of ["SIGTERM", "SIGINT"] as const) {
        it.live(`runMain + ${backend} pool, workers in ${work === "nap" ? "an async task" : "a synchronous loop"}: ${signal} closes the pool and exits promptly`, () =>
          Effect.gen(function*() {
            const s = yield* start("runmain-parent.ts", [backend, work])
            if (backend === "processes") assert.strictEqual(s.pids.length, 2)
            const t0 = performance.now()
            s.child.kill(signal)
            const exit = yield* Effect.promise(() => s.exited).pipe(
              Effect.timeoutOrElse({ duration: EXIT_BOUND_MS, orElse: () => Effect.die(new Error(`no exit within ${EXIT_BOUND_MS} ms: ${s.output()}`)) })
            )
            const ms = performance.now() - t0
            assert.strictEqual(exit.code, 130, "runMain's exit code for an interrupted program")
            assert.include(s.output(), "pool closed", "the pool's scope closed before the exit")
            const goneMs = yield* allGone(s.pids, 2_000)
            report(`runMain ${backend} ${work} ${signal}`, { exitMs: Math.round(ms), exitCode: exit.code, workersGoneWithinMs: Math.round(goneMs) })
          }))
      }
    }
  }

  it.live("Ctrl-C (SIGINT to the whole process group) with a process pool: the program exits, no worker is left", () =>
    Effect.gen(function*() {
      for (const work of ["nap", "loop"] as const) {
        const s = yield* start("runmain-parent.ts", ["processes", work], { detached: true })
        const t0 = performance.now()
        // the workers get the SIGINT too and die at once; the parent's pool sees crashes while it closes
        process.kill(-s.child.pid!, "SIGINT")
        const exit = yield* Effect.promise(() => s.exited).pipe(
          Effect.timeoutOrElse({ duration: EXIT_BOUND_MS, orElse: () => Effect.die(new Error(`no exit within ${EXIT_BOUND_MS} ms: ${s.output()}`)) })
        )
        assert.strictEqual(exit.code, 130)
        assert.include(s.output(), "pool closed")
        yield* allGone(s.pids, 2_000)
        report(`Ctrl-C, processes, ${work}`, { exitMs: Math.round(performance.now() - t0), exitCode: exit.code })
      }
    }))
})

describe("once known bugs, now fixed (see docs/reliability.md)", () => {
  it.live("SIGKILL of a parent whose process worker is in a synchronous loop: the worker still exits (no orphan)", () =>
    Effect.gen(function*() {
      const s = yield* start("runmain-parent.ts", ["processes", "loop"])
      assert.strictEqual(s.pids.length, 2)
      s.child.kill("SIGKILL")
      // was: a worker learnt of its parent's death only from the IPC channel's "disconnect" event, which a
      // synchronous loop never lets it see; the orphans spun until killed (this test's finalizer kills them).
      // Now the worker's watchdog thread sees its parent change and SIGKILLs its own process.
      const goneMs = yield* allGone(s.pids, 3_000)
      report("SIGKILL parent, processes, loop", { workersGoneWithinMs: Math.round(goneMs) })
    }))
})
