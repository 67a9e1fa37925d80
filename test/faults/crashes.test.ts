/**
 * Fault injection (R2, R3, R4): batches where a seeded 1% of the items take their worker down — exit,
 * uncaught throw, heap exhaustion, SIGKILL / SIGSEGV (processes), a synchronous infinite loop under a
 * per-task (or `map`'s per-item) timeout — and every other item must still succeed with the right value, the pool must heal,
 * and nothing may outlive it.
 *
 * Sizes: FAULT_TASKS items per `map` batch (default 1,000; the full run uses 100,000), FAULT_SINGLES
 * items per batch of single tasks (default 400), FAULT_SEED picks the faults.
 */
import { execFile } from "node:child_process"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber } from "effect"
import { WorkerError, WorkerPool } from "../../src/index.ts"
import { DisconnectThenSpin, ExitButHang, type FaultKind, Faulty } from "../fixtures/faults.ts"
import { Double } from "../fixtures/tasks.ts"
import { envInt, prng, reasonOf, report, settled, statsUntil, withPool } from "./helpers.ts"

const FAULT_TASKS = envInt("FAULT_TASKS", 1_000)
const FAULT_SINGLES = envInt("FAULT_SINGLES", Math.min(400, FAULT_TASKS))
const SEED = envInt("FAULT_SEED", 20_240_611)
const RATE = 0.01
/** A batch of `n` items must end within this (ms): generous (about 3x the slowest run seen), but bounded. */
const deadline = (n: number): number => 60_000 + 15 * n

/** The per-task timeout of the items that loop forever (the others run without one). */
const LOOP_TIMEOUT_MS = 150
/** `map`'s per-item timeout applies to every item: long enough for heap exhaustion to end a worker first. */
const MAP_TIMEOUT_MS = 5_000

interface Fault {
  readonly fault: FaultKind
  readonly arg: number
}
interface Plan {
  readonly payloads: Array<typeof Faulty.payload.Type>
  readonly faults: Map<number, Fault>
}

/**
 * A deterministic 1% of `n` items, chosen by index from the seed, each with a fault kind (every kind
 * appears at least once) and, for `exit`, an exit code. `once`: the fault happens on attempt 1 only.
 */
const plan = (n: number, seed: number, kinds: ReadonlyArray<FaultKind>, once: boolean): Plan => {
  const r = prng(seed)
  const wanted = Math.min(n, Math.max(kinds.length, Math.round(n * RATE)))
  const chosen = new Set<number>()
  while (chosen.size < wanted) chosen.add(r.int(0, n - 1))
  const faults = new Map<number, Fault>()
  let k = r.int(0, kinds.length - 1)
  for (const index of chosen) {
    // exit codes 3..99: never 0 (a clean exit is still a crash mid-task, but keep the check simple) nor 134
    faults.set(index, { fault: kinds[k++ % kinds.length]!, arg: r.int(3, 99) })
  }
  const payloads = Array.from({ length: n }, (_, i) => {
    const f = faults.get(i)
    return { n: i, fault: f?.fault ?? "", arg: f?.arg ?? 0, once }
  })
  return { payloads, faults }
}

/** Why a failure does not match the fault that was injected (undefined when it does). */
const mismatch = (backend: string, index: number, f: Fault, error: unknown, loopTimeoutMs: number): string | undefined => {
  if (!(error instanceof WorkerError.WorkerError)) return `item ${index} (${f.fault}): not a WorkerError: ${String(error)}`
  const r = error.reason
  const bad = (what: string) => `item ${index} (${f.fault}): ${what}: ${JSON.stringify(r)}`
  if (f.fault === "loop") {
    return r._tag === "TaskTimeout" && r.timeoutMillis === loopTimeoutMs ? undefined : bad("expected TaskTimeout")
  }
  if (r._tag !== "WorkerCrashed") return bad("expected WorkerCrashed")
  if (r.taskName !== "Faulty") return bad("wrong task name")
  const message = (text: string) => r.message.includes(text)
  switch (f.fault) {
    case "exit":
      return r.exitCode === f.arg && r.signal === null && message(`code ${f.arg}`) ? undefined : bad(`expected exit code ${f.arg}`)
    case "throw":
      return r.exitCode === 1 && message(`injected fault ${index}`) ? undefined : bad("expected the thrown message")
    case "oom":
      if (backend === "processes" && r.signal !== "SIGABRT" && r.exitCode !== 134) return bad("expected SIGABRT")
      return message("out of memory") ? undefined : bad("expected out of memory")
    case "sigkill":
      return r.signal === "SIGKILL" && message("SIGKILL") ? undefined : bad("expected SIGKILL")
    case "sigsegv":
      return r.signal === "SIGSEGV" && message("SIGSEGV") ? undefined : bad("expected SIGSEGV")
  }
}

