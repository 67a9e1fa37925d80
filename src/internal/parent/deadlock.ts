/**
 * Deadlock detection, the policy: when the pool's waits (`PoolCore.waits`, the mechanism) amount to a
 * deadlock, and what the pool says and does about it.
 *
 * A deadlock we can see: every worker of the pool is blocked in a shared-object wait (its calls pending in
 * the parent, or its published waits on shared memory), the same waits all along (no wait of any worker
 * started or ended), while tasks wait behind them, for `deadlockTimeout`. The tasks behind can never get a
 * worker, and if the blocked ones wait for them (a consumer waiting for a producer queued behind it), nobody
 * moves again. A pool cannot tell a slow producer elsewhere from one that will never come, hence a timeout,
 * a warning by default, and failing the waiting tasks only when asked (`onDeadlock: "fail"`).
 *
 * The pool samples its waits on a timer (`watch`), never on the task path: a task that takes no
 * shared-object wait costs nothing, and one whose lock is free publishes nothing either.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { Deadlock } from "../../WorkerError.ts"
import type { DeadlockInfo } from "../../WorkerPool.ts"
import type { ResolvedOptions } from "../options.ts"
import { registry } from "../shared/registry.ts"
import type { PoolCore, PoolWaits } from "./core.ts"

/** An object as the messages name it: its kind and id (`SharedQueue #3`). */
const nameOf = (id: number): string => `${registry.hosted.get(id)?.kind ?? "shared object"} #${id}`

/** Follows the pool's waits from one sample to the next; says when they have become a deadlock. */
export class DeadlockWatch {
  /** When every worker became blocked with tasks behind, in the current episode. */
  private since: number | undefined = undefined
  private signature: string | undefined = undefined
  private reported = false
  /** The deadlock being reported, while it lasts. */
  current: DeadlockInfo | undefined = undefined

  private readonly size: number
  private readonly timeoutMillis: number

  constructor(size: number, timeoutMillis: number) {
    this.size = size
    this.timeoutMillis = timeoutMillis
  }

  private stuck(waits: PoolWaits): boolean {
    return waits.waitingCount > 0 && waits.blocked.length === this.size && waits.live === this.size
  }

  private signatureOf(waits: PoolWaits): string {
    return waits.blocked.map((b) => `${b.workerId}:${b.signature}`).join(" ")
  }

  /**
   * The deadlock reported, if the waits still are those of the last sample (for `stats`, between two
   * samples: a deadlock that has just ended is not shown). Changes nothing: the next sample does.
   */
  peek(waits: PoolWaits): DeadlockInfo | undefined {
    if (this.current === undefined) return undefined
    return this.stuck(waits) && this.signatureOf(waits) === this.signature ? this.current : undefined
  }

  /** One sample of the pool's waits at `now`: the deadlock when it has just been detected. */
  observe(waits: PoolWaits, now: number): DeadlockInfo | undefined {
    if (!this.stuck(waits)) {
      this.since = undefined
      this.signature = undefined
      this.reported = false
      this.current = undefined
      return undefined
    }
    const signature = this.signatureOf(waits)
    if (signature !== this.signature) {
      // a wait started or ended somewhere: that is progress, the clock starts again
      this.since = now
      this.signature = signature
      this.reported = false
      this.current = undefined
    }
    if (now - this.since! < this.timeoutMillis) return undefined
    const info: DeadlockInfo = {
      since: this.since!,
      waitingOn: [...new Set(waits.blocked.flatMap((b) => b.objects))].map(nameOf),
      blocked: waits.blocked.map((b) => ({ taskName: b.taskName, index: b.index, waitingOn: b.objects.map(nameOf) })),
      waiting: waits.waiting,
      waitingCount: waits.waitingCount
    }
    this.current = info
    if (this.reported) return undefined
    this.reported = true
    return info
  }
}

/** The warning a detected deadlock logs. */
export const describe = (info: DeadlockInfo, size: number, now: number): string => {
  const tasks = (list: ReadonlyArray<{ readonly taskName: string; readonly index: number }>) =>
    list.map((t) => `${t.taskName} (index ${t.index})`).join(", ")
  const blocked = info.blocked.map((b) => `${b.taskName} (index ${b.index}) waits on ${b.waitingOn.join(" and ")}`).join("; ")
  const more = info.waitingCount > info.waiting.length ? ` and ${info.waitingCount - info.waiting.length} more` : ""
  return `deadlock: all ${size} worker(s) of the pool have been blocked in shared-object waits for ${now - info.since} ms ` +
    `(${blocked}) while ${info.waitingCount} task(s) wait behind them for a worker: ${tasks(info.waiting)}${more}. ` +
    `Tasks that wait on each other need a worker each: use a bigger pool, or Process.spawn for them.`
}

/**
 * Samples the pool's waits while the scope lasts (a quarter of `deadlockTimeout`, between 25 ms and 1 s),
 * logs each deadlock once with Effect's logger, and with `onDeadlock: "fail"` fails the tasks waiting
 * behind the blocked workers with `WorkerError` reason `Deadlock`.
 */
export const watch = (core: PoolCore, options: ResolvedOptions, watch: DeadlockWatch): Effect.Effect<void> => {
  const timeout = options.deadlockTimeoutMillis!
  const every = Math.min(1000, Math.max(25, Math.floor(timeout / 4)))
  const sample = Effect.suspend(() => {
    const now = Date.now()
    const info = watch.observe(core.waits(), now)
    if (info === undefined) return Effect.void
    const log = Effect.logWarning(describe(info, options.size, now)).pipe(
      Effect.annotateLogs({ waitingOn: info.waitingOn.join(", "), waitingTasks: info.waitingCount })
    )
    if (options.onDeadlock === "warn") return log
    return Effect.andThen(
      log,
      Effect.sync(() =>
        core.failWaiting((job) =>
          new Deadlock({ taskName: job.task.name, poolSize: options.size, waitingOn: info.waitingOn, blockedMillis: now - info.since })
        )
      )
    )
  })
  return Effect.asVoid(Effect.repeat(sample, Schedule.spaced(every)))
}
