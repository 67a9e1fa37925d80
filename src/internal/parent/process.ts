/**
 * `Process.spawn`: one task on a worker of its own, outside any pool (Python's `Process` / `Thread`).
 *
 * No second engine: a dedicated worker is a pool of one (`PoolCore` through the local executor and the
 * front, so codecs, shared objects, interruption and crash reports are the pool's) whose worker is started
 * on demand for its one task and retired after it (`maxTasksPerWorker: 1`), and never respawned (a finite
 * `idleTimeout` means "start workers only while a task waits"; the queue is empty once the task is sent).
 * The backend is wrapped to record what a `Process` handle shows: the worker's pid or thread id, whether
 * it is alive, and how it exited.
 *
 * The pool lives in a scope of its own, a child of the caller's: `terminate` closes it (the task is
 * interrupted, its worker killed if it does not stop within `interruptGrace`, and the close returns once
 * the worker has exited), and so does the end of the caller's scope (R3).
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Scope from "effect/Scope"
import { constants } from "node:os"
import { WorkerError } from "../../WorkerError.ts"
import type { PoolOptions } from "../../WorkerPool.ts"
import { makeFront } from "../front.ts"
import { durationMillis, invalid, orFail, show } from "../options.ts"
import type { TaskRef } from "../service.ts"
import type { Backend, WorkerExit } from "./backend.ts"
import { makeLocal } from "./pool.ts"
import { processes } from "./processes.ts"
import { threads } from "./threads.ts"

/** The options of a dedicated worker: its kind, and the per-worker options of a pool that make sense for one. */
export interface DedicatedOptions {
  readonly kind?: "process" | "thread" | undefined
  readonly execArgv?: PoolOptions["execArgv"]
  readonly env?: PoolOptions["env"]
  readonly resourceLimits?: PoolOptions["resourceLimits"]
  readonly interruptGrace?: PoolOptions["interruptGrace"]
}

/** What a `Process` handle reads. */
export interface Dedicated<A, E> {
  readonly kind: "process" | "thread"
  readonly pid: () => number | undefined
  readonly threadId: () => number | undefined
  readonly result: Effect.Effect<A, E>
  readonly join: (timeoutMillis: number | undefined) => Effect.Effect<boolean>
  readonly exitCode: Effect.Effect<Option.Option<number>>
  readonly isAlive: Effect.Effect<boolean>
  readonly terminate: Effect.Effect<void>
}

/**
 * A worker's exit as Python's `exitcode`: its code, or minus the number of the signal that ended it (a
 * process killed by SIGKILL: -9).
 */
export const exitCodeOf = (exit: WorkerExit): number | undefined => {
  if (exit.code !== null) return exit.code
  if (exit.signal === null) return undefined
  const n = (constants.signals as Record<string, number | undefined>)[exit.signal]
  return n === undefined ? undefined : -n
}

/**
 * Watches the workers a backend starts for one `Process`: the last one's handle, how many are alive, and
 * the last exit. A dedicated pool starts one worker, and another only if the first died before it was
 * ready (the engine's start-up retries).
 */
class Watch {
  alive = 0
  pid: number | undefined = undefined
  threadId: number | undefined = undefined
  lastExit: WorkerExit | undefined = undefined
  /** Completed once a worker was started, or the attempt threw (the pool then fails the task). */
  readonly started = Deferred.makeUnsafe<void>()
  private readonly onIdle: Array<() => void> = []

  wrap(backend: Backend): Backend {
    return {
      name: backend.name,
      spawn: (boot, options, events) => {
        let handle
        try {
          handle = backend.spawn(boot, options, {
            ...events,
            onExit: (exit) => {
              this.alive--
              this.lastExit = exit
              events.onExit(exit)
              if (this.alive === 0) for (const f of this.onIdle.splice(0)) f()
            }
          })
        } catch (e) {
          Deferred.doneUnsafe(this.started, Effect.void)
          throw e
        }
        this.alive++
        this.pid = handle.pid
        this.threadId = handle.threadId
        Deferred.doneUnsafe(this.started, Effect.void)
        return handle
      }
    }
  }

  /** Calls `f` once no worker is alive (at once if none is). */
  whenIdle(f: () => void): void {
    if (this.alive === 0) f()
    else this.onIdle.push(f)
  }
}

const checkKind = (kind: unknown) =>
  kind === undefined || kind === "thread" || kind === "process"
    ? Result.succeed<"thread" | "process">(kind ?? "thread")
    : invalid("kind", `kind must be "thread" or "process", got ${show(kind)}`)