/** Checks one batch's outcomes: exactly the planned items fail, each with its reason; the rest are 2n. */
const check = (
  backend: string,
  p: Plan,
  outcomes: ReadonlyArray<{ readonly index: number; readonly ok: boolean; readonly value?: unknown; readonly error?: unknown }>,
  loopTimeoutMs = LOOP_TIMEOUT_MS
) => {
  const problems: Array<string> = []
  assert.strictEqual(outcomes.length, p.payloads.length, "one outcome per item: nothing lost")
  let failed = 0
  for (let i = 0; i < outcomes.length; i++) {
    const o = outcomes[i]!
    if (o.index !== i) problems.push(`outcome ${i} has index ${o.index}`)
    const f = p.faults.get(i)
    if (f === undefined) {
      if (!o.ok) problems.push(`item ${i} should have succeeded: ${String(o.error)}`)
      else if (o.value !== 2 * i) problems.push(`item ${i}: wrong value ${String(o.value)}`)
    } else {
      failed++
      if (o.ok) problems.push(`item ${i} (${f.fault}) should have failed`)
      else {
        const m = mismatch(backend, i, f, o.error, loopTimeoutMs)
        if (m !== undefined) problems.push(m)
      }
    }
  }
  assert.deepStrictEqual(problems.slice(0, 10), [], `${problems.length} problems`)
  return failed
}

const kindsOf = (backend: "threads" | "processes", withLoop: boolean): Array<FaultKind> => [
  "exit",
  "throw",
  "oom",
  ...(backend === "processes" ? (["sigkill", "sigsegv"] as const) : []),
  ...(withLoop ? (["loop"] as const) : [])
]

