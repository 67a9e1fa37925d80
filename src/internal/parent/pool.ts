/**
 * The local executor: runs executions on a `PoolCore` (threads, processes, in-process), each job an
 * interruptible effect whose canceller interrupts the job and returns once its worker has stopped it (R1,
 * R2). The front (`front.ts`) does everything else.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { WorkerError } from "../../WorkerError.ts"
import type { PoolOptions } from "../../WorkerPool.ts"
import { codecOf } from "../codec.ts"
import { type ChunkOutcome, codecsWithin, type Conclude, type Execution, type Executor } from "../executor.ts"
import { invalid, orFail, resolveOptions } from "../options.ts"
import { toWireDefect } from "../protocol.ts"
import type { TaskRef } from "../service.ts"
import { encodingFor } from "../shared/registry.ts"
import type { Backend } from "./backend.ts"
import type { Job, JobResult } from "./core.ts"
import { refuseInWorker } from "./guard.ts"
import { PoolCore } from "./core.ts"
import { DeadlockWatch, watch as watchDeadlocks } from "./deadlock.ts"

const workerError = (reason: WorkerError["reason"]) => new WorkerError({ reason })

/** An execution's outcome from its job's result. */
const outcomeOf = (job: Job, result: JobResult): ChunkOutcome => {
  if (result._tag === "Error") {
    const error = workerError(result.reason)
    return result.reason._tag === "WorkerCrashed" ? { _tag: "Crashed", error, item: result.crashedItem } : { _tag: "Failed", error }
  }
  const reply = result.reply
  const elapsed = reply.elapsed
  if (reply.outcomes !== undefined) return { _tag: "Exits", exits: reply.outcomes, elapsed }
  if (!job.wire.chunk) {
    // the worker always answers a single task with its outcome; without one, say so as the task's failure
    const outcome = reply.outcome ?? { _tag: "Defect", defect: toWireDefect(new Error("a single task's reply had no outcome")) }
    return { _tag: "Exits", exits: [outcome], elapsed }
  }
  return { _tag: "Values", values: reply.values ?? [], stop: reply.outcome, elapsed }
}

/**
 * Builds the local executor on a backend within the current scope: workers start at once, in parallel;
 * closing the scope interrupts every task and ends every worker before it finishes closing (R3).
 */
export const makeLocal = (
  backend: Backend,
  options: PoolOptions | undefined
): Effect.Effect<Executor, WorkerError, Scope.Scope> =>
  Effect.gen(function*() {
    const resolved = yield* orFail(resolveOptions(options))
    const refused = refuseInWorker(options)
    if (refused !== undefined) return yield* Effect.fail(refused)
    // a shared object in a payload travels with its memory to threads, as a reference to the parent to processes
    const codec = backend.name === "processes" ? codecsWithin(codecOf, (encode) => encodingFor(false, encode)) : codecOf
    let initializer: { readonly task: TaskRef; readonly payload: unknown } | undefined
    if (resolved.initializer !== undefined) {
      const { task, payload } = resolved.initializer
      const encoded = codec(task).encodePayload(payload)
      if (!encoded.ok) {
        return yield* orFail(invalid("initializer", `the initializer's payload does not match its schema: ${encoded.issue.message}`))
      }
      initializer = { task, payload: encoded.value }
    }
    const core = new PoolCore(backend, resolved, initializer)
    yield* Effect.acquireRelease(
      Effect.sync(() => core.start()),
      () => Effect.callback<void>((resume) => core.close(() => resume(Effect.void)))
    )
    // deadlock detection samples the workers' waits off the task path; the in-process pool cannot see its waits
    const deadlocks = resolved.deadlockTimeoutMillis === undefined || backend.name === "in-process"
      ? undefined
      : new DeadlockWatch(resolved.size, resolved.deadlockTimeoutMillis)
    if (deadlocks !== undefined) yield* Effect.forkScoped(watchDeadlocks(core, resolved, deadlocks))

    /** Interrupting the wait interrupts the job, and returns once it has stopped. */
    const stop = (job: Job) => Effect.callback<void>((resume) => core.interrupt(job, () => resume(Effect.void)))

    /** Waits for a submitted job's outcome, and concludes. */
    const awaitJob = <A, E>(job: Job, execution: Execution, conclude: Conclude<A, E>): Effect.Effect<A, E> =>
      Effect.callback<A, E>((resume) => {
        if (job.result !== undefined) return resume(conclude(outcomeOf(job, job.result), execution))
        job.onResult = (result) => resume(conclude(outcomeOf(job, result), execution))
        return stop(job)
      })

    return {
      backend: backend.name,
      size: resolved.size,
      codec,
      execute: <A, E>(execution: Execution, conclude: Conclude<A, E>) =>
        Effect.callback<A, E>((resume) => {
          const job = core.makeJob(execution)
          job.onResult = (result) => resume(conclude(outcomeOf(job, result), execution))
          core.submit(job)
          return stop(job)
        }),
      admit: <A, E>(execution: Execution, conclude: Conclude<A, E>) =>
        Effect.callback<Effect.Effect<A, E>>((resume) => {
          const job = core.makeJob(execution)
          job.onAdmit = () => resume(Effect.succeed(awaitJob(job, execution, conclude)))
          core.submit(job)
          return stop(job)
        }),
      chunkSize: (task, remaining) => core.policy.chunkSize(task, remaining, resolved.size),
      stats: () => (deadlocks?.current === undefined ? core.stats() : { ...core.stats(), deadlock: deadlocks.peek(core.waits()) }),
      awaitReady: Effect.callback<void, WorkerError>((resume) => {
        const cancel = core.awaitReady(() => {
          const failure = core.failure()
          resume(failure === undefined ? Effect.void : Effect.fail(workerError(failure)))
        })
        return Effect.sync(cancel)
      })
    } satisfies Executor
  })