/** Options that belong to pools, not to one dedicated worker: named, so that a mistake is not silent. */
const poolOnly = ["size", "maxTasksPerWorker", "maxQueued", "initializer", "idleTimeout", "prefetch", "preload", "allowInWorker"]

/**
 * Starts `task` on a dedicated worker in the current scope. Fails with a `WorkerError` when an option is
 * invalid, or when no worker could be started for the task (it could not be spawned, or its payload could
 * not be encoded): then there is nothing to join.
 */
export const spawn = <A, E>(
  task: TaskRef,
  payload: unknown,
  options: DedicatedOptions | undefined
): Effect.Effect<Dedicated<A, E>, WorkerError, Scope.Scope> =>
  Effect.gen(function*() {
    if (options !== undefined && (typeof options !== "object" || options === null)) {
      return yield* orFail(invalid("options", `options must be an object, got ${show(options)}`))
    }
    const kind = yield* orFail(checkKind(options?.kind))
    const misplaced = poolOnly.find((k) => options !== undefined && k in options)
    if (misplaced !== undefined) {
      return yield* orFail(invalid(misplaced, `${misplaced} is a pool option; a Process runs one task on one worker of its own`))
    }
    const watch = new Watch()
    const backend = watch.wrap(kind === "process" ? processes : threads)
    const scope = yield* Scope.fork(yield* Effect.scope)
    const poolOptions: PoolOptions = {
      size: 1,
      maxTasksPerWorker: 1,
      // finite: a worker is started only while a task waits, so none is started again after the one task
      // (the timer itself never runs: the worker has its task as soon as it is ready, and retires after it)
      idleTimeout: 2 ** 31 - 1,
      // one task, nothing can queue behind it
      deadlockTimeout: false,
      ...(options?.execArgv === undefined ? {} : { execArgv: options.execArgv }),
      ...(options?.env === undefined ? {} : { env: options.env }),
      ...(options?.resourceLimits === undefined ? {} : { resourceLimits: options.resourceLimits }),
      ...(options?.interruptGrace === undefined ? {} : { interruptGrace: options.interruptGrace })
    }
    const pool = yield* makeFront(makeLocal(backend, poolOptions), { metrics: false }).pipe(
      Scope.provide(scope),
      Effect.onError(() => Scope.close(scope, Exit.void))
    )
    const fiber = yield* Effect.forkIn(pool.run(task, payload, undefined) as Effect.Effect<A, E>, scope, {
      startImmediately: true
    })
    // the worker starts when the task is dispatched (a microtask away): wait for it, or for the task's end
    // if it never got one
    yield* Effect.raceFirst(Deferred.await(watch.started), Effect.asVoid(Fiber.await(fiber)))
    if (watch.pid === undefined && watch.threadId === undefined) {
      const exit = fiber.pollUnsafe()
      const fail = exit !== undefined && Exit.isFailure(exit) ? exit.cause.reasons.find(Cause.isFailReason) : undefined
      if (fail !== undefined && fail.error instanceof WorkerError) {
        yield* Scope.close(scope, Exit.void)
        return yield* Effect.fail(fail.error)
      }
    }
    const ended = Deferred.makeUnsafe<void>()
    fiber.addObserver(() => watch.whenIdle(() => Deferred.doneUnsafe(ended, Effect.void)))
    return {
      kind,
      pid: () => watch.pid,
      threadId: () => watch.threadId,
      result: Fiber.join(fiber),
      join: (timeoutMillis) =>
        timeoutMillis === undefined
          ? Effect.as(Deferred.await(ended), true)
          : Effect.map(Effect.timeoutOption(Deferred.await(ended), timeoutMillis), Option.isSome),
      exitCode: Effect.sync(() =>
        Option.fromNullishOr(watch.alive === 0 && watch.lastExit !== undefined ? exitCodeOf(watch.lastExit) : undefined)
      ),
      isAlive: Effect.sync(() => watch.alive > 0),
      terminate: Effect.andThen(Scope.close(scope, Exit.void), Deferred.await(ended))
    } satisfies Dedicated<A, E>
  })

/** A `join` timeout in milliseconds; a bad one fails naming it. */
export const joinTimeout = (timeout: unknown) =>
  timeout === undefined ? Result.succeed(undefined) : durationMillis("timeout", timeout)