for (const backend of ["threads", "processes"] as const) {
  const layer = (backend === "threads" ? WorkerPool.layerThreads : WorkerPool.layerProcesses)({
    size: 2,
    interruptGrace: "100 millis",
    resourceLimits: { maxOldGenerationSizeMb: 32 }
  })

  describe(`crashes on ${backend} (R4)`, () => {
    it.live(`map (mode "result", ${FAULT_TASKS} items, 1% faulty): exactly the faulty items fail, each with its reason`, () =>
      Effect.gen(function*() {
        const p = plan(FAULT_TASKS, SEED, kindsOf(backend, false), false)
        const { result, stats } = yield* withPool(
          `${backend} map`,
          layer,
          WorkerPool.map(Faulty, p.payloads, { mode: "result", seed: SEED }),
          undefined,
          deadline(FAULT_TASKS)
        )
        const failed = check(
          backend,
          p,
          result.map((r) => ({ index: r.index, ok: r._tag === "Success", value: r._tag === "Success" ? r.value : undefined, error: r._tag === "Failure" ? r.error : r._tag === "Defect" ? r.defect : undefined }))
        )
        assert.strictEqual(failed, p.faults.size)
        // threads know which item of a chunk crashed; processes re-run the chunk item by item, so the
        // faulty item crashes a second time, alone
        if (backend === "threads") assert.strictEqual(stats.crashed, p.faults.size)
        else assert.isAtLeast(stats.crashed, p.faults.size)
        report(`${backend} map totals`, { tasks: FAULT_TASKS, faults: p.faults.size, lost: 0, wrong: 0 })
      }))

    it.live(`map with retry, faults on attempt 1 only (${FAULT_TASKS} items): every item succeeds`, () =>
      Effect.gen(function*() {
        const p = plan(FAULT_TASKS, SEED + 1, kindsOf(backend, false), true)
        const { result } = yield* withPool(
          `${backend} map+retry`,
          layer,
          WorkerPool.map(Faulty, p.payloads, { mode: "result", retry: 2 }),
          undefined,
          deadline(FAULT_TASKS)
        )
        check(backend, { payloads: p.payloads, faults: new Map() }, result.map((r) => ({ index: r.index, ok: r._tag === "Success", value: r._tag === "Success" ? r.value : undefined, error: r._tag === "Failure" ? r.error : undefined })))
        for (const [i] of p.faults) assert.strictEqual(result[i]!.attempts, 2, `item ${i} took a second attempt`)
        assert.strictEqual(WorkerPool.summarize(result).retried, p.faults.size)
        report(`${backend} map+retry totals`, { tasks: FAULT_TASKS, faults: p.faults.size, lost: 0 })
      }))

    it.live(`map with a per-item timeout (${FAULT_SINGLES} items, loops included): exactly the faulty items fail, loops with TaskTimeout`, () =>
      Effect.gen(function*() {
        // a per-item timeout sends items one per message: the size of the single-task batches
        const p = plan(FAULT_SINGLES, SEED + 4, kindsOf(backend, true), false)
        const { result, stats } = yield* withPool(
          `${backend} map+timeout`,
          layer,
          WorkerPool.map(Faulty, p.payloads, { mode: "result", timeout: MAP_TIMEOUT_MS }),
          undefined,
          deadline(FAULT_SINGLES)
        )
        check(
          backend,
          p,
          result.map((r) => ({ index: r.index, ok: r._tag === "Success", value: r._tag === "Success" ? r.value : undefined, error: r._tag === "Failure" ? r.error : r._tag === "Defect" ? r.defect : undefined })),
          MAP_TIMEOUT_MS
        )
        const loops = [...p.faults.values()].filter((f) => f.fault === "loop").length
        assert.strictEqual(stats.killed, loops, "each loop's worker was killed after interruptGrace")
        report(`${backend} map+timeout totals`, { tasks: FAULT_SINGLES, faults: p.faults.size, loops, lost: 0 })
      }))

    it.live(`single tasks (Effect.forEach, ${FAULT_SINGLES} items, loops under a ${LOOP_TIMEOUT_MS} ms timeout): exactly the faulty ones fail`, () =>
      Effect.gen(function*() {
        const p = plan(FAULT_SINGLES, SEED + 2, kindsOf(backend, true), false)
        const { result, stats } = yield* withPool(
          `${backend} singles`,
          layer,
          Effect.forEach(
            p.payloads,
            (payload) => Effect.exit(Faulty(payload, payload.fault === "loop" ? { timeout: LOOP_TIMEOUT_MS } : undefined)),
            { concurrency: 16 }
          ),
          undefined,
          deadline(FAULT_SINGLES)
        )
        check(
          backend,
          p,
          result.map((exit, index) =>
            Exit.isSuccess(exit)
              ? { index, ok: true, value: exit.value }
              : { index, ok: false, error: exit.cause.reasons.map((r) => (r._tag === "Fail" ? r.error : r._tag === "Die" ? r.defect : "interrupted"))[0] }
          )
        )
        const loops = [...p.faults.values()].filter((f) => f.fault === "loop").length
        assert.strictEqual(stats.killed, loops, "each loop's worker was killed after interruptGrace")
        assert.strictEqual(stats.crashed, p.faults.size - loops)
        report(`${backend} singles totals`, { tasks: FAULT_SINGLES, faults: p.faults.size, loops, lost: 0 })
      }))

    it.live(`single tasks with retry, faults on attempt 1 only (${FAULT_SINGLES} items): every item succeeds`, () =>
      Effect.gen(function*() {
        const p = plan(FAULT_SINGLES, SEED + 3, kindsOf(backend, true), true)
        const retry = {
          times: 1,
          retryable: (e: unknown) => e instanceof WorkerError.WorkerError && e.reason._tag === "TaskTimeout"
        }
        const { result } = yield* withPool(
          `${backend} singles+retry`,
          layer,
          Effect.forEach(
            p.payloads,
            (payload) => Effect.exit(Faulty(payload, { retry, ...(payload.fault === "loop" ? { timeout: LOOP_TIMEOUT_MS } : {}) })),
            { concurrency: 16 }
          ),
          undefined,
          deadline(FAULT_SINGLES)
        )
        check(
          backend,
          { payloads: p.payloads, faults: new Map() },
          result.map((exit, index) => Exit.isSuccess(exit) ? { index, ok: true, value: exit.value } : { index, ok: false, error: exit.cause })
        )
        report(`${backend} singles+retry totals`, { tasks: FAULT_SINGLES, faults: p.faults.size, lost: 0 })
      }))
  })
}

