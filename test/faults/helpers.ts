/**
 * Shared helpers of the fault suites: sizes from the environment, a seeded PRNG, and leak probes that ask
 * the OS (threads of this process, child processes) rather than the pool.
 */
import * as fs from "node:fs"
import { assert } from "@effect/vitest"
import { Duration, Effect, type Layer, Schedule } from "effect"
import { WorkerError, WorkerPool } from "../../src/index.ts"

/** A positive integer from the environment, or the CI-sized default. */
export const envInt = (name: string, fallback: number): number => {
  const raw = process.env[name]
  if (raw === undefined || raw === "") return fallback
  const n = Number(raw.replaceAll("_", ""))
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${raw}`)
  return n
}

/** mulberry32: a tiny seeded PRNG, enough to pick fault indices and storm moves reproducibly. */
export const prng = (seed: number) => {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    /** An integer in [lo, hi]. */
    int: (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <A>(xs: ReadonlyArray<A>): A => xs[Math.floor(next() * xs.length)]!
  }
}

/** OS threads of this process (Linux): each worker thread is one more. */
export const osThreads = (): number => fs.readdirSync("/proc/self/task").length

/** Live (non-zombie) child processes of this process, read from /proc. */
export const childPids = (): Array<number> => {
  const out: Array<number> = []
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    let stat: string
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8")
    } catch {
      continue // exited while we looked
    }
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ")"
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    if (Number(rest[1]) === process.pid && rest[0] !== "Z") out.push(Number(entry))
  }
  return out
}

/** Whether a process is alive (a zombie counts as gone: it runs nothing). */
export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z"
  } catch {
    return false
  }
}

/** The reason of a `WorkerError` (fails the test on anything else). */
export const reasonOf = (e: unknown): WorkerError.WorkerErrorReason => {
  assert.instanceOf(e, WorkerError.WorkerError, `expected a WorkerError, got ${String(e)}`)
  return (e as WorkerError.WorkerError).reason
}

/** Polls the pool's stats until `f` holds (never a fixed sleep); fails after `within`. */
export const statsUntil = (f: (s: WorkerPool.PoolStats) => boolean, within: Duration.Input = "20 seconds") =>
  WorkerPool.stats.pipe(
    Effect.repeat({ until: f, schedule: Schedule.spaced("5 millis") }),
    Effect.timeoutOrElse({
      duration: within,
      orElse: () =>
        Effect.flatMap(WorkerPool.stats, (s) => Effect.die(new Error(`stats never settled within ${Duration.format(Duration.fromInputUnsafe(within))}: ${JSON.stringify(s)}`)))
    })
  )

/** The pool is back to its resting state: every worker up and idle, nothing queued, waiting or running. */
export const settled = (s: WorkerPool.PoolStats): boolean =>
  s.workers === s.size && s.ready === s.size && s.running === 0 && s.queued === 0 && s.waiting === 0 && s.busy === 0

/** Polls the OS until `f` holds, within a bound; returns how long it took (ms). */
export const osUntil = (what: string, f: () => boolean, within = 10_000) =>
  Effect.gen(function*() {
    const t0 = performance.now()
    yield* Effect.sync(f).pipe(
      Effect.repeat({ until: (ok) => ok, schedule: Schedule.spaced("10 millis") }),
      Effect.timeoutOrElse({ duration: within, orElse: () => Effect.die(new Error(`${what}: not true within ${within} ms`)) })
    )
    return performance.now() - t0
  })

/**
 * Watches this process's children while a run goes on (every worker process ever started shows up), so
 * that after the pool closed the test can check that every one of them is gone.
 */
export const childWatcher = () => {
  const seen = new Set<number>()
  const look = () => {
    for (const pid of childPids()) seen.add(pid)
  }
  const timer = setInterval(look, 50)
  look()
  return {
    seen,
    look,
    stop: () => {
      clearInterval(timer)
      look()
    }
  }
}

/**
 * Proves nothing outlived the pool: the thread count is back to `threadsBefore` and every child process
 * seen during the run is gone. Returns how long the OS took to agree (ms).
 */
export const assertNoLeaks = (threadsBefore: number, pids: ReadonlySet<number>) =>
  Effect.gen(function*() {
    const threadsMs = yield* osUntil(`threads back to ${threadsBefore} (now ${osThreads()})`, () => osThreads() <= threadsBefore)
    const pidsMs = yield* osUntil(
      `worker processes gone (alive: ${[...pids].filter(alive).join(", ")})`,
      () => [...pids].every((p) => !alive(p))
    )
    assert.deepStrictEqual(childPids(), [], "no child process of this process is left")
    return Math.max(threadsMs, pidsMs)
  })

/** Prints one line of figures for docs/reliability.md (`[figures] …`). */
export const report = (label: string, figures: Record<string, unknown>): void => {
  console.log(`[figures] ${label}: ${JSON.stringify(figures)}`)
}

/**
 * Runs `body` on a fresh pool built from `layer`, waits until the pool has settled (every worker back and
 * idle), closes it, and proves nothing outlived it (threads, child processes). Prints the figures.
 */
export const withPool = <A, E>(
  label: string,
  layer: Layer.Layer<WorkerPool.WorkerPool, WorkerError.WorkerError>,
  body: Effect.Effect<A, E, WorkerPool.WorkerPool>,
  extra: () => Record<string, unknown> = () => ({}),
  deadlineMs = 600_000
) =>
  Effect.gen(function*() {
    const threadsBefore = osThreads()
    const watcher = childWatcher()
    const t0 = performance.now()
    const [result, stats] = yield* Effect.gen(function*() {
      const result = yield* body
      const stats = yield* statsUntil(settled)
      return [result, stats] as const
    }).pipe(
      // a hang fails the test in bounded time instead of eating the whole test timeout
      Effect.timeoutOrElse({
        duration: deadlineMs,
        orElse: () =>
          Effect.flatMap(WorkerPool.stats, (s) =>
            Effect.die(new Error(`${label}: not done within ${deadlineMs} ms (a hang); stats: ${JSON.stringify(s)}`)))
      }),
      Effect.provide(layer),
      Effect.ensuring(Effect.sync(() => watcher.stop()))
    )
    const ms = performance.now() - t0
    const leakMs = yield* assertNoLeaks(threadsBefore, watcher.seen)
    report(label, {
      ms: Math.round(ms),
      completed: stats.completed,
      failed: stats.failed,
      crashed: stats.crashed,
      killed: stats.killed,
      spawned: stats.spawned,
      processesSeen: watcher.seen.size,
      leftAfterClose: 0,
      goneWithinMs: Math.round(leakMs),
      ...extra()
    })
    return { result, stats }
  })