describe("once known bugs, now fixed (see docs/reliability.md)", () => {
  it.live("processes: a worker that never finishes exiting (process.exit hangs) fails its task instead of hanging it forever", () =>
    Effect.gen(function*() {
      // The full run hung once in ~1,700 crashes: a worker's process.exit(9) deadlocked inside Node
      // (NodePlatform::Shutdown joining a V8 background compiler thread that waited for a GC; heap limit
      // 32 MB). The IPC channel stays open and no exit comes, so the task and its batch waited forever. This
      // fixture hangs in an "exit" listener instead: the same thing, seen from the pool. The worker now
      // says "Exiting" first, and the parent kills it after interruptGrace.
      const exit = yield* Effect.exit(ExitButHang(9).pipe(Effect.timeout("5 seconds")))
      assert.isTrue(Exit.isFailure(exit))
      // was: the caller's own TimeoutError after 5 s; the worker would wait forever without it
      const r = reasonOf(Cause.squash((exit as Exit.Failure<number, unknown>).cause))
      assert.isTrue(r._tag === "WorkerCrashed" && r.exitCode === 9 && r.signal === null, JSON.stringify(r))
      assert.include(r.message, "code 9")
      // the pool heals: a replacement serves the next task
      assert.strictEqual(yield* Double(21), 42)
      const s = yield* statsUntil(settled)
      assert.strictEqual(s.crashed, 1)
    }).pipe(Effect.provide(WorkerPool.layerProcesses({ size: 1, interruptGrace: "200 millis" }))))

  it.live("processes: a job dispatched to a worker whose channel already closed (a dying worker) runs elsewhere, it does not fail with CodecFailed", () =>
    Effect.gen(function*() {
      // tiny tasks first: the pool then sends jobs ahead to a busy worker (prefetch)
      yield* WorkerPool.map(Faulty, Array.from({ length: 2000 }, (_, n) => ({ n, fault: "", arg: 0, once: false })))
      // the worker closes its IPC socket and stays busy for a second: the parent sees the channel close
      // (child.connected = false) long before the exit; a crash opens the same window, only shorter (the
      // 1,000-item processes map+retry batch above hit it once)
      const dying = yield* Effect.forkChild(Effect.exit(DisconnectThenSpin(1000)), { startImmediately: true })
      const doubles: Array<Fiber.Fiber<Exit.Exit<number, unknown>>> = []
      for (let k = 0; k < 20; k++) {
        doubles.push(yield* Effect.forkChild(Effect.exit(Double(k)), { startImmediately: true }))
        yield* Effect.sleep(25) // the storm: submissions spread over the window
      }
      yield* Fiber.join(dying)
      const failures: Array<string> = []
      for (const f of doubles) {
        const exit = yield* Fiber.join(f)
        if (Exit.isFailure(exit)) failures.push(String((Cause.squash(exit.cause) as Error).message))
      }
      // was: most of them failed with "CodecFailed … the payload cannot be cloned to a worker: the worker
      // process is not connected" (the backend's "not connected" was taken for a clone failure)
      assert.deepStrictEqual(failures.slice(0, 3), [])
      for (let k = 0; k < doubles.length; k++) {
        const exit = yield* Fiber.join(doubles[k]!)
        assert.isTrue(Exit.isSuccess(exit) && exit.value === 2 * k, `Double(${k})`)
      }
    }).pipe(Effect.provide(WorkerPool.layerProcesses({ size: 1 }))))

  it.live("processes: a crash's message names its cause even when the parent wrote to the dying worker (EPIPE)", () =>
    Effect.gen(function*() {
      // A separate program (under vitest the parent's write to the dead worker does not fail at once, so
      // the race cannot be forced here): it makes the worker kill itself, waits synchronously until the
      // worker is a zombie, then dispatches a job to it, and prints the crashed task's reason.
      const out = yield* Effect.promise(() =>
        new Promise<string>((resolve, reject) => {
          execFile(process.execPath, [new URL("../fixtures/epipe-crash.ts", import.meta.url).pathname], { timeout: 60_000 }, (e, stdout) =>
            e === null ? resolve(stdout) : reject(e))
        })
      )
      const line = out.split("\n").find((l) => l.startsWith("["))
      assert.isDefined(line, out)
      const messages = JSON.parse(line!) as Array<string>
      // was: one message could be "Error: write EPIPE" (the parent's failed write), not the crash's cause
      for (const m of messages) assert.include(m, "SIGKILL")
    }))
})
